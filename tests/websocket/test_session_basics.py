"""The Responses API over a persistent WebSocket, against the mock's WebSocket mode."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from support import until_metrics

import oxide_rx as ox
from oxide_rx.testing import Fault, MockServer, Scenario
from oxide_rx.types import responses as rt


async def test_one_connection_streams_several_responses_in_turn(
    server: MockServer, client: ox.OpenAI
) -> None:
    server.enqueue(Scenario.text("First answer."), Scenario.text("Second answer."))
    async with await client.responses.connect() as connection:
        first = await connection.create_stream(model="m", input="one")
        deltas: list[str] = []
        first.on(ox.ContentDelta, lambda e: deltas.append(e.delta))
        first_response = await first.final_response()
        second = await connection.create_stream(
            model="m", input="two", previous_response_id=first_response.id
        )
        second_response = await second.final_response()
    assert "".join(deltas) == first_response.output_text == "First answer."
    assert second_response.output_text == "Second answer."
    websocket_requests = [r for r in server.requests if r.method == "GET"]
    assert len(websocket_requests) == 1  # one upgrade, two responses


async def test_websocket_stream_speaks_the_same_events_as_sse(
    server: MockServer, client: ox.OpenAI
) -> None:
    server.enqueue(Scenario.function_calls([("get_weather", '{"city": "Paris"}')]))
    async with await client.responses.connect() as connection:
        stream = await connection.create_stream(model="m", input="weather?")
        over_ws = until_metrics([e async for e in stream])
    server.enqueue(Scenario.function_calls([("get_weather", '{"city": "Paris"}')]))
    sse_stream = await client.responses.create_stream(model="m", input="weather?")
    over_sse = until_metrics([e async for e in sse_stream])

    def shape(events: list[Any]) -> list[str]:
        return [type(e).__name__ for e in events]

    assert shape(over_ws) == shape(over_sse)
    calls = [e for e in over_ws if isinstance(e, ox.ToolCallDone)]
    assert [(c.name, c.parsed_arguments) for c in calls] == [("get_weather", {"city": "Paris"})]
    assert isinstance(over_ws[-1], ox.Done)


async def test_a_second_response_while_one_streams_is_refused(client: ox.OpenAI) -> None:
    async with await client.responses.connect() as connection:
        await connection.create_stream(model="m", input="one")
        with pytest.raises(ox.OxideRxError, match="one response at a time"):
            await connection.create_stream(model="m", input="two")


async def test_a_dropped_websocket_mid_response_is_a_truncation_with_the_partial(
    server: MockServer, client: ox.OpenAI
) -> None:
    server.enqueue(Scenario.text("a fairly long answer " * 20, fault=Fault.drop_after(8)))
    async with await client.responses.connect() as connection:
        stream = await connection.create_stream(model="m", input="hi")
        with pytest.raises(ox.APIConnectionError) as info:
            await asyncio.wait_for(stream.final_response(), 5)
    assert isinstance(info.value.partial, rt.Response)
    assert stream.current_content() != ""


async def test_an_error_event_raises_response_failed(server: MockServer, client: ox.OpenAI) -> None:
    server.enqueue(Scenario.error(429, message="Slow down", code="rate_limit_exceeded"))
    async with await client.responses.connect() as connection:
        stream = await connection.create_stream(model="m", input="hi")
        with pytest.raises(ox.ResponseFailedError) as info:
            await asyncio.wait_for(stream.final_response(), 5)
    assert info.value.code == "rate_limit_exceeded"


async def test_aborting_a_response_closes_the_connection(
    server: MockServer, client: ox.OpenAI
) -> None:
    server.enqueue(Scenario.text("word " * 200))
    connection = await client.responses.connect()
    stream = await connection.create_stream(model="m", input="hi")
    first = asyncio.Event()
    stream.on(ox.ContentDelta, lambda e: first.set())
    stream.start()
    await asyncio.wait_for(first.wait(), 5)
    await stream.aclose()
    await asyncio.wait_for(connection.aclose(), 5)
    assert connection.closed
    await server.wait_for_open_connections(0)  # the server sees the socket gone
    with pytest.raises(ox.APIConnectionError):
        await connection.create_stream(model="m", input="again")


async def test_background_is_refused_over_websocket(client: ox.OpenAI) -> None:
    async with await client.responses.connect() as connection:
        with pytest.raises(ValueError, match="background"):
            await connection.create_stream(model="m", input="hi", background=True)


async def test_handshake_refused_is_a_typed_status_error() -> None:
    async with MockServer(api_key="sk-right") as server:
        client = ox.OpenAI(base_url=server.base_url, api_key="sk-wrong", max_retries=0)
        with pytest.raises(ox.AuthenticationError):
            await client.responses.connect()
        await client.aclose()
