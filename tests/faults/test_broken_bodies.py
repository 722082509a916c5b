"""Issue 10, hole 1: a body whose chunked framing breaks after some events ends at once.

aiohttp closes the connection on a chunk size that is not hex or a chunk longer than
declared, but never ends the body: the stream used to wait for its idle timeout. Every
reader of a body (event streams, JSON bodies, error bodies, ``ox.from_aiohttp``) must now end
with a typed :class:`~oxide_rx.StreamTruncatedError` that keeps what arrived. The idle
timeout is set far beyond the hang guard, so only a prompt end passes.
"""

from __future__ import annotations

import asyncio

import aiohttp
import msgspec
import pytest
from rawsocket import (
    RawServer,
    chat_text,
    chunk,
    event,
    head,
    respond,
    responses_text,
    sse_head,
)
from runs import HANG, MESSAGES, chat_json, chat_stream, responses_stream

import oxide_rx as ox
from oxide_rx.types.chat import ChatCompletionChunk

SLOW = ox.Timeout(connect=2, headers=60, idle=60)
"""Deadlines longer than the hang guard: a broken body must end by itself, not by these."""

HELLO = chunk(event(chat_text("Hel"))) + chunk(event(chat_text("lo")))

BROKEN_FRAMING = {
    "chunk size is not hex": b"zz\r\nabc\r\n",
    "chunk longer than declared": b"3\r\nabcdef\r\n",
    "no CRLF after the chunk data": b"3\r\nabcXX",
    "negative chunk size": b"-5\r\nabcde\r\n",
    "chunk size overflows": b"f" * 20 + b"\r\nab\r\n",
    "chunk size line is binary": b"\x00\xff\r\n",
}


@pytest.mark.parametrize("then", ["hold", "close"])
@pytest.mark.parametrize("framing", sorted(BROKEN_FRAMING))
async def test_broken_chunk_framing_mid_stream_ends_at_once_keeping_the_text(
    framing: str, then: str
) -> None:
    gate = asyncio.Event()
    handler = respond(sse_head() + HELLO, BROKEN_FRAMING[framing], gate=gate,
                      then=then)  # type: ignore[arg-type]
    outcome = await chat_stream(handler, gate=gate, timeout=SLOW)
    assert isinstance(outcome.error, ox.StreamTruncatedError), outcome.error
    assert outcome.text == "Hello"
    assert outcome.partial_text == "Hello"
    assert outcome.requests == 1


async def test_broken_framing_in_a_responses_stream_keeps_the_partial_response() -> None:
    events = responses_text(["Hel", "lo", " world"])[:6]  # up to the second delta
    body = b"".join(chunk(event(e)) for e in events)
    gate = asyncio.Event()
    outcome = await responses_stream(respond(sse_head() + body, b"zz\r\n", gate=gate,
                                             then="hold"), gate=gate, timeout=SLOW)
    assert isinstance(outcome.error, ox.StreamTruncatedError), outcome.error
    assert outcome.text == "Hello"
    assert outcome.partial_text == "Hello"
    assert outcome.requests == 1


# A non-streaming body has no event to wait for: the halves are only paced apart. Arriving
# together they fail the request itself (typed, not retried), apart they fail the body read.
PACE = 0.05


async def test_broken_framing_in_a_json_body_is_a_prompt_typed_error() -> None:
    body = msgspec.json.encode({"id": "x", "object": "chat.completion", "choices": []})
    json_head = head(200, {"Content-Type": "application/json", "Transfer-Encoding": "chunked"})
    outcome = await chat_json(respond(json_head + chunk(body[:10]), b"zz\r\n", gate=PACE,
                                      then="hold"), timeout=SLOW)
    assert isinstance(outcome.error, ox.APIConnectionError), outcome.error
    assert outcome.requests == 1


async def test_an_error_body_with_broken_framing_is_a_prompt_typed_error() -> None:
    error = b'{"error": {"message": "Slow down", "type": "rate_limit", "code": "rate"}}'
    error_head = head(400, {"Content-Type": "application/json", "Transfer-Encoding": "chunked"})
    outcome = await chat_stream(respond(error_head + chunk(error), b"zz\r\n", gate=PACE,
                                        then="hold"), timeout=SLOW)
    assert isinstance(outcome.error, (ox.BadRequestError, ox.APIConnectionError)), outcome.error
    if isinstance(outcome.error, ox.BadRequestError):  # the halves came apart: body read
        assert "Slow down" in str(outcome.error)
    assert outcome.requests == 1


async def test_from_aiohttp_ends_at_once_on_broken_framing_after_events() -> None:
    gate = asyncio.Event()
    server = RawServer(respond(sse_head() + HELLO, b"zz\r\n", gate=gate, then="hold"))
    async with server, aiohttp.ClientSession() as session:
        response = await session.post(f"{server.base_url}/chat/completions",
                                      json={"messages": MESSAGES})
        accumulator = ox.ChatCompletionAccumulator()
        ended: asyncio.Future[BaseException | None] = asyncio.get_running_loop().create_future()

        def on_delta(_: object) -> None:
            gate.set()

        ox.from_aiohttp(response).pipe(
            ox.ops.parse_sse(), ox.ops.decode(ChatCompletionChunk),
            ox.ops.accumulate_chat(accumulator), ox.ops.of_type(ox.ContentDelta),
        ).subscribe(on_delta, ended.set_result, lambda: ended.set_result(None))
        error = await asyncio.wait_for(ended, HANG)
    assert isinstance(error, ox.StreamTruncatedError)
    assert accumulator.current_content() == "Hello"
    assert len(server.requests) == 1
