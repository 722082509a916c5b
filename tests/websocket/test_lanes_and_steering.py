"""Lanes (``stream_id``): conversations side by side on one connection, one response in flight
per lane; steering (``response.steer``) redirects the response streaming on a lane."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from support import until_metrics

import oxide_rx as ox
from oxide_rx.testing import Fault, MockServer, Scenario


async def test_lanes_stream_side_by_side_and_chain_on_their_own(
    server: MockServer, client: ox.OpenAI
) -> None:
    # Lane a is held mid-response while lane b streams to the end: their frames interleave.
    server.enqueue(Scenario.text("alpha " * 20, fault=Fault.hold_after(5)),
                   Scenario.text("beta " * 20), Scenario.text("alpha again"),
                   Scenario.text("beta again"))
    async with await client.responses.connect(defaults={"model": "m"}) as session:
        a, b = session.lane("a"), session.lane("b.2")
        first_a = await a.create_stream(input="a1")
        await server.wait_for_held()
        first_b = await b.create_stream(input="b1")
        answer_b = await asyncio.wait_for(first_b.final_response(), 5)
        assert not first_a.finished
        server.release_held()
        answer_a = await asyncio.wait_for(first_a.final_response(), 5)
        second_a = await a.create_stream(input="a2")
        second_b = await b.create_stream(input="b2")
        assert (await second_a.final_response()).output_text == "alpha again"
        assert (await second_b.final_response()).output_text == "beta again"
    assert answer_a.output_text == ("alpha " * 20) and answer_b.output_text == ("beta " * 20)
    sent = [(m.json["stream_id"], m.json["input"], m.json.get("previous_response_id"))
            for m in server.websocket_messages]
    assert sent == [("a", "a1", None), ("b.2", "b1", None),
                    ("a", "a2", answer_a.id), ("b.2", "b2", answer_b.id)]
    assert server.websocket_upgrades == 1


async def test_a_busy_lane_refuses_a_second_response(server: MockServer, client: ox.OpenAI) -> None:
    server.enqueue(Scenario.text("slow " * 20, fault=Fault.hold_after(2)), Scenario.text("b"))
    async with await client.responses.connect(defaults={"model": "m"}) as session:
        lane = session.lane("worker")
        await lane.create_stream(input="one")
        with pytest.raises(ox.WebSocketUsageError, match="one response at a time"):
            await lane.create_stream(input="two")
        other = await session.create_stream(input="default lane is free")  # another lane
        assert (await asyncio.wait_for(other.final_response(), 5)).output_text == "b"
        server.release_held()


async def test_lane_names_and_count_are_checked_before_anything_is_sent(
    server: MockServer, client: ox.OpenAI
) -> None:
    async with await client.responses.connect() as session:
        for bad in ("", "has space", "x" * 257, "émoji"):
            with pytest.raises(ox.WebSocketUsageError):
                session.lane(bad)
        lanes = [session.lane(f"lane-{n}") for n in range(32)]
        assert session.lane("lane-0") is lanes[0]
        with pytest.raises(ox.WebSocketLimitError, match="32 named lanes"):
            session.lane("one-too-many")
    assert server.websocket_messages == []


async def test_steering_ends_the_response_and_streams_its_successor(
    server: MockServer, client: ox.OpenAI
) -> None:
    server.enqueue(Scenario.text("Once upon a time " * 10, fault=Fault.hold_after(6)),
                   Scenario.text("A lighthouse stood alone."))
    async with await client.responses.connect(defaults={"model": "m"}) as session:
        story = await session.create_stream(input="Tell me a long story")
        done: list[ox.Done] = []
        story.on(ox.Done, done.append)
        story.start()
        successor = await session.steer("Make it about a lighthouse")  # once it started
        steered = await asyncio.wait_for(story.final_response(), 5)
        after = await asyncio.wait_for(successor.final_response(), 5)
        assert session.response_id == after.id
        kept = session.items
    assert steered.status == "incomplete" and done[-1].reason == "steered"
    assert after.output_text == "A lighthouse stood alone."
    assert after.previous_response_id == steered.id
    steer = server.websocket_messages[1].json
    assert steer == {"type": "response.steer", "previous_response_id": steered.id,
                     "input": "Make it about a lighthouse"}
    assert {"role": "user", "content": "Make it about a lighthouse"} in kept


async def test_steering_with_nothing_streaming_is_refused(client: ox.OpenAI) -> None:
    async with await client.responses.connect() as session:
        with pytest.raises(ox.WebSocketUsageError, match="nothing is streaming"):
            await session.steer("too late")


async def test_stray_frames_after_completed_are_not_taken_for_the_next_response(
    server: MockServer, client: ox.OpenAI, tmp_path: Path
) -> None:
    # After response.completed, a late delta and a repeated lifecycle event of the same
    # response arrive: at once, and again after the next request went out. Neither reaches the
    # next response (issue 10 #9), whose own events all do.
    def created(rid: str, seq: int, kind: str = "created", status: str = "in_progress") -> str:
        response = f'{{"id":"{rid}","status":"{status}","output":[]}}'
        return f'{{"type":"response.{kind}","sequence_number":{seq},"response":{response}}}'

    def delta(text: str, seq: int) -> str:
        return ('{"type":"response.output_text.delta","item_id":"m","output_index":0,'
                f'"content_index":0,"delta":"{text}","sequence_number":{seq}}}')

    strays = [delta("STRAY", 9), created("resp_1", 10, "in_progress")]
    first = [created("resp_1", 0), delta("one", 1),
             created("resp_1", 2, "completed", "completed"), *strays]
    second = [*strays, created("resp_2", 0), delta("two", 1),
              created("resp_2", 2, "completed", "completed")]
    for name, frames in (("first", first), ("second", second)):
        (tmp_path / f"{name}.sse").write_text("".join(f"data: {f}\n\n" for f in frames))
    server.enqueue(*(Scenario.replay(tmp_path / f"{n}.sse") for n in ("first", "second")))
    async with await client.responses.connect(chain=False) as session:
        one = await session.create_stream(model="m", input="1")
        assert (await asyncio.wait_for(one.final_response(), 5)).output_text == "one"
        two = await session.create_stream(model="m", input="2")
        events = until_metrics([e async for e in two])
    assert [e.delta for e in events if isinstance(e, ox.ContentDelta)] == ["two"]
    assert two.current_response().id == "resp_2"
    assert [type(e).__name__ for e in events if not isinstance(e, ox.Event)] == [
        "ResponseCreated", "OutputTextDelta", "ResponseCompleted"]
