"""The recorded Responses streams, decoded and accumulated without any I/O.

Frames are read straight from the ``.sse`` files (split on blank lines, ``event:``/``data:``
lines), so these tests do not depend on the SSE decoder.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import msgspec
import pytest
from support import CORPUS, corpus_files, response_events

from oxide_rx import ResponseAccumulator
from oxide_rx import events as ev
from oxide_rx.types import responses as rt

FILES = corpus_files("responses-")
IDS = [path.stem for path in FILES]
corpus = pytest.mark.parametrize("path", FILES, ids=IDS)
TERMINAL = (rt.ResponseCompleted, rt.ResponseFailed, rt.ResponseIncomplete, rt.ResponseDone)

if not FILES:
    pytest.skip(f"no recorded responses streams under {CORPUS}", allow_module_level=True)


def frames(path: Path) -> list[tuple[str | None, bytes]]:
    """``(event name, data)`` per SSE frame."""
    result = []
    for block in path.read_bytes().replace(b"\r\n", b"\n").split(b"\n\n"):
        name, data = None, []
        for line in block.split(b"\n"):
            if line.startswith(b"event:"):
                name = line[6:].strip().decode()
            elif line.startswith(b"data:"):
                data.append(line[5:].removeprefix(b" "))
        if data:
            result.append((name, b"\n".join(data)))
    return result


def decoded(path: Path) -> list[rt.ResponseStreamEvent | rt.UnknownEvent]:
    return [rt.decode_event(data) for _, data in frames(path)]


def differences(wire: Any, again: Any, where: str = "$") -> list[str]:
    """Where ``again`` (re-encoded) loses or changes something ``wire`` had.

    The documented loss: a key whose value is ``null`` may be absent (and ``Response`` adds
    its undeclared-on-the-wire fields as ``null``). Numbers must keep their JSON type.
    """
    if isinstance(wire, dict) and isinstance(again, dict):
        found = []
        for key in wire.keys() | again.keys():
            if key not in again or key not in wire:
                value = wire.get(key, again.get(key))
                if value is not None:
                    found.append(f"{where}.{key}: {'dropped' if key in wire else 'added'}")
            else:
                found += differences(wire[key], again[key], f"{where}.{key}")
        return found
    if isinstance(wire, list) and isinstance(again, list) and len(wire) == len(again):
        return [d for i, (a, b) in enumerate(zip(wire, again, strict=True))
                for d in differences(a, b, f"{where}[{i}]")]
    if type(wire) is not type(again) or wire != again:
        return [f"{where}: {wire!r} became {again!r}"]
    return []


def run(path: Path) -> tuple[ResponseAccumulator, list[object]]:
    acc = ResponseAccumulator()
    out: list[object] = []
    for event in decoded(path):
        out += response_events(acc, event)
    return acc, out


def streamed(item: Any) -> Any:
    """The values of an item that deltas build, for comparison."""
    if isinstance(item, rt.Message):
        return [getattr(p, "text", None) or getattr(p, "refusal", None) for p in item.content]
    if isinstance(item, rt.Reasoning):
        return [getattr(part, "text", None) for part in item.summary]
    if isinstance(item, (rt.FunctionCall, rt.McpCall)):
        return item.arguments
    if isinstance(item, rt.CustomToolCall):
        return item.input
    if isinstance(item, rt.CodeInterpreterCall):
        return item.code
    if isinstance(item, rt.ApplyPatchCall):
        return item.operation["diff"]
    if isinstance(item, rt.ShellCall):
        return item.action["commands"]
    return None


@corpus
def test_every_event_type_is_known(path: Path) -> None:
    unknown = {event.type for event in decoded(path) if isinstance(event, rt.UnknownEvent)}
    assert unknown == set()


@corpus
def test_event_line_matches_decoded_type(path: Path) -> None:
    for name, data in frames(path):
        if name is not None:
            assert rt.decode_event(data).type == name


@corpus
def test_reencoding_keeps_every_wire_field(path: Path) -> None:
    for _, data in frames(path):
        again = msgspec.json.encode(rt.decode_event(data))
        assert differences(json.loads(data), json.loads(again)) == []


@corpus
def test_deltas_accumulate_to_the_done_values(path: Path) -> None:
    acc = ResponseAccumulator()
    checked = 0
    for event in decoded(path):
        values = DONE_VALUES.get(type(event))
        if values is not None and (path.stem, event.type) not in REDACTED_DELTAS:
            ours, theirs = values(snapshot_item(acc, event), event)
            assert ours == theirs, f"{event.type} #{event.sequence_number}"
            checked += 1
        response_events(acc, event)
    assert checked > 0 or "error" in path.stem


# The source of this fixture replaced every text delta with "X" but kept the real done text.
REDACTED_DELTAS = {
    ("responses-azure-reasoning-multi-summary", "response.output_text.done"),
    ("responses-azure-reasoning-multi-summary", "response.output_item.done"),
}


def snapshot_item(acc: ResponseAccumulator, event: Any) -> Any:
    """The snapshot's item an event is about: by id (sources trimmed some items), else index."""
    if isinstance(event, rt.OutputItemDone):
        item_id = getattr(event.item, "id", None)
    else:
        item_id = event.item_id
    output = acc.response().output
    if item_id is None:
        return output[event.output_index]
    return next(item for item in output if getattr(item, "id", None) == item_id)


# For each *done* event: (the snapshot's value it finalises, the value it carries).
DONE_VALUES: dict[type, Any] = {
    rt.OutputTextDone: lambda item, e: (item.content[e.content_index].text, e.text),
    rt.FunctionCallArgumentsDone: lambda item, e: (item.arguments, e.arguments),
    rt.ReasoningSummaryTextDone: lambda item, e: (item.summary[e.summary_index].text, e.text),
    rt.CodeInterpreterCallCodeDone: lambda item, e: (item.code, e.code),
    rt.McpCallArgumentsDone: lambda item, e: (item.arguments, e.arguments),
    rt.ApplyPatchCallOperationDiffDone: lambda item, e: (item.operation["diff"], e.diff),
    rt.ShellCallCommandDone: lambda item, e: (
        item.action["commands"][e.command_index], e.command),
    rt.OutputItemDone: lambda item, e: (streamed(item), streamed(e.item)),
}


@corpus
def test_accumulated_output_matches_the_terminal_response(path: Path) -> None:
    acc = ResponseAccumulator()
    for event in decoded(path):
        if isinstance(event, TERMINAL):
            ours, theirs = acc.response().output, event.response.output
            assert [(i.type, getattr(i, "id", None)) for i in ours] == [
                (i.type, getattr(i, "id", None)) for i in theirs]
            assert [streamed(i) for i in ours] == [streamed(i) for i in theirs]
            assert [getattr(i, "status", None) for i in ours] == [
                getattr(i, "status", None) for i in theirs]
        response_events(acc, event)
    assert acc.terminal
    assert acc.response().status == event.response.status  # type: ignore[union-attr]


@corpus
def test_accumulation_agrees_with_the_independent_accumulator(path: Path) -> None:
    derived_path = path.with_suffix(".derived.json")
    if not derived_path.exists():
        pytest.skip("no derived.json")
    derived = json.loads(derived_path.read_text())
    acc, _ = run(path)
    response = acc.response()
    assert response.id == derived["final_response_fields"]["id"]
    assert response.status == derived["final_response_fields"]["status"]
    by_id = {getattr(item, "id", None): item for item in response.output}
    for entry in derived["output"]:
        item: Any = by_id[entry["id"]]
        assert item.type == entry["type"]
        assert getattr(item, "status", None) == entry.get("status")
        if "content" in entry and (path.stem, "response.output_text.done") not in REDACTED_DELTAS:
            assert [p["text"] for p in entry["content"]] == [p.text for p in item.content]
        for key, attribute in (("arguments_from_deltas", "arguments"),
                               ("code_from_deltas", "code"), ("input_from_deltas", "input")):
            if key in entry:
                assert getattr(item, attribute) == entry[key]
        if "summary_from_deltas" in entry:
            assert [part.text for part in item.summary] == entry["summary_from_deltas"]


@pytest.mark.parametrize(
    "path", [p for p in FILES if b"function_call_arguments" in p.read_bytes()],
    ids=lambda p: p.stem,
)
def test_tool_call_done_carries_the_whole_call_before_the_end(path: Path) -> None:
    acc, out = run(path)
    calls = [i for i in acc.response().output if isinstance(i, rt.FunctionCall)]
    done = [e for e in out if isinstance(e, ev.ToolCallDone)]
    assert [(d.call_id, d.name, d.arguments) for d in done] == [
        (c.call_id, c.name, c.arguments) for c in calls]
    assert all(d.parsed_arguments == json.loads(d.arguments) for d in done)
    terminal_at = next(i for i, e in enumerate(out) if isinstance(e, TERMINAL))
    assert all(out.index(d) < terminal_at for d in done)


def test_error_event_sets_failure_after_the_earlier_events() -> None:
    acc = ResponseAccumulator()
    seen = []
    for event in decoded(CORPUS / "responses-error-insufficient-quota.sse"):
        seen.append((event.type, acc.failure is None))
        response_events(acc, event)
        if acc.terminal:
            break
    assert seen == [("response.created", True), ("response.in_progress", True), ("error", True)]
    assert acc.failure is not None
    assert acc.failure.code == "insufficient_quota"
    assert "exceeded your current quota" in acc.failure.message


def test_response_failed_keeps_the_error_event_failure() -> None:
    acc, out = run(CORPUS / "responses-error-insufficient-quota.sse")
    assert acc.failure is not None and acc.failure.code == "insufficient_quota"
    assert acc.response().status == "failed"
    assert [e.finish_reason for e in out if isinstance(e, ev.Done)] == ["failed"]


RESUMES = [
    ("responses-background-create", "responses-background-resume-after-0"),
    ("responses-background-create-dotnet", "responses-background-resume-after-1-dotnet"),
]


@pytest.mark.parametrize(("create", "resume"), RESUMES)
def test_resumed_stream_accumulates_to_the_same_text(create: str, resume: str) -> None:
    created, _ = run(CORPUS / f"{create}.sse")
    resumed, _ = run(CORPUS / f"{resume}.sse")
    assert resumed.terminal and resumed.failure is None
    assert resumed.current_content() == created.current_content() != ""
    assert resumed.response().output_text == created.response().output_text


@pytest.mark.parametrize(("create", "resume"), RESUMES)
def test_replaying_a_resume_after_the_create_stream_adds_nothing(create: str,
                                                                 resume: str) -> None:
    acc, _ = run(CORPUS / f"{create}.sse")
    text = acc.current_content()
    acc.resume_after(acc.last_sequence_number)  # what a reconnection says first
    assert all(response_events(acc, e) == [] for e in decoded(CORPUS / f"{resume}.sse"))
    assert acc.current_content() == text


@pytest.mark.parametrize(("create", "resume"), RESUMES)
def test_resuming_mid_text_without_item_events_rebuilds_the_text(create: str,
                                                                 resume: str) -> None:
    events = decoded(CORPUS / f"{create}.sse")
    first_delta = next(i for i, e in enumerate(events) if isinstance(e, rt.OutputTextDelta))
    created, _ = run(CORPUS / f"{create}.sse")
    acc = ResponseAccumulator()
    for event in events[first_delta:]:
        if not isinstance(event, TERMINAL):
            response_events(acc, event)
    assert acc.current_content() == created.current_content()
