"""The Responses API streamed end to end over a real socket: recordings, scripted scenarios, CLI.

Every recorded ``responses-*.sse`` is replayed byte for byte by the mock server and read with
``client.responses.create_stream``. What the recordings must do:

- decode without an ``UnknownEvent`` and deliver every wire event up to the terminal one;
- end with ``response.completed`` -> a final response equal to that payload (read here with the
  standard ``json`` module, not with the library's decoder): output text, items (id, type,
  status), function calls;
- ``responses-error-insufficient-quota``: ``ResponseFailedError`` (``insufficient_quota``) after
  the events before the ``error`` event were delivered;
- the ``background-resume-*`` recordings start mid-way (no ``response.created``) but end with
  ``response.completed``, so they complete like any other stream;
- the same events whatever the TCP chunking.

No recording lacks a terminal event; a cut one is made with ``Fault.truncate()``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from support import CORPUS, ROOT, ClientFactory, corpus_files, needs_shared, until_metrics

import oxide_rx as ox
from oxide_rx.testing import Fault, MockServer, Scenario
from oxide_rx.types import responses as rt

FILES = corpus_files("responses-")
SMALL_FILE = 16 * 1024  # byte-at-a-time replay is slow on big recordings
TERMINAL_TYPES = ("response.completed", "response.incomplete", "response.failed", "error")
ERROR_FILE = "responses-error-insufficient-quota"


def _ids(paths: list[Path]) -> list[str]:
    return [p.stem for p in paths]


def _payloads(path: Path) -> list[dict[str, Any]]:
    """Every frame's JSON, parsed with the standard library."""
    blocks = path.read_bytes().replace(b"\r\n", b"\n").split(b"\n\n")
    result = []
    for block in blocks:
        data = [line[5:].removeprefix(b" ") for line in block.split(b"\n")
                if line.startswith(b"data:")]
        if data:
            result.append(json.loads(b"\n".join(data)))
    return result


def _completed(path: Path) -> dict[str, Any]:
    return next(p["response"] for p in _payloads(path) if p["type"] == "response.completed")


def _calls_in(path: Path) -> list[tuple[str, str, str]]:
    if path.stem == ERROR_FILE:
        return []
    return [(item["call_id"], item["name"], item["arguments"])
            for item in _completed(path)["output"] if item["type"] == "function_call"]


COMPLETED_FILES = [p for p in FILES if p.stem != ERROR_FILE]
CALL_FILES = [p for p in FILES if _calls_in(p)]
RESUME_FILES = [p for p in FILES if "-resume-" in p.stem]


Collected = tuple[list[Any], ox.ResponseStream, Exception | None]
Collect = Callable[[Scenario], Awaitable[Collected]]


@pytest.fixture
def collect(server: MockServer, make_client: ClientFactory) -> Collect:
    """Streams a scenario from the test's server, each time with a fresh client: every
    delivered event, the stream, and what ended it (None: completed)."""

    async def run(scenario: Scenario) -> Collected:
        server.enqueue(scenario)
        client = make_client(max_retries=0)
        stream = await client.responses.create_stream(model="m", input="replay")
        events: list[Any] = []
        try:
            async for event in stream:
                events.append(event)
        except ox.OxideRxError as exc:
            return until_metrics(events), stream, exc
        finally:
            await client.aclose()
        return until_metrics(events), stream, None

    return run


def _wire(events: list[Any]) -> list[Any]:
    return [e for e in events if not isinstance(e, ox.Event)]


def _output_text(response: dict[str, Any]) -> str:
    return "".join(part["text"] for item in response["output"] if item["type"] == "message"
                   for part in item["content"] if part["type"] == "output_text")


# -- every recording ------------------------------------------------------------------------


@needs_shared
@pytest.mark.parametrize("path", FILES, ids=_ids(FILES))
async def test_recording_decodes_every_event_up_to_the_terminal_one(
    collect: Collect, path: Path
) -> None:
    events, _, _ = await collect(Scenario.replay(path))
    wire = _wire(events)
    assert not [e.type for e in wire if isinstance(e, rt.UnknownEvent)]
    sent = _payloads(path)
    end = next(i for i, p in enumerate(sent) if p["type"] in TERMINAL_TYPES)
    expected = [(p["type"], p.get("sequence_number")) for p in sent[: end + 1]]
    assert [(e.type, e.sequence_number) for e in wire] == expected


@needs_shared
@pytest.mark.parametrize("path", COMPLETED_FILES, ids=_ids(COMPLETED_FILES))
async def test_final_response_equals_the_completed_payload(collect: Collect, path: Path) -> None:
    events, stream, error = await collect(Scenario.replay(path))
    assert error is None
    response = await stream.final_response()
    theirs = _completed(path)
    assert (response.id, response.status) == (theirs["id"], theirs["status"])
    assert response.output_text == _output_text(theirs)
    assert [(getattr(i, "id", None), i.type, getattr(i, "status", None))
            for i in response.output] == [
        (i.get("id"), i["type"], i.get("status")) for i in theirs["output"]]
    calls = [(i.call_id, i.name, i.arguments) for i in response.output
             if isinstance(i, rt.FunctionCall)]
    assert calls == _calls_in(path)
    assert isinstance(events[-1], ox.Done) and events[-1].finish_reason == "completed"


@needs_shared
@pytest.mark.parametrize("path", COMPLETED_FILES, ids=_ids(COMPLETED_FILES))
async def test_text_helper_events_follow_the_wire_text(collect: Collect, path: Path) -> None:
    # Compared with the recording's own deltas and done texts: one anonymised recording
    # (azure-reasoning-multi-summary) streams "X" but reports a longer ``output_text.done``.
    events, stream, _ = await collect(Scenario.replay(path))
    sent = _payloads(path)
    deltas = [e.delta for e in events if isinstance(e, ox.ContentDelta)]
    assert deltas == [p["delta"] for p in sent if p["type"] == "response.output_text.delta"]
    done = [e.content for e in events if isinstance(e, ox.ContentDone)]
    assert done == [p["text"] for p in sent if p["type"] == "response.output_text.done"]
    assert "".join(done) == (await stream.final_response()).output_text == stream.current_content()


@needs_shared
@pytest.mark.parametrize("path", CALL_FILES, ids=_ids(CALL_FILES))
async def test_tool_call_done_carries_the_call_before_the_terminal_event(
    collect: Collect, path: Path
) -> None:
    events, _, _ = await collect(Scenario.replay(path))
    done = [i for i, e in enumerate(events) if isinstance(e, ox.ToolCallDone)]
    terminal = next(i for i, e in enumerate(events) if isinstance(e, rt.ResponseCompleted))
    assert [(events[i].call_id, events[i].name, events[i].arguments) for i in done] == (
        _calls_in(path))
    assert done and max(done) < terminal
    for i in done:  # as early as it is known complete: right after arguments.done
        assert isinstance(events[i - 1], rt.FunctionCallArgumentsDone)
        assert events[i].parsed_arguments == json.loads(events[i].arguments)


@needs_shared
@pytest.mark.parametrize("path", CALL_FILES, ids=_ids(CALL_FILES))
async def test_tool_call_deltas_add_up_to_the_arguments(collect: Collect, path: Path) -> None:
    events, _, _ = await collect(Scenario.replay(path))
    pieces: dict[int, str] = {}
    for event in events:
        if isinstance(event, ox.ToolCallDelta):
            pieces[event.index] = pieces.get(event.index, "") + event.arguments_delta
    assert pieces == {e.index: e.arguments for e in events if isinstance(e, ox.ToolCallDone)}


@needs_shared
async def test_error_recording_raises_insufficient_quota_after_the_earlier_events(
    collect: Collect
) -> None:
    events, stream, error = await collect(Scenario.replay(CORPUS / f"{ERROR_FILE}.sse"))
    assert isinstance(error, ox.ResponseFailedError)
    assert error.code == "insufficient_quota"
    assert [e.type for e in _wire(events)] == ["response.created", "response.in_progress", "error"]
    assert error.partial is not None and error.partial.status == "failed"
    with pytest.raises(ox.ResponseFailedError) as raised:
        await stream.final_response()
    assert raised.value is error


@needs_shared
async def test_error_recording_raises_from_final_response(
    server: MockServer, client: ox.OpenAI
) -> None:
    server.enqueue(Scenario.replay(CORPUS / f"{ERROR_FILE}.sse"))
    stream = await client.responses.create_stream(model="m", input="x")
    seen: list[Any] = []
    stream.events.subscribe(seen.append, lambda _: None)
    with pytest.raises(ox.ResponseFailedError) as raised:
        await stream.final_response()
    assert raised.value.code == "insufficient_quota"
    assert isinstance(until_metrics(seen)[-1], rt.ErrorEvent)


@needs_shared
@pytest.mark.parametrize("path", RESUME_FILES, ids=_ids(RESUME_FILES))
async def test_resumed_recording_completes_without_response_created(
    collect: Collect, path: Path
) -> None:
    events, stream, error = await collect(Scenario.replay(path))
    assert error is None
    assert not any(isinstance(e, rt.ResponseCreated) for e in events)
    assert _wire(events)[0].sequence_number > 0
    create = CORPUS / (path.stem.replace("resume-after-0", "create")
                       .replace("resume-after-1-dotnet", "create-dotnet") + ".sse")
    assert stream.current_content() == _output_text(_completed(create)) != ""


@needs_shared
async def test_recording_cut_before_its_terminal_event_raises_truncated_with_partial(
    collect: Collect
) -> None:
    path = CORPUS / "responses-text.sse"
    _, _, error = await collect(Scenario.replay(path, fault=Fault.truncate()))
    assert isinstance(error, ox.StreamTruncatedError)
    assert isinstance(error.partial, rt.Response)
    assert error.partial.status == "in_progress"
    assert error.partial.output_text == _output_text(_completed(path))


CHUNKINGS: list[Any] = ["whole", ("random", 7), ("random", 1234), 1]


@needs_shared
@pytest.mark.parametrize("path", FILES, ids=_ids(FILES))
async def test_events_do_not_depend_on_tcp_chunking(collect: Collect, path: Path) -> None:
    reference, _, ref_error = await collect(Scenario.replay(path))
    for chunking in CHUNKINGS:
        if chunking == 1 and path.stat().st_size > SMALL_FILE:
            continue
        fault = Fault.chunking(chunking)
        events, _, error = await collect(Scenario.replay(path, fault=fault))
        assert events == reference, f"chunking={chunking!r}"
        assert type(error) is type(ref_error)


# -- scripted scenarios ---------------------------------------------------------------------


async def test_text_scenario_streams_content_and_completes(collect: Collect) -> None:
    events, stream, error = await collect(Scenario.text("Hello from the Responses API."))
    assert error is None
    deltas = [e for e in events if isinstance(e, ox.ContentDelta)]
    assert len(deltas) > 1 and deltas[-1].snapshot == "Hello from the Responses API."
    assert [e.content for e in events if isinstance(e, ox.ContentDone)] == [
        "Hello from the Responses API."]
    assert (await stream.final_response()).output_text == "Hello from the Responses API."
    assert [type(e) for e in events[-3:]] == [rt.ResponseCompleted, ox.Usage, ox.Done]


async def test_several_function_calls_in_one_response(collect: Collect) -> None:
    calls = [("get_weather", {"city": "Paris"}), ("get_time", {"zone": "Asia/Tokyo"}),
             ("get_weather", {"city": "Lima"})]
    events, stream, error = await collect(Scenario.function_calls(calls))
    assert error is None
    done = [e for e in events if isinstance(e, ox.ToolCallDone)]
    assert [(e.name, e.parsed_arguments) for e in done] == [(n, a) for n, a in calls]
    assert [e.index for e in done] == [0, 1, 2]
    response = await stream.final_response()
    items = [i for i in response.output if isinstance(i, rt.FunctionCall)]
    assert [i.call_id for i in items] == [e.call_id for e in done]
    assert len({e.call_id for e in done}) == 3
    terminal = next(i for i, e in enumerate(events) if isinstance(e, rt.ResponseCompleted))
    assert all(events.index(e) < terminal for e in done)


async def test_reasoning_summary_scenario_emits_reasoning_events(collect: Collect) -> None:
    scenario = Scenario.reasoning(["First, look.", " Then, answer."], "The answer.")
    events, stream, _ = await collect(scenario)
    assert [e.text for e in events if isinstance(e, ox.ReasoningDone)] == [
        "First, look.", " Then, answer."]
    assert "".join(e.delta for e in events if isinstance(e, ox.ReasoningDelta)) == (
        "First, look. Then, answer.")
    response = await stream.final_response()
    reasoning = response.output[0]
    assert isinstance(reasoning, rt.Reasoning)
    assert [p.text for p in reasoning.summary] == ["First, look.", " Then, answer."]
    assert response.output_text == "The answer."


async def test_refusal_scenario_emits_refusal_events(collect: Collect) -> None:
    events, stream, error = await collect(Scenario.refusal("I can't help with that."))
    assert error is None
    deltas = [e for e in events if isinstance(e, ox.RefusalDelta)]
    assert deltas and deltas[-1].snapshot == "I can't help with that."
    assert [e.refusal for e in events if isinstance(e, ox.RefusalDone)] == [
        "I can't help with that."]
    assert not any(isinstance(e, ox.ContentDelta) for e in events)
    response = await stream.final_response()
    message = response.output[0]
    assert isinstance(message, rt.Message)
    assert message.content == [rt.RefusalPart(refusal="I can't help with that.")]
    assert response.output_text == ""


async def test_incomplete_scenario_ends_with_done_and_no_error(collect: Collect) -> None:
    events, stream, error = await collect(Scenario.incomplete("max_output_tokens", "Half an"))
    assert error is None
    assert events[-1] == ox.Done("incomplete", reason="max_output_tokens")
    response = await stream.final_response()
    assert response.status == "incomplete"
    assert response.incomplete_details is not None
    assert response.incomplete_details.reason == "max_output_tokens"
    assert response.output_text == "Half an"


async def test_error_scenario_raises_after_delivering_the_error_event(collect: Collect) -> None:
    events, stream, error = await collect(Scenario.response_error("server_error", "Boom"))
    assert isinstance(error, ox.ResponseFailedError)
    assert (error.code, error.message) == ("server_error", "Boom")
    assert isinstance(_wire(events)[-1], rt.ErrorEvent)
    assert stream.current_response().status == "failed"


async def test_non_background_stream_cut_mid_body_raises_truncated_with_partial(
    server: MockServer, collect: Collect
) -> None:
    scenario = Scenario.text("one two three four five six seven", fault=Fault.drop_after(8))
    events, _, error = await collect(scenario)
    assert not [r for r in server.requests if r.method == "GET"]
    assert isinstance(error, ox.StreamTruncatedError)
    assert isinstance(error.partial, rt.Response) and error.partial.status == "in_progress"
    text = "".join(e.delta for e in events if isinstance(e, ox.ContentDelta))
    assert text and error.partial.output_text == text
    assert "one two three four five six seven".startswith(text)


# -- command line ---------------------------------------------------------------------------


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("OPENAI_API_KEY", "OPENAI_BASE_URL")}
    return subprocess.run([sys.executable, *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=60)


def test_cli_streams_a_responses_answer_offline() -> None:
    result = _cli("-m", "oxide_rx.cli", "chat", "--api", "responses", "Tell me about otters")
    assert result.returncode == 0, result.stderr
    assert "mock server" in result.stderr
    assert "otters" in result.stdout


def test_cli_prints_responses_events_offline() -> None:
    result = _cli("-m", "oxide_rx.cli", "chat", "--api", "responses", "--events", "Hi")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("ResponseCreated {")
    assert lines[-2] == "Done(finish_reason='completed', choice=0, reason=None)"
    assert lines[-1].startswith("Metrics(")


def test_responses_tools_example_starts_tools_as_calls_complete() -> None:
    result = _cli(str(ROOT / "examples" / "responses_tools.py"))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    started = [i for i, line in enumerate(lines) if " started, call_id " in line]
    summary = next(i for i, line in enumerate(lines) if line.startswith("[response completed"))
    assert len(started) == 2 and max(started) < summary
    assert "[get_weather finished: 18 °C and clear in Paris]" in lines
    assert lines[-1].strip()
