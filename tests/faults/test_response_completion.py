"""Issue 10, hole 10, sans-IO: the events that complete a cut Responses stream.

For streams of every kind the mock generates (text, parallel function calls, reasoning with
summaries, a refusal), cut after any event: the events
``ResponseAccumulator.events_to_complete(final)`` returns, fed back through the same
accumulator, end it exactly as the uncut stream ends: the same final response, the same
``*Done`` helper events, and deltas that join into the same texts.
"""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

import oxide_rx as ox
from oxide_rx.testing import Scenario
from oxide_rx.testing._responses import ResponseRun, ResponsesParams
from oxide_rx.types import responses as rt

SCENARIOS = {
    "text": Scenario.text("Cut anywhere, completed from the final response."),
    "function calls": Scenario.function_calls(
        [("get_weather", {"city": "Paris"}), ("get_time", {"zone": "Asia/Tokyo"})]),
    "reasoning": Scenario.reasoning(["Look first.", " Then answer."], "Done thinking."),
    "refusal": Scenario.refusal("I can't help with that."),
}


def _events(scenario: Scenario) -> list[Any]:
    frames = b"".join(ResponseRun(scenario, ResponsesParams()).plan().frames)
    payloads = [line[6:] for line in frames.split(b"\n") if line.startswith(b"data: ")]
    return [rt.decode_event(p) for p in payloads]


def _helpers(acc: ox.ResponseAccumulator, events: list[Any]) -> list[Any]:
    out: list[Any] = []
    for event in events:
        out += acc.handle_event(event) or []
    return out


def _summary(helpers: list[Any]) -> dict[str, Any]:
    """What a user relies on: the texts each kind of delta joins into, and the done events."""
    joined: dict[str, str] = {}
    for e in helpers:
        for kind in (ox.ContentDelta, ox.RefusalDelta, ox.ReasoningDelta):
            if isinstance(e, kind):
                joined[kind.__name__] = joined.get(kind.__name__, "") + e.delta
        if isinstance(e, ox.ToolCallDelta):
            joined[f"tool {e.index}"] = joined.get(f"tool {e.index}", "") + e.arguments_delta
    done = [e for e in helpers
            if isinstance(e, (ox.ContentDone, ox.RefusalDone, ox.ReasoningDone, ox.ToolCallDone,
                              ox.Done, ox.Usage))]
    return {"joined": joined, "done": done}


CASES = [(name, cut) for name, scenario in SCENARIOS.items()
         for cut in range(1, len(_events(scenario)))]


@pytest.mark.parametrize(("name", "cut"), CASES)
def test_a_stream_cut_anywhere_completes_like_the_uncut_one(name: str, cut: int) -> None:
    events = _events(SCENARIOS[name])
    uncut = ox.ResponseAccumulator()
    expected = _summary(_helpers(uncut, events))
    final = events[-1].response

    acc = ox.ResponseAccumulator()
    helpers = _helpers(acc, events[:cut])
    missing = acc.events_to_complete(final)
    # Through the wire format, as the resuming feed delivers them.
    helpers += _helpers(acc, [rt.decode_event(msgspec.json.encode(e)) for e in missing])

    assert _summary(helpers) == expected
    assert acc.terminal and acc.response() == uncut.response()
    numbers = [e.sequence_number for e in missing]
    assert numbers == list(range(events[cut - 1].sequence_number + 1,
                                 events[cut - 1].sequence_number + 1 + len(missing)))


def test_nothing_is_missing_from_a_complete_stream_but_its_terminal_event() -> None:
    events = _events(SCENARIOS["text"])
    acc = ox.ResponseAccumulator()
    _helpers(acc, events[:-1])
    missing = acc.events_to_complete(events[-1].response)
    assert [type(e) for e in missing] == [rt.ResponseCompleted]
