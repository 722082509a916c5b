"""Issue 10, hole 2: a request the server has answered is never sent again.

When the head, some events and a framing error arrive in one network read (or a
Content-Length shorter than the body leaves bytes aiohttp parses as a next response),
aiohttp raises from the request itself; that used to be retried, re-running a paid
generation. Only failures before any answer (refused, closed or reset before a byte, a
timeout) are retried. Every case runs with ``max_retries=2`` and counts the requests the
server read.
"""

from __future__ import annotations

import pytest
from rawsocket import chat_done, chat_text, chunk, event, head, respond, sse_head
from runs import chat_json, chat_stream

import oxide_rx as ox

HELLO = chunk(event(chat_text("Hel"))) + chunk(event(chat_text("lo")))
HELLO_PLAIN = event(chat_text("Hel")) + event(chat_text("lo"))
JSON = (b'{"id":"x","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,'
        b'"message":{"role":"assistant","content":"hey"},"finish_reason":"stop"}]}')

ANSWERED_BUT_BROKEN = {
    "head, events and a non-hex chunk size in one read": sse_head() + HELLO + b"zz\r\n",
    "head, events and an over-long chunk in one read": sse_head() + HELLO + b"3\r\nabcdef\r\n",
    "Content-Length shorter than the body": sse_head("length", 20) + HELLO_PLAIN,
    "a status line that is not HTTP": b"HTTP/1.1 abc OK\r\n\r\n",
    "not HTTP at all": b"hello, world\r\n\r\n",
    "two different Content-Lengths": head(200, [("Content-Length", "5"),
                                                ("Content-Length", "7")]) + b"abcde",
    "Content-Length and Transfer-Encoding": head(200, [("Content-Length", "5"),
                                                       ("Transfer-Encoding", "chunked")]),
    "a header over 8 KiB": head(200, {"X-Big": "a" * 10_000}),
    "two hundred headers": head(200, [(f"X-{i}", "v") for i in range(200)]),
    "a content encoding aiohttp cannot decode": sse_head(extra={"Content-Encoding": "zstd"})
    + chunk(b"(\xb5/\xfd\x00\x00") + chunk(b""),
}


@pytest.mark.parametrize("case", sorted(ANSWERED_BUT_BROKEN))
async def test_an_answered_request_is_not_sent_again(case: str) -> None:
    outcome = await chat_stream(respond(ANSWERED_BUT_BROKEN[case], then="hold"), max_retries=2)
    assert isinstance(outcome.error, ox.APIConnectionError), outcome.error
    assert outcome.error.retries == 0
    assert outcome.requests == 1
    if "chunk" in case:  # a head came first: the body broke, as far as one read shows
        assert isinstance(outcome.error, ox.StreamTruncatedError), outcome.error


async def test_a_non_streaming_request_answered_with_broken_framing_is_not_sent_again() -> None:
    reply = head(200, {"Content-Type": "application/json", "Content-Length": "20"}) + JSON
    outcome = await chat_json(respond(reply, then="hold"), max_retries=2)
    assert isinstance(outcome.error, ox.APIConnectionError), outcome.error
    assert outcome.requests == 1


NOT_ANSWERED = {
    "closed before a byte": (b"", "close"),
    "reset before a byte": (b"", "reset"),
    "closed in the status line": (b"HTTP/1.1 20", "close"),
    "closed in the headers": (b"HTTP/1.1 200 OK\r\nContent-Ty", "close"),
    "reset in the headers": (b"HTTP/1.1 200 OK\r\nContent-Ty", "reset"),
    "closed after 100 Continue": (head(100, {}, "Continue"), "close"),
}


@pytest.mark.parametrize("case", sorted(NOT_ANSWERED))
async def test_a_request_that_got_no_response_head_is_retried(case: str) -> None:
    reply, then = NOT_ANSWERED[case]
    outcome = await chat_stream(respond(reply, then=then), max_retries=1)  # type: ignore[arg-type]
    assert isinstance(outcome.error, ox.APIConnectionError), outcome.error
    assert not isinstance(outcome.error, ox.APITimeoutError)
    assert outcome.error.retries == 1
    assert outcome.requests == 2


async def test_a_stream_broken_after_its_head_is_never_sent_again() -> None:
    outcome = await chat_stream(respond(sse_head() + HELLO, then="reset"), max_retries=2)
    assert isinstance(outcome.error, ox.StreamTruncatedError), outcome.error
    assert outcome.requests == 1


async def test_informational_heads_before_the_answer_are_skipped() -> None:
    answer = sse_head() + HELLO + chunk(event(chat_text("", "stop"))) + chunk(chat_done())
    reply = head(100, {}, "Continue") + head(103, {"Link": "</a>"}, "Early Hints") + answer
    outcome = await chat_stream(respond(reply + chunk(b"")), max_retries=2)
    assert outcome.error is None
    assert outcome.result.choices[0].message.content == "Hello"
    assert outcome.requests == 1


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
async def test_a_redirect_is_an_error_and_is_not_followed(status: int) -> None:
    reply = head(status, {"Location": "http://127.0.0.1:9/elsewhere", "Content-Length": "0"})
    outcome = await chat_stream(respond(reply), max_retries=2)
    assert isinstance(outcome.error, ox.APIStatusError), outcome.error
    assert outcome.error.status_code == status
    assert "redirects are not followed" in str(outcome.error)
    assert outcome.requests == 1


@pytest.mark.parametrize("status", [101, 204, 205, 304])
async def test_a_stream_request_answered_without_a_body_is_a_typed_error(status: int) -> None:
    outcome = await chat_stream(respond(head(status, {}, "X")), max_retries=2)
    assert isinstance(outcome.error, ox.OxideRxError), outcome.error
    assert f"{status}" in str(outcome.error)
    assert outcome.requests == 1


async def test_a_stalled_error_body_does_not_hold_the_retry_for_the_idle_timeout(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The cap is 10 s; shortened here so the test does not sit through it.
    monkeypatch.setattr("oxide_rx._transport.bodies.ERROR_BODY_SECONDS", 0.2)
    stalled = head(503, {"Content-Type": "application/json", "Content-Length": "100",
                         "retry-after-ms": "1"}) + b'{"error": {"mess'
    outcome = await chat_stream(respond(stalled, then="hold"), max_retries=1,
                                timeout=ox.Timeout(headers=60, idle=60))
    assert isinstance(outcome.error, ox.InternalServerError), outcome.error
    assert outcome.error.status_code == 503
    assert outcome.requests == 2
