"""A body that ends early is an error that keeps what arrived; nothing delivered is lost."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import pytest
from support import ClientFactory

import oxide_rx as ox
from oxide_rx.testing import Fault, MockServer, Scenario
from oxide_rx.types.chat import ChatCompletionChunk

MESSAGES = [{"role": "user", "content": "Say hi."}]
TEXT = "The quick brown fox jumps over the lazy dog, twice over."


@pytest.fixture
def client(make_client: ClientFactory) -> ox.OpenAI:
    """No retries: each test's fault is met once."""
    return make_client(max_retries=0)


async def _chat_until_error(
    server: MockServer, client: ox.OpenAI, fault: Fault
) -> tuple[ox.ChatStream, list[str], BaseException]:
    """Run a chat stream with ``fault``; the deltas seen and the error it ended with."""
    server.enqueue(Scenario.text(TEXT, fault=fault))
    stream = await client.chat.completions.create_stream(model="m", messages=MESSAGES)
    deltas: list[str] = []
    stream.on(ox.ContentDelta, lambda e: deltas.append(e.delta))
    with pytest.raises(ox.OxideRxError) as info:
        await asyncio.wait_for(stream.final_completion(), 10)
    await stream.aclose()
    return stream, deltas, info.value


async def test_clean_eof_before_done_and_finish_is_a_truncation_with_the_partial(
    server: MockServer, client: ox.OpenAI
) -> None:
    stream, deltas, error = await _chat_until_error(server, client, Fault.truncate(after=5))
    assert isinstance(error, ox.StreamTruncatedError)
    assert deltas
    assert error.partial.choices[0].message.content == "".join(deltas)
    assert stream.current_content() == "".join(deltas)
    assert stream.error is error


async def test_eof_after_the_finish_reason_but_before_done_still_completes(
    server: MockServer, client: ox.OpenAI
) -> None:
    server.enqueue(Scenario.text(TEXT, fault=Fault.truncate()))
    stream = await client.chat.completions.create_stream(model="m", messages=MESSAGES)
    completion = await asyncio.wait_for(stream.final_completion(), 10)
    assert completion.choices[0].message.content == TEXT
    assert completion.choices[0].finish_reason == "stop"


async def test_a_dropped_connection_is_a_connection_error_keeping_the_partial(
    server: MockServer, client: ox.OpenAI
) -> None:
    stream, deltas, error = await _chat_until_error(server, client, Fault.drop_after(6))
    assert isinstance(error, ox.APIConnectionError)
    assert isinstance(error, ox.StreamTruncatedError)
    assert deltas
    assert error.partial.choices[0].message.content == "".join(deltas)
    assert stream.current_content() == "".join(deltas)


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
async def test_nothing_delivered_is_lost_whatever_the_chunking(
    server: MockServer, client: ox.OpenAI, seed: int
) -> None:
    fault = Fault.drop_after(3 + seed) | Fault.chunking(("random", seed))
    stream, deltas, error = await _chat_until_error(server, client, fault)
    assert isinstance(error, ox.APIConnectionError)
    assert TEXT.startswith("".join(deltas))
    assert error.partial.choices[0].message.content == "".join(deltas)
    assert stream.current_content() == "".join(deltas)


async def test_async_for_yields_every_event_then_raises_the_truncation(
    server: MockServer, client: ox.OpenAI
) -> None:
    server.enqueue(Scenario.text(TEXT, fault=Fault.drop_after(5)))
    stream = await client.chat.completions.create_stream(model="m", messages=MESSAGES)
    seen: list[Any] = []
    with pytest.raises(ox.APIConnectionError):
        async for event in stream:
            seen.append(event)
    await stream.aclose()
    text = "".join(e.delta for e in seen if isinstance(e, ox.ContentDelta))
    assert text
    assert text == stream.current_content()


async def test_a_dropped_connection_is_reported_to_rx_subscribers(
    server: MockServer, client: ox.OpenAI
) -> None:
    server.enqueue(Scenario.text(TEXT, fault=Fault.drop_after(4)))
    stream = await client.chat.completions.create_stream(model="m", messages=MESSAGES)
    errors: list[Exception] = []
    stream.events.subscribe(on_error=errors.append)
    with pytest.raises(ox.APIConnectionError):
        await stream.until_done()
    await stream.aclose()
    assert len(errors) == 1
    assert isinstance(errors[0], ox.StreamTruncatedError)


async def test_responses_eof_before_a_terminal_event_keeps_the_partial_response(
    server: MockServer, client: ox.OpenAI
) -> None:
    server.enqueue(Scenario.text(TEXT, fault=Fault.truncate()))
    stream = await client.responses.create_stream(model="m", input="hi")
    deltas: list[str] = []
    stream.on(ox.ContentDelta, lambda e: deltas.append(e.delta))
    with pytest.raises(ox.StreamTruncatedError) as info:
        await asyncio.wait_for(stream.final_response(), 10)
    await stream.aclose()
    assert "".join(deltas) == TEXT
    assert stream.current_content() == TEXT
    assert isinstance(info.value.partial, ox.types.responses.Response)


async def test_responses_dropped_mid_body_keeps_what_arrived(
    server: MockServer, client: ox.OpenAI
) -> None:
    server.enqueue(Scenario.text(TEXT, fault=Fault.drop_after(7)))
    stream = await client.responses.create_stream(model="m", input="hi")
    deltas: list[str] = []
    stream.on(ox.ContentDelta, lambda e: deltas.append(e.delta))
    with pytest.raises(ox.APIConnectionError):
        await asyncio.wait_for(stream.final_response(), 10)
    await stream.aclose()
    assert deltas
    assert stream.current_content() == "".join(deltas)


async def test_a_stream_started_after_the_drop_still_gets_what_arrived(
    server: MockServer, client: ox.OpenAI
) -> None:
    server.enqueue(Scenario.text(TEXT, fault=Fault.drop_after(6)))
    stream = await client.chat.completions.create_stream(model="m", messages=MESSAGES)
    # The events and the broken connection arrive unread: the server has sent them all
    # and dropped its end before anything reads.
    await server.wait_for_open_connections(0)
    assert not stream.started
    with pytest.raises(ox.StreamTruncatedError):
        await asyncio.wait_for(stream.final_completion(), 10)
    await stream.aclose()
    # Event 0 is the role chunk; the next five carry 4-character deltas.
    assert stream.current_content() == TEXT[:20]


async def test_from_aiohttp_delivers_what_arrived_before_a_drop(server: MockServer) -> None:
    async with aiohttp.ClientSession() as session:
        server.enqueue(Scenario.text(TEXT, fault=Fault.drop_after(6)))
        body = {"model": "m", "messages": MESSAGES, "stream": True}
        response = await session.post(server.base_url + "/chat/completions", json=body)
        await server.wait_for_open_connections(0)  # all sent, then dropped, before any read
        accumulator = ox.ChatCompletionAccumulator()
        deltas: list[str] = []
        errors: list[Exception] = []
        ended = asyncio.Event()

        def on_error(error: Exception) -> None:
            errors.append(error)
            ended.set()

        ox.from_aiohttp(response).pipe(
            ox.ops.parse_sse(),
            ox.ops.decode(ChatCompletionChunk),
            ox.ops.accumulate_chat(accumulator),
            ox.ops.of_type(ox.ContentDelta),
        ).subscribe(lambda e: deltas.append(e.delta), on_error, ended.set)
        await asyncio.wait_for(ended.wait(), 5)
    assert [type(e) for e in errors] == [ox.StreamTruncatedError]
    assert "".join(deltas) == TEXT[:20]
    assert accumulator.current_content() == TEXT[:20]
