"""A WebSocket session chains by itself: each response continues the last one with
``previous_response_id`` and only the new input items (the mock refuses a request that
repeats the conversation), and when the server lost the previous response the session sends
the whole conversation instead, or says it cannot."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

import oxide_rx as ox
from oxide_rx.testing import MockServer, Scenario

FAST = ox.ReconnectPolicy(initial_delay=0.0)



async def _turn(session: ox.ResponsesWebSocket | ox.Lane, input: Any, **params: Any) -> Any:
    stream = await session.create_stream(input=input, **params)
    return await asyncio.wait_for(stream.final_response(), 5)


def _sent(server: MockServer) -> list[dict[str, Any]]:
    return [m.json for m in server.websocket_messages]


async def test_each_response_continues_the_last_and_sends_only_the_new_input(
    server: MockServer, client: ox.OpenAI
) -> None:
    server.enqueue(Scenario.text("Paris."), Scenario.text("Its museums."),
                   Scenario.text("The Louvre."))
    async with await client.responses.connect(defaults={"model": "m"}) as session:
        first = await _turn(session, "Pick a city")
        second = await _turn(session, "Why?")
        third = await _turn(session, [{"role": "user", "content": "Which one?"}])
        assert session.response_id == third.id
        kept = session.items
    sent = _sent(server)
    assert [m.get("previous_response_id") for m in sent] == [None, first.id, second.id]
    assert [m["input"] for m in sent] == ["Pick a city", "Why?",
                                          [{"role": "user", "content": "Which one?"}]]
    assert all(m["model"] == "m" for m in sent)  # the session's defaults go with each
    # The conversation kept for a rebuild: each input, then each answer as the server sent it.
    assert [item.get("role") for item in kept] == ["user", "assistant"] * 3
    assert kept[1]["id"] == first.output[0].id
    assert kept[1]["content"][0]["text"] == "Paris."


async def test_a_tool_turn_sends_only_the_tool_output(
    server: MockServer, client: ox.OpenAI
) -> None:
    server.enqueue(Scenario.function_calls([("get_weather", '{"city": "Oslo"}')]),
                   Scenario.text("It is cold in Oslo."))
    async with await client.responses.connect() as session:
        stream = await session.create_stream(model="m", input="Weather in Oslo?")
        calls: list[ox.ToolCallDone] = []
        stream.on(ox.ToolCallDone, calls.append)
        asked = await asyncio.wait_for(stream.final_response(), 5)
        output = {"type": "function_call_output", "call_id": calls[0].call_id, "output": "-3 C"}
        answer = await _turn(session, [output], model="m")
    assert answer.output_text == "It is cold in Oslo."
    assert _sent(server)[1]["input"] == [output]
    assert _sent(server)[1]["previous_response_id"] == asked.id


async def test_an_explicit_previous_response_id_and_chain_false_are_left_alone(
    server: MockServer, client: ox.OpenAI
) -> None:
    server.enqueue(*(Scenario.text(f"answer {n}") for n in range(4)))
    async with await client.responses.connect() as session:
        first = await _turn(session, "one", model="m")
        await _turn(session, "two", model="m")
        await _turn(session, "three", model="m", previous_response_id=first.id)  # a fork
    async with await client.responses.connect(chain=False) as manual:
        await _turn(manual, "alone", model="m")
    sent = _sent(server)
    assert sent[2]["previous_response_id"] == first.id and sent[2]["input"] == "three"
    assert "previous_response_id" not in sent[3]


async def test_a_failed_response_does_not_move_the_chain(
    server: MockServer, client: ox.OpenAI
) -> None:
    server.enqueue(Scenario.text("kept"), Scenario.response_error("server_error"),
                   Scenario.text("after"))
    async with await client.responses.connect() as session:
        first = await _turn(session, "one", model="m")
        with pytest.raises(ox.ResponseFailedError):
            await _turn(session, "lost", model="m")
        await _turn(session, "three", model="m")
        assert [item.get("content") for item in session.items if item.get("role") == "user"] \
            == ["one", "three"]
    assert _sent(server)[2]["previous_response_id"] == first.id


async def test_previous_response_not_found_rebuilds_the_conversation(
    server: MockServer, client: ox.OpenAI
) -> None:
    server.websocket.persist_stored = False  # the server keeps responses per connection only
    server.enqueue(Scenario.text("Paris."), Scenario.text("Because."))
    async with await client.responses.connect(reconnect=FAST) as session:
        first = await _turn(session, "Pick a city", model="m")
        await server.close_websockets(1012)  # the new connection has an empty cache
        second = await _turn(session, "Why?", model="m")
        assert session.response_id == second.id
    retried, rebuilt = _sent(server)[1:]
    assert retried["previous_response_id"] == first.id  # refused: previous_response_not_found
    assert "previous_response_id" not in rebuilt
    assert [item.get("role") for item in rebuilt["input"]] == ["user", "assistant", "user"]
    assert rebuilt["input"][1]["id"] == first.output[0].id
    assert rebuilt["input"][2] == {"role": "user", "content": "Why?"}


async def test_a_store_false_chain_is_rebuilt_at_once_on_a_new_connection(
    server: MockServer, client: ox.OpenAI
) -> None:
    server.enqueue(Scenario.text("One."), Scenario.text("Two."))
    async with await client.responses.connect(
            reconnect=FAST, defaults={"model": "m", "store": False}) as session:
        await _turn(session, "first")
        await server.close_websockets(1001)
        await _turn(session, "second")
    sent = _sent(server)
    assert len(sent) == 2  # no refused round trip: the lane knew the cache was gone
    assert "previous_response_id" not in sent[1]
    assert [item.get("role") for item in sent[1]["input"]] == ["user", "assistant", "user"]


async def test_context_lost_raises_when_the_policy_says_so(
    server: MockServer, client: ox.OpenAI
) -> None:
    server.websocket.persist_stored = False
    server.enqueue(Scenario.text("Paris."))
    async with await client.responses.connect(
            reconnect=FAST, on_context_lost="raise") as session:
        await _turn(session, "Pick a city", model="m")
        await server.close_websockets(1012)
        stream = await session.create_stream(model="m", input="Why?")
        with pytest.raises(ox.ContextLostError) as info:
            await asyncio.wait_for(stream.final_response(), 5)
    assert info.value.code == "previous_response_not_found"
    assert info.value.partial is not None
    assert len(_sent(server)) == 2  # nothing was sent again


async def test_context_lost_without_a_kept_conversation_is_a_typed_error(
    server: MockServer, client: ox.OpenAI
) -> None:
    async with await client.responses.connect() as session:
        stream = await session.create_stream(model="m", input="hi",
                                             previous_response_id="resp_from_elsewhere")
        with pytest.raises(ox.ContextLostError, match="kept no conversation"):
            await asyncio.wait_for(stream.final_response(), 5)


async def test_warmup_prepares_the_chain_without_output(
    server: MockServer, client: ox.OpenAI
) -> None:
    server.enqueue(Scenario.text("unused by the warm-up"), Scenario.text("Ready."))
    context = [{"role": "system", "content": "You are terse."}]
    async with await client.responses.connect(defaults={"model": "m"}) as session:
        warm = await session.warmup(input=context)
        assert warm is not None and warm.output == [] and warm.status == "completed"
        answer = await _turn(session, "Go")
    warmup_message, turn = _sent(server)
    assert warmup_message["generate"] is False and warmup_message["input"] == context
    assert turn["previous_response_id"] == warm.id and turn["input"] == "Go"
    assert answer.output_text == "Ready."
