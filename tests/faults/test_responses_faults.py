"""Issue 10, holes 9 and 10: Responses sequence numbers and resuming past the server's window.

9. De-duplication by ``sequence_number`` happens only across a resume, per response: a
   server that numbers every event ``0`` (or restarts its numbering) loses nothing, while a
   reconnection that replays what was delivered adds nothing.
10. A background stream whose resume is refused because the response is too old (``400 ...
    more than 5 minutes old``) retrieves the response and delivers the events it still
    misses, so it ends complete.

The server is a raw socket that routes on the request line: ``POST /v1/responses`` streams
(and breaks), ``GET ...?stream=true`` resumes or refuses, ``GET /v1/responses/{id}`` answers
the stored response as JSON.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import msgspec
import pytest
from rawsocket import (
    RawConnection,
    RawRequest,
    chunk,
    event,
    head,
    message_item,
    respond,
    response_object,
    responses_text,
    sse_head,
)
from runs import responses_stream

import oxide_rx as ox
from oxide_rx.types import responses as rt

PIECES = ["Resumable ", "streams ", "end ", "complete."]
TEXT = "".join(PIECES)
TOO_OLD = {"error": {"message": "This response can no longer be streamed because it is "
                                "more than 5 minutes old", "type": "invalid_request_error",
                     "param": None, "code": None}}


def _sse(events: list[dict[str, Any]], *, last_chunk: bool = True) -> bytes:
    body = b"".join(chunk(event(e)) for e in events)
    return sse_head() + body + (chunk(b"") if last_chunk else b"")


def _json(status: int, body: Any) -> bytes:
    data = msgspec.json.encode(body)
    return head(status, {"Content-Type": "application/json",
                         "Content-Length": str(len(data))}) + data


# --- hole 9: sequence numbers ------------------------------------------------------------------


@pytest.mark.parametrize("numbering", ["all zero", "restarting", "descending", "absent"])
async def test_a_plain_stream_loses_nothing_whatever_its_sequence_numbers(numbering: str) -> None:
    sequence: dict[str, Callable[[int], int | None]] = {
        "all zero": lambda i: 0,
        "restarting": lambda i: i % 3,
        "descending": lambda i: 100 - i,
        "absent": lambda i: None,
    }
    events = responses_text(PIECES, sequence=sequence[numbering])
    outcome = await responses_stream(respond(_sse(events)))
    assert outcome.error is None, outcome.error
    assert outcome.text == TEXT
    assert outcome.result.output_text == TEXT and outcome.result.status == "completed"
    assert [type(e) for e in outcome.events if isinstance(e, ox.Done)] == [ox.Done]


def _route(routes: dict[str, Callable[[RawRequest, int], bytes]],
           drop_first_stream: bool = True) -> Callable[[RawConnection], Any]:
    """A handler answering requests by ``METHOD path`` (query ignored); ``n`` counts the
    requests to that route. The first streamed answer is cut with a reset."""
    counts: dict[str, int] = {}

    async def handler(conn: RawConnection) -> None:
        while (request := await conn.request()) is not None:
            key = f"{request.method} {request.target.split('?')[0]}"
            if "stream=true" in request.target:
                key += " stream"
            counts[key] = counts.get(key, 0) + 1
            conn.send(routes[key](request, counts[key]))
            await conn.flush()
            if key == "POST /v1/responses" and drop_first_stream:
                conn.reset()
                return

    return handler


async def test_a_resume_that_replays_from_the_start_delivers_every_event_once() -> None:
    events = responses_text(PIECES)
    cut = 6  # created, in_progress, item, part, two deltas
    routes = {
        "POST /v1/responses": lambda r, n: _sse(events[:cut], last_chunk=False),
        # A server that ignores starting_after and replays everything.
        "GET /v1/responses/resp_raw stream": lambda r, n: _sse(events),
    }
    outcome = await responses_stream(_route(routes), background=True)
    assert outcome.error is None, outcome.error
    assert outcome.text == TEXT
    wire = [e.sequence_number for e in outcome.events if isinstance(e, rt.ResponseStreamEvent)]
    assert wire == list(range(len(events)))
    assert outcome.requests == 2


def test_only_a_resume_drops_by_sequence_number_and_only_for_its_response() -> None:
    acc = ox.ResponseAccumulator()
    events = [rt.decode_event(msgspec.json.encode(e)) for e in responses_text(PIECES)]
    for e in events[:5]:
        assert acc.handle_event(e) is not None
    assert acc.handle_event(events[4]) is not None  # no resume: a repeat is data, not dropped
    acc.resume_after(5)
    assert acc.handle_event(events[5]) is None  # seq 5: a replay after the resume
    assert acc.handle_event(events[6]) is not None
    other = rt.decode_event(msgspec.json.encode({
        "type": "response.created", "sequence_number": 0,
        "response": response_object(response_id="resp_other")}))
    assert acc.handle_event(other) is not None  # another response: its numbering is its own


# --- hole 10: resuming past the server's window ------------------------------------------------


def _window_routes(events: list[dict[str, Any]], cut: int, final: dict[str, Any],
                   polls: list[dict[str, Any]] | None = None
                   ) -> dict[str, Callable[[RawRequest, int], bytes]]:
    states = [*(polls or []), final]
    return {
        "POST /v1/responses": lambda r, n: _sse(events[:cut], last_chunk=False),
        "GET /v1/responses/resp_raw stream": lambda r, n: _json(400, TOO_OLD),
        "GET /v1/responses/resp_raw": lambda r, n: _json(200, states[min(n, len(states)) - 1]),
    }


@pytest.mark.parametrize("cut", [3, 5, 6, 8, 10])
async def test_a_resume_past_the_window_completes_the_stream_from_the_retrieved_response(
    cut: int,
) -> None:
    events = responses_text(PIECES)
    final = events[-1]["response"]
    outcome = await responses_stream(_route(_window_routes(events, cut, final)),
                                     background=True)
    assert outcome.error is None, outcome.error
    assert outcome.text == TEXT  # the deltas still missing were delivered
    assert outcome.result.output_text == TEXT and outcome.result.status == "completed"
    helpers = [type(e) for e in outcome.events if isinstance(e, ox.Event)]
    assert helpers.count(ox.ContentDone) == 1 and helpers.count(ox.Done) == 1
    assert next(e for e in outcome.events if isinstance(e, ox.ContentDone)).content == TEXT
    assert outcome.requests == 3  # the POST, the refused resume, the retrieve


async def test_function_calls_past_the_window_end_with_their_tool_call_done() -> None:
    call = {"type": "function_call", "id": "fc_1", "call_id": "call_1", "name": "get_weather",
            "arguments": '{"city":"Paris"}', "status": "completed"}
    started = {**call, "arguments": "", "status": "in_progress"}
    where = {"item_id": "fc_1", "output_index": 0}
    final = response_object("completed", [call])
    events = [
        {"type": "response.created", "response": response_object()},
        {"type": "response.output_item.added", "output_index": 0, "item": started},
        {"type": "response.function_call_arguments.delta", **where, "delta": '{"city":'},
    ]
    for index, item in enumerate(events):
        item["sequence_number"] = index
    outcome = await responses_stream(_route(_window_routes(events, 3, final)), background=True)
    assert outcome.error is None, outcome.error
    done = [e for e in outcome.events if isinstance(e, ox.ToolCallDone)]
    assert [(d.call_id, d.name, d.arguments, d.parsed_arguments) for d in done] == [
        ("call_1", "get_weather", '{"city":"Paris"}', {"city": "Paris"})]
    deltas = "".join(e.arguments_delta for e in outcome.events if isinstance(e, ox.ToolCallDelta))
    assert deltas == '{"city":"Paris"}'


async def test_a_response_still_running_past_the_window_is_polled_until_it_ends() -> None:
    events = responses_text(PIECES)
    running = response_object("in_progress", [message_item("Resumable ", "in_progress")])
    final = events[-1]["response"]
    routes = _window_routes(events, 5, final, polls=[running, running])
    outcome = await responses_stream(_route(routes), background=True,
                                     timeout=ox.Timeout(idle=10))
    assert outcome.error is None, outcome.error
    assert outcome.text == TEXT
    assert outcome.requests == 5  # POST, refused resume, three retrieves


async def test_a_response_that_never_ends_past_the_window_hits_the_idle_deadline() -> None:
    # Polling has no count of its own: the stream's idle deadline bounds it, as any other gap.
    events = responses_text(PIECES)
    running = response_object("in_progress", [message_item("Resumable ", "in_progress")])
    outcome = await responses_stream(_route(_window_routes(events, 5, running)),
                                     background=True, timeout=ox.Timeout(idle=1))
    assert isinstance(outcome.error, ox.APITimeoutError), outcome.error
    assert outcome.partial_text == "Resumable " == outcome.text
    assert outcome.requests >= 3  # POST, refused resume, at least one retrieve


async def test_a_response_that_failed_past_the_window_raises_with_the_partial() -> None:
    events = responses_text(PIECES)
    failed = {**response_object("failed", [message_item("Resumable str", "incomplete")]),
              "error": {"code": "server_error", "message": "The model broke."}}
    outcome = await responses_stream(_route(_window_routes(events, 5, failed)), background=True)
    assert isinstance(outcome.error, ox.ResponseFailedError), outcome.error
    assert outcome.error.code == "server_error"
    assert outcome.partial_text == "Resumable str"


async def test_a_resume_refused_for_another_reason_is_raised_with_the_partial() -> None:
    events = responses_text(PIECES)
    routes = _window_routes(events, 5, events[-1]["response"])
    routes["GET /v1/responses/resp_raw stream"] = lambda r, n: _json(
        401, {"error": {"message": "Invalid key", "type": "invalid_request_error"}})
    outcome = await responses_stream(_route(routes), background=True)
    assert isinstance(outcome.error, ox.AuthenticationError), outcome.error
    assert outcome.partial_text == "Resumable "
    assert outcome.requests == 2
