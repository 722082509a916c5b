"""Background responses over a real socket: resume after a cut, retrieve, cancel, poll.

A background stream cut anywhere after its first event reconnects with
``GET /responses/{id}?stream=true&starting_after=N`` and delivers exactly what an uncut run
delivers. The uncut reference is the same stored response streamed again from the start with
``retrieve_stream`` (same ids, so events compare whole), and a separate uncut ``create_stream``
of the same scenario, compared by wire ``(sequence_number, type)`` and helper event class
(its ids differ).
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support import ClientFactory, until_metrics

import oxide_rx as ox
from oxide_rx.testing import Fault, MockServer, Scenario
from oxide_rx.types import responses as rt

SCENARIOS = {
    "text": Scenario.text("Resumable streams deliver every event exactly once, in order."),
    "function_calls": Scenario.function_calls(
        [("get_weather", {"city": "Paris"}), ("get_time", {"zone": "Asia/Tokyo"})]),
    "reasoning": Scenario.reasoning(["Look first.", " Then answer."], "Done thinking."),
}


@pytest.fixture
def client(make_client: ClientFactory) -> ox.OpenAI:
    return make_client(max_retries=0)


async def _run(stream: ox.ResponseStream) -> list[Any]:
    return until_metrics([event async for event in stream])


def _shape(events: list[Any]) -> list[Any]:
    """Wire events by (sequence_number, type); helper events by class."""
    return [type(e).__name__ if isinstance(e, ox.Event) else (e.sequence_number, e.type)
            for e in events]


def _resumes(server: MockServer, response_id: str) -> list[dict[str, str]]:
    return [r.query for r in server.requests
            if r.method == "GET" and r.path == f"/v1/responses/{response_id}"]


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), kind=st.sampled_from(sorted(SCENARIOS)), clean_end=st.booleans())
async def test_background_stream_cut_anywhere_resumes_without_gap_or_duplicate(
    data: st.DataObject, kind: str, clean_end: bool
) -> None:
    # Its own server and client per example (function-scoped fixtures would be shared).
    async with (
        MockServer() as server,
        ox.OpenAI(base_url=server.base_url, api_key="test", max_retries=0) as client,
    ):
        server.enqueue(SCENARIOS[kind])
        uncut = await _run(await client.responses.create_stream(
            model="m", input="x", background=True))
        total = sum(1 for e in uncut if not isinstance(e, ox.Event))
        # From 1: a cut before ``response.created`` leaves no id to resume with.
        cut = data.draw(st.integers(1, total - 1), label="cut after events")
        fault = Fault.truncate(cut) if clean_end else Fault.drop_after(cut)
        server.enqueue(SCENARIOS[kind].with_fault(fault))
        stream = await client.responses.create_stream(model="m", input="x", background=True)
        events = await _run(stream)
        response = await stream.final_response()
        replay = await _run(await client.responses.retrieve_stream(response.id))
        resumes = _resumes(server, response.id)
    assert _shape(events) == _shape(uncut)
    assert [repr(e) for e in events] == [repr(e) for e in replay]
    assert events == replay
    assert resumes == [{"stream": "true", "starting_after": str(cut - 1)}, {"stream": "true"}]
    assert response.status == "completed"


async def test_uncut_background_stream_does_not_reconnect(
    server: MockServer, client: ox.OpenAI
) -> None:
    server.enqueue(SCENARIOS["text"])
    stream = await client.responses.create_stream(model="m", input="x", background=True)
    events = await _run(stream)
    assert not [r for r in server.requests if r.method == "GET"]
    assert [e.type for e in events[:3]] == [
        "response.created", "response.queued", "response.in_progress"]


async def test_non_background_stream_is_not_resumed(server: MockServer, client: ox.OpenAI) -> None:
    server.enqueue(SCENARIOS["text"].with_fault(Fault.drop_after(5)))
    stream = await client.responses.create_stream(model="m", input="x")
    with pytest.raises(ox.StreamTruncatedError):
        await stream.final_response()
    assert not [r for r in server.requests if r.method == "GET"]


async def test_background_stream_cut_before_any_event_fails(
    server: MockServer, client: ox.OpenAI
) -> None:
    server.enqueue(SCENARIOS["text"].with_fault(Fault.drop_after(0)))
    stream = await client.responses.create_stream(model="m", input="x", background=True)
    with pytest.raises(ox.StreamTruncatedError):
        await stream.final_response()
    assert not [r for r in server.requests if r.method == "GET"]


async def test_retrieve_stream_starting_after_delivers_only_later_events(
    server: MockServer, client: ox.OpenAI
) -> None:
    server.enqueue(SCENARIOS["function_calls"])
    created = await client.responses.create_stream(model="m", input="x", background=True)
    full = await _run(created)
    original = await created.final_response()
    # Right after the first call's output_item.done, so the rest needs nothing earlier.
    first_done = next(i for i, e in enumerate(full) if isinstance(e, rt.OutputItemDone))
    after = full[first_done].sequence_number
    stream = await client.responses.retrieve_stream(original.id, starting_after=after)
    later = await _run(stream)
    assert _resumes(server, original.id) == [
        {"stream": "true", "starting_after": str(after)}]
    assert later == full[first_done + 1:]
    assert not any(isinstance(e, rt.ResponseCreated) for e in later)
    response = await stream.final_response()
    assert response.status == "completed"
    assert response.output == original.output


async def test_retrieve_stream_from_mid_call_reports_the_call_at_its_item_done(
    server: MockServer, client: ox.OpenAI
) -> None:
    server.enqueue(SCENARIOS["function_calls"])
    created = await client.responses.create_stream(model="m", input="x", background=True)
    full = await _run(created)
    delta = next(e for e in full if isinstance(e, rt.FunctionCallArgumentsDelta))
    stream = await client.responses.retrieve_stream(
        (await created.final_response()).id, starting_after=delta.sequence_number)
    later = await _run(stream)
    expected = [(e.call_id, e.name, e.arguments) for e in full if isinstance(e, ox.ToolCallDone)]
    done = [i for i, e in enumerate(later) if isinstance(e, ox.ToolCallDone)]
    assert [(later[i].call_id, later[i].name, later[i].arguments) for i in done] == expected
    assert isinstance(later[done[0] - 1], rt.OutputItemDone)  # the first call's item


async def test_cancel_turns_a_queued_background_response_cancelled(
    server: MockServer, client: ox.OpenAI
) -> None:
    server.enqueue(SCENARIOS["text"])
    queued = await client.responses.create(model="m", input="x", background=True)
    cancelled = await client.responses.cancel(queued.id)
    polled = await client.responses.retrieve(queued.id)
    assert server.requests[-2].path == f"/v1/responses/{queued.id}/cancel"
    assert queued.status == "queued"
    assert cancelled.status == polled.status == "cancelled"


async def test_background_create_is_polled_to_completion(
    server: MockServer, client: ox.OpenAI
) -> None:
    server.enqueue(SCENARIOS["text"])
    queued = await client.responses.create(model="m", input="x", background=True)
    states = [queued.status]
    response = queued
    for _ in range(5):
        response = await client.responses.retrieve(queued.id)
        states.append(response.status)
        if response.status == "completed":
            break
    assert states == ["queued", "in_progress", "completed"]
    assert response.output_text == "Resumable streams deliver every event exactly once, in order."
    assert response.usage is not None


async def test_non_streaming_create_returns_the_completed_response(
    server: MockServer, client: ox.OpenAI
) -> None:
    server.enqueue(SCENARIOS["function_calls"])
    response = await client.responses.create(model="m", input="x")
    assert "stream" not in server.requests[-1].json
    calls = [(i.name, i.arguments) for i in response.output if isinstance(i, rt.FunctionCall)]
    assert calls == [("get_weather", '{"city":"Paris"}'), ("get_time", '{"zone":"Asia/Tokyo"}')]
    assert response.status == "completed"


async def test_retrieve_of_an_unknown_response_raises_not_found(
    server: MockServer, client: ox.OpenAI
) -> None:
    with pytest.raises(ox.NotFoundError):
        await client.responses.retrieve("resp_missing")
