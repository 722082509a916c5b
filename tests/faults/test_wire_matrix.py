"""A hostile server, phase by phase: every early close, slow heads and bodies, lying framing.

A complete valid answer is cut at every offset and the connection closed there: before the
head is complete the request is retried (it was never answered); after it, the stream ends
with ``StreamTruncatedError`` keeping exactly the text that arrived; after the terminal
marker, it completes. Then slowloris heads and bodies, and the same checks for the Responses
API and for non-streaming requests.
"""

from __future__ import annotations

import asyncio
import gzip
from typing import Any

import msgspec
import pytest
from rawsocket import (
    RawConnection,
    chat_done,
    chat_text,
    chunk,
    event,
    head,
    respond,
    responses_text,
    sse_head,
)
from runs import chat_json, chat_stream, responses_stream

import oxide_rx as ox

WORDS = ["Every ", "fault ", "typed."]
CHAT_BODY = b"".join(chunk(event(chat_text(w))) for w in WORDS) + chunk(
    event(chat_text("", "stop"))) + chunk(chat_done()) + chunk(b"")
CHAT = sse_head() + CHAT_BODY
HEAD_END = len(sse_head())
TERMINAL = CHAT.index(b"[DONE]")  # the answer is complete once "finish_reason" is in


def _offsets(length: int, step: int) -> list[int]:
    return sorted({*range(0, length, step), HEAD_END - 1, HEAD_END, HEAD_END + 1, length - 1})


@pytest.mark.parametrize("cut", _offsets(len(CHAT), 23))
async def test_a_close_at_any_offset_is_retried_truncated_or_complete(cut: int) -> None:
    outcome = await chat_stream(respond(CHAT[:cut]), max_retries=1)
    if cut < HEAD_END:  # no complete head: never answered, so retried, then typed
        assert isinstance(outcome.error, ox.APIConnectionError), outcome.error
        assert outcome.requests == 2
        return
    assert outcome.requests == 1
    if outcome.error is None:  # the finish_reason arrived: complete even without [DONE]
        assert outcome.result.choices[0].message.content == "".join(WORDS)
        assert cut > CHAT.index(b'"stop"')
        return
    assert isinstance(outcome.error, ox.StreamTruncatedError), outcome.error
    assert outcome.partial_text == outcome.text
    assert "".join(WORDS).startswith(outcome.text)


@pytest.mark.parametrize("cut", _offsets(len(CHAT), 61))
async def test_a_reset_at_any_offset_ends_typed_and_keeps_what_arrived(cut: int) -> None:
    outcome = await chat_stream(respond(CHAT[:cut], then="reset"), max_retries=1)
    assert outcome.error is None or isinstance(outcome.error, ox.APIConnectionError)
    assert 1 <= outcome.requests <= 2
    if outcome.error is not None and outcome.partial_text is not None:
        assert outcome.partial_text == outcome.text


RESPONSES = sse_head() + b"".join(chunk(event(e)) for e in responses_text(WORDS)) + chunk(b"")


@pytest.mark.parametrize("cut", _offsets(len(RESPONSES), 97))
async def test_a_responses_stream_closed_at_any_offset(cut: int) -> None:
    outcome = await responses_stream(respond(RESPONSES[:cut]), max_retries=1)
    if cut < HEAD_END:
        assert isinstance(outcome.error, ox.APIConnectionError)
        assert outcome.requests == 2
    elif outcome.error is None:
        assert outcome.result.output_text == "".join(WORDS)
    else:
        assert isinstance(outcome.error, ox.StreamTruncatedError), outcome.error
        assert outcome.partial_text == outcome.text
        assert outcome.requests == 1


def _trickle(data: bytes, pause: float, then_hold: bool = True, first: bytes = b"") -> Any:
    """Send ``first``, then ``data`` a few bytes at a time, ``pause`` seconds apart (a
    slowloris server)."""

    async def handler(conn: RawConnection) -> None:
        if await conn.request() is None:
            return
        conn.send(first)
        for start in range(0, len(data), 4):
            conn.send(data[start:start + 4])
            await conn.flush()
            await asyncio.sleep(pause)
        if then_hold:
            await conn.wait_closed_by_client()
        conn.close()

    return handler


async def test_a_slowloris_head_hits_the_headers_deadline() -> None:
    outcome = await chat_stream(_trickle(sse_head() + b"x" * 400, 0.02),
                                timeout=ox.Timeout(headers=0.3, idle=30))
    assert isinstance(outcome.error, ox.APITimeoutError), outcome.error
    assert outcome.partial_text is None  # no stream had started


async def test_a_slowloris_body_that_never_completes_an_event_hits_the_idle_deadline() -> None:
    never_ends = chunk(b"data: " + b"z" * 400)
    outcome = await chat_stream(_trickle(never_ends, 0.01,
                                         first=sse_head() + chunk(event(chat_text("Hi")))),
                                timeout=ox.Timeout(headers=5, idle=0.3))
    assert isinstance(outcome.error, ox.APITimeoutError), outcome.error
    assert outcome.partial_text == "Hi" == outcome.text


async def test_a_slow_but_steady_stream_is_not_cut() -> None:
    outcome = await chat_stream(_trickle(CHAT, 0.001, then_hold=False),
                                timeout=ox.Timeout(headers=5, idle=2))
    assert outcome.error is None, outcome.error
    assert outcome.result.choices[0].message.content == "".join(WORDS)


GZIPPED = gzip.compress(b"".join(event(chat_text(w)) for w in WORDS))

ENCODINGS = {
    "gzip that is not gzip": (b"this is not gzip", ox.StreamTruncatedError),
    "gzip cut short": (GZIPPED[: len(GZIPPED) // 2], ox.StreamTruncatedError),
    "gzip with trailing junk": (GZIPPED + b"junk", ox.StreamTruncatedError),
}


@pytest.mark.parametrize("case", sorted(ENCODINGS))
async def test_broken_gzip_is_a_typed_error(case: str) -> None:
    body, expected = ENCODINGS[case]
    reply = sse_head(extra={"Content-Encoding": "gzip"}) + chunk(body) + chunk(b"")
    outcome = await chat_stream(respond(reply, then="hold"), max_retries=1)
    assert isinstance(outcome.error, expected), outcome.error
    assert outcome.requests == 1
    assert outcome.partial_text == outcome.text


async def test_valid_gzip_streams() -> None:
    body = gzip.compress(b"".join(event(chat_text(w)) for w in WORDS)
                         + event(chat_text("", "stop")) + chat_done())
    reply = sse_head(extra={"Content-Encoding": "gzip"}) + chunk(body) + chunk(b"")
    outcome = await chat_stream(respond(reply))
    assert outcome.error is None, outcome.error
    assert outcome.result.choices[0].message.content == "".join(WORDS)


JSON = msgspec.json.encode({"id": "c", "object": "chat.completion", "created": 1, "model": "m",
                            "choices": [{"index": 0, "finish_reason": "stop", "message": {
                                "role": "assistant", "content": "hey"}}]})
JSON_HEAD = head(200, {"Content-Type": "application/json", "Content-Length": str(len(JSON))})
NON_STREAMING = {
    "a Content-Length longer than the body, then close": (
        head(200, {"Content-Type": "application/json", "Content-Length": "9999"}) + JSON,
        ox.StreamTruncatedError),
    "an HTML page": (head(200, {"Content-Type": "text/html", "Content-Length": "13"})
                     + b"<html></html>", ox.DecodeError),
    "an empty 200": (head(200, {"Content-Length": "0"}), ox.DecodeError),
    "JSON cut in the middle": (head(200, {"Content-Type": "application/json",
                                          "Content-Length": "20"}) + JSON[:20], ox.DecodeError),
    "gzip that is not gzip": (head(200, {"Content-Type": "application/json",
                                         "Content-Encoding": "gzip",
                                         "Content-Length": "7"}) + b"notgzip",
                              ox.StreamTruncatedError),
    "a 500 with an HTML body": (head(500, {"Content-Type": "text/html", "Content-Length": "5"})
                                + b"oops!", ox.InternalServerError),
}


@pytest.mark.parametrize("case", sorted(NON_STREAMING))
async def test_non_streaming_faults_are_typed(case: str) -> None:
    reply, expected = NON_STREAMING[case]
    outcome = await chat_json(respond(reply))
    assert isinstance(outcome.error, expected), outcome.error


async def test_a_valid_non_streaming_answer_after_informational_heads() -> None:
    reply = head(100, {}, "Continue") + JSON_HEAD + JSON
    outcome = await chat_json(respond(reply))
    assert outcome.error is None, outcome.error
    assert outcome.result.choices[0].message.content == "hey"
