"""The SSE fallback: a server without the WebSocket mode (the upgrade refused, or a socket that
closes at the first request without a word) gets the same session's responses over HTTP SSE,
with the same events and the same chaining; ``fallback="never"`` raises instead."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from support import until_metrics

import oxide_rx as ox
from oxide_rx.testing import MockServer, Scenario


def _shape(events: list[Any]) -> list[str]:
    return [type(e).__name__ for e in until_metrics(events)]


async def test_a_refused_upgrade_runs_the_session_over_sse_with_the_same_events(
    server: MockServer, client: ox.OpenAI
) -> None:
    calls = [("get_weather", '{"city": "Paris"}')]
    server.enqueue(Scenario.function_calls(calls))
    async with await client.responses.connect() as over_ws:
        ws_events = [e async for e in await over_ws.create_stream(model="m", input="w?")]
    server.websocket.enabled = False  # GET /v1/responses is 404 from now on
    server.enqueue(Scenario.function_calls(calls), Scenario.text("Sunny."))
    async with await client.responses.connect(defaults={"model": "m"}) as session:
        assert session.over_sse
        sse_events = [e async for e in await session.create_stream(input="w?")]
        first = session.response_id
        second = await session.create_stream(input="and tomorrow?")
        assert (await asyncio.wait_for(second.final_response(), 5)).output_text == "Sunny."
    assert _shape(sse_events) == _shape(ws_events)
    posts = server.model_requests("/responses")
    assert [p.json.get("previous_response_id") for p in posts] == [None, first]
    assert [p.json["input"] for p in posts] == ["w?", "and tomorrow?"]  # only the new input
    assert all(p.json["stream"] is True and "stream_id" not in p.json for p in posts)


async def test_a_store_false_chain_over_sse_sends_the_whole_conversation(
    server: MockServer, client: ox.OpenAI
) -> None:
    server.enqueue(Scenario.text("One."), Scenario.text("Two."))
    async with await client.responses.connect(
            transport="sse", defaults={"model": "m", "store": False}) as session:
        for text in ("first", "second"):
            await asyncio.wait_for((await session.create_stream(input=text)).final_response(), 5)
    second = server.model_requests("/responses")[1].json
    assert "previous_response_id" not in second
    assert [item.get("role") for item in second["input"]] == ["user", "assistant", "user"]
    assert server.websocket_upgrades == 0  # transport="sse" never tries the socket


async def test_warmup_over_sse_keeps_its_input_for_the_next_response(
    server: MockServer, client: ox.OpenAI
) -> None:
    server.enqueue(Scenario.text("Ready."))
    system = {"role": "system", "content": "Be brief."}
    async with await client.responses.connect(transport="sse") as session:
        assert await session.warmup(input=[system]) is None
        stream = await session.create_stream(model="m", input="Go")
        await asyncio.wait_for(stream.final_response(), 5)
        with pytest.raises(ox.WebSocketUsageError, match="needs the WebSocket mode"):
            await session.steer("faster")
    sent = server.model_requests("/responses")
    assert len(sent) == 1 and sent[0].json["input"] == [system, {"role": "user", "content": "Go"}]


async def test_fallback_never_raises_the_refusal(server: MockServer, client: ox.OpenAI) -> None:
    server.websocket.enabled = False
    with pytest.raises(ox.NotFoundError):
        await client.responses.connect(fallback="never")


async def test_a_socket_that_closes_at_the_first_request_falls_back_for_that_request_too(
    server: MockServer, client: ox.OpenAI
) -> None:
    server.websocket.speaks_protocol = False  # upgrade accepted, closed with 1003 at once
    server.enqueue(Scenario.text("Over HTTP after all."))
    async with await client.responses.connect() as session:
        assert not session.over_sse
        stream = await session.create_stream(model="m", input="hello")
        answer = await asyncio.wait_for(stream.final_response(), 5)
        assert session.over_sse
    assert answer.output_text == "Over HTTP after all."
    assert len(server.websocket_messages) == 1 and len(server.model_requests("/responses")) == 1


async def test_an_auth_refusal_is_not_a_reason_to_fall_back() -> None:
    async with MockServer(api_key="sk-right") as server:
        client = ox.OpenAI(base_url=server.base_url, api_key="sk-wrong", max_retries=0)
        with pytest.raises(ox.AuthenticationError) as info:
            await client.responses.connect()
        await client.aclose()
    assert info.value.code == "invalid_api_key"  # the server's own reason, read from the body
    assert server.model_requests() == []
