"""Issue 10, holes 3 and 4: every error that ends a stream keeps what arrived.

Over raw sockets: a malformed or non-JSON payload after two events is a ``DecodeError``
whose ``.partial`` holds the text; an oversized event after two good ones *in the same
network read* delivers the two, then fails with an ``SSEError`` carrying the partial
(through the client's stream and through ``ox.ops.parse_sse`` over ``ox.from_aiohttp``).
A non-JSON WebSocket frame, over a real WebSocket server, is the same ``DecodeError``.
"""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import msgspec
import pytest
from rawsocket import RawServer, chat_text, chunk, event, respond, responses_text, sse_head
from runs import HANG, MESSAGES, chat_stream, responses_stream

import oxide_rx as ox
from oxide_rx.types.chat import ChatCompletionChunk

HELLO = chunk(event(chat_text("Hel"))) + chunk(event(chat_text("lo")))
LIMIT = 4096

BAD_PAYLOADS = {
    "malformed JSON": b'{"id": "chatcmpl-raw", "choices": [',
    "not JSON at all": b"hello world",
    "a NUL byte": b'{"a\x00": 1}',
    "JSON of the wrong shape": b'{"choices": "many"}',
}


@pytest.mark.parametrize("one_read", [True, False])
@pytest.mark.parametrize("payload", sorted(BAD_PAYLOADS))
async def test_a_bad_payload_after_two_events_is_a_decode_error_with_the_text(
    payload: str, one_read: bool
) -> None:
    gate = None if one_read else asyncio.Event()
    bad = chunk(event(BAD_PAYLOADS[payload]))
    outcome = await chat_stream(respond(sse_head() + HELLO, bad, gate=gate, then="hold"),
                                gate=gate)
    assert isinstance(outcome.error, ox.DecodeError), outcome.error
    assert outcome.text == "Hello"
    assert outcome.partial_text == "Hello"
    assert outcome.requests == 1


async def test_a_non_json_responses_event_is_a_decode_error_with_the_partial_response() -> None:
    body = b"".join(chunk(event(e)) for e in responses_text(["Hel", "lo"])[:6])
    outcome = await responses_stream(respond(sse_head() + body + chunk(event(b"nope")),
                                             then="hold"))
    assert isinstance(outcome.error, ox.DecodeError), outcome.error
    assert outcome.partial_text == "Hello" == outcome.text
    assert outcome.requests == 1


async def test_invalid_utf8_in_a_text_delta_becomes_replacement_characters() -> None:
    bad = chunk(event(b'{"choices": [{"index": 0, "delta": {"content": "\xff!"}}]}'))
    end = chunk(event(chat_text("", "stop"))) + chunk(b"data: [DONE]\n\n") + chunk(b"")
    outcome = await chat_stream(respond(sse_head() + HELLO + bad + end))
    assert outcome.error is None
    assert outcome.result.choices[0].message.content == "Hello\ufffd!"


def _oversized() -> bytes:
    return chunk(b"data: " + b"x" * (2 * LIMIT) + b"\n\n")


async def test_events_before_an_oversized_one_in_the_same_read_are_delivered() -> None:
    outcome = await chat_stream(respond(sse_head() + HELLO + _oversized(), then="hold"),
                                max_event_size=LIMIT)
    assert isinstance(outcome.error, ox.SSEError), outcome.error
    assert outcome.text == "Hello"
    assert outcome.partial_text == "Hello"
    assert outcome.requests == 1


async def test_an_endless_line_after_events_is_an_sse_error_with_the_partial() -> None:
    endless = chunk(b"data: " + b"y" * (LIMIT // 2)) + chunk(b"y" * LIMIT)
    outcome = await chat_stream(respond(sse_head() + HELLO + endless, then="hold"),
                                max_event_size=LIMIT)
    assert isinstance(outcome.error, ox.SSEError), outcome.error
    assert outcome.partial_text == "Hello" == outcome.text


async def test_parse_sse_over_from_aiohttp_delivers_events_before_an_oversized_one() -> None:
    server = RawServer(respond(sse_head() + HELLO + _oversized(), then="hold"))
    async with server, aiohttp.ClientSession() as session:
        response = await session.post(f"{server.base_url}/chat/completions",
                                      json={"messages": MESSAGES})
        accumulator = ox.ChatCompletionAccumulator()
        deltas: list[str] = []
        ended: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        ox.from_aiohttp(response).pipe(
            ox.ops.parse_sse(max_event_size=LIMIT), ox.ops.decode(ChatCompletionChunk),
            ox.ops.accumulate_chat(accumulator), ox.ops.of_type(ox.ContentDelta),
        ).subscribe(lambda e: deltas.append(e.delta), ended.set_result,
                    lambda: ended.set_result(None))
        error = await asyncio.wait_for(ended, HANG)
    assert isinstance(error, ox.SSEError)
    assert "".join(deltas) == "Hello" == accumulator.current_content()
    assert error.partial.choices[0].message.content == "Hello"


async def test_a_non_json_websocket_frame_is_a_decode_error_with_the_partial() -> None:
    # A real WebSocket server on 127.0.0.1 (aiohttp's): two good events, then a frame that
    # is not JSON.
    from aiohttp import web

    async def responses(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        await ws.receive()  # response.create
        for item in responses_text(["Hel", "lo", "!"])[:6]:
            await ws.send_str(msgspec.json.encode(item).decode())
        await ws.send_str("this is not JSON")
        await ws.receive()  # until the client goes
        return ws

    app = web.Application()
    app.router.add_get("/v1/responses", responses)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        async with ox.OpenAI(api_key="sk-test", base_url=f"http://127.0.0.1:{port}/v1") as client:
            connection = await client.responses.connect()
            async with connection:
                stream = await connection.create_stream(model="m", input="hi")
                with pytest.raises(ox.DecodeError) as info:
                    await asyncio.wait_for(stream.final_response(), HANG)
    finally:
        await runner.cleanup()
    assert info.value.partial.output_text == "Hello"
    assert stream.current_content() == "Hello"
