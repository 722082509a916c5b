"""Every recorded chat stream through the sans-IO accumulator, no network.

(a) the final completion matches what the source tests asserted (``*.expected.json``);
(b) it equals, choice by choice, what the official ``openai`` package's
    ``ChatCompletionStreamState`` builds from the same chunks;
(c) the helper events come in the official order.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

import msgspec
import pydantic
import pytest
from openai.lib.streaming.chat import ChatCompletionStreamState
from openai.types.chat import ChatCompletionChunk as SdkChunk
from support import CORPUS, chat_events, corpus_files, needs_shared, read_frames

from oxide_rx import ChatCompletionAccumulator
from oxide_rx.events import (
    ContentDelta,
    ContentDone,
    Done,
    Event,
    LogprobsDelta,
    RefusalDone,
    ToolCallDelta,
    ToolCallDone,
)
from oxide_rx.types.chat import (
    CHUNK_DECODER,
    ChatCompletion,
    ChatCompletionChoice,
    ChatCompletionTokenLogprob,
    ChoiceLogprobs,
    CompletionUsage,
)

pytestmark = needs_shared

CHAT_FILES = corpus_files("chat-")


def _asserts_values(path: Path) -> bool:
    expected = path.with_suffix(".expected.json")
    # chat-length-max-tokens asserts an exception instead: see its own test below.
    return expected.exists() and "raises" not in json.loads(expected.read_text())["expected"]


EXPECTED_FILES = [p for p in CHAT_FILES if _asserts_values(p)]
SDK_CRASHES = {
    "chat-audio-output": "its keep-alive chunks have no `choices` key; the SDK's state raises "
                         "TypeError on them (see chat-audio-output.derived.json)",
}


class Location(msgspec.Struct):
    """openai-python tests' ``Location``."""

    city: str
    temperature: float
    units: Literal["c", "f"]


class NodeLocation(msgspec.Struct):
    """openai-node tests' zod ``location``."""

    city: str
    units: Literal["c", "f"]


class GetWeatherArgs(pydantic.BaseModel):
    """openai-python tests' ``GetWeatherArgs`` (a pydantic function tool)."""

    city: str
    country: str
    units: Literal["c", "f"] = "c"


# What each source test asked for; files not listed here asked for nothing to be parsed.
SETUPS: dict[str, dict[str, Any]] = {
    "chat-length-max-tokens": {"response_format": Location},
    "chat-logprobs-refusal": {"response_format": Location},
    "chat-refusal-structured": {"response_format": Location},
    "chat-structured-json-schema": {"response_format": Location},
    "chat-structured-n3": {"response_format": Location},
    "chat-structured-usage-node": {"response_format": NodeLocation},
    "chat-logprobs-content-node": {"response_format": NodeLocation},
    "chat-logprobs-refusal-node": {"response_format": NodeLocation},
    "chat-tool-call-pydantic": {"tool_types": {"GetWeatherArgs": GetWeatherArgs}},
    "chat-tool-calls-multi-pydantic": {"tool_types": {"GetWeatherArgs": GetWeatherArgs}},
}

OFFICIAL_NAMES = {
    "chunk": "Chunk",
    "content.delta": "ContentDelta",
    "content.done": "ContentDone",
    "refusal.delta": "RefusalDelta",
    "refusal.done": "RefusalDone",
    "tool_calls.function.arguments.delta": "ToolCallDelta",
    "tool_calls.function.arguments.done": "ToolCallDone",
    "logprobs.content.delta": "LogprobsDelta",
    "logprobs.refusal.delta": "LogprobsDelta",
}


def run_ours(path: Path) -> tuple[list[list[Event]], ChatCompletionAccumulator]:
    """Our events per frame (the ``finish()`` events appended to the last) and the state."""
    acc = ChatCompletionAccumulator(**SETUPS.get(path.stem, {}))
    per_frame = [chat_events(acc, CHUNK_DECODER.decode(frame)) for frame in read_frames(path)]
    per_frame[-1] = per_frame[-1] + acc.finish()
    return per_frame, acc


def is_azure_filter_chunk(frame: bytes) -> bool:
    # The SDK's stream wrapper drops these before its state sees them.
    return bool(json.loads(frame).get("object") != "chat.completion.chunk")


def run_sdk(path: Path) -> tuple[list[str], Any, list[bool]]:
    """The SDK's event types, final snapshot, and which frames it was fed."""
    state: ChatCompletionStreamState[Any] = ChatCompletionStreamState()
    event_types: list[str] = []
    fed = []
    for frame in read_frames(path):
        fed.append(not is_azure_filter_chunk(frame))
        if fed[-1]:
            chunk = SdkChunk.model_validate_json(frame)
            event_types += [event.type for event in state.handle_chunk(chunk)]
    return event_types, state.current_completion_snapshot, fed


def plain(value: Any) -> Any:
    if isinstance(value, pydantic.BaseModel):
        return value.model_dump()
    return msgspec.to_builtins(value)


def choices_of(expected: dict[str, Any]) -> list[dict[str, Any]]:
    if "choices" in expected:
        return list(expected["choices"])
    if "choices[0]" in expected:
        return [expected["choices[0]"]]
    return list(expected["final_completion"]["choices"])


def assert_choice_matches(want: dict[str, Any], got: ChatCompletionChoice, name: str) -> None:
    assert got.index == want["index"]
    assert got.finish_reason == want["finish_reason"]
    message, expected_message = got.message, want["message"]
    assert message.role == expected_message["role"]
    assert message.content == expected_message["content"]
    assert message.refusal == expected_message["refusal"]
    if "parsed" in expected_message:
        assert plain(message.parsed) == expected_message["parsed"]
    if "logprobs" in want:
        assert got.logprobs == msgspec.convert(want["logprobs"], ChoiceLogprobs | None)
    expected_calls = expected_message.get("tool_calls") or []
    calls = message.tool_calls or []
    assert len(calls) == len(expected_calls)
    for position, (call, expected_call) in enumerate(zip(calls, expected_calls, strict=True)):
        function = expected_call["function"]
        assert position == expected_call["index"]
        assert (call.id, call.type) == (expected_call["id"], expected_call["type"])
        assert (call.function.name, call.function.arguments) == (
            function["name"], function["arguments"])
        if name == "chat-tool-call-non-strict":
            # Deliberate difference: the SDK parses only strict tools; we decode the JSON of
            # every tool that has no registered type.
            assert function["parsed_arguments"] is None
            assert call.parsed_arguments == json.loads(call.function.arguments)
        else:
            assert plain(call.parsed_arguments) == function["parsed_arguments"]


@pytest.mark.parametrize("path", EXPECTED_FILES, ids=[p.stem for p in EXPECTED_FILES])
def test_final_completion_matches_the_source_assertions(path: Path) -> None:
    expected = json.loads(path.with_suffix(".expected.json").read_text())["expected"]
    _, acc = run_ours(path)
    completion = acc.completion()
    want_choices = choices_of(expected)
    assert len(completion.choices) >= len(want_choices)
    for want, got in zip(want_choices, completion.choices, strict=False):
        assert_choice_matches(want, got, path.stem)


def test_final_completion_metadata_matches_the_source_assertion() -> None:
    path = CORPUS / "chat-structured-json-schema.sse"
    expected = json.loads(path.with_suffix(".expected.json").read_text())["expected"]
    want = expected["final_completion"]
    _, acc = run_ours(path)
    completion = acc.completion()
    assert (completion.id, completion.created, completion.model, completion.object) == (
        want["id"], want["created"], want["model"], want["object"])
    assert (completion.system_fingerprint, completion.service_tier) == (
        want["system_fingerprint"], want["service_tier"])
    assert completion.usage == msgspec.convert(want["usage"], CompletionUsage)


def test_length_finish_is_reported_not_raised() -> None:
    # The SDK raises LengthFinishReasonError here; we report the cut-short choice instead.
    per_frame, acc = run_ours(CORPUS / "chat-length-max-tokens.sse")
    events = [event for frame in per_frame for event in frame]
    assert [e for e in events if isinstance(e, Done)] == [Done("length")]
    choice = acc.completion().choices[0]
    assert (choice.finish_reason, choice.message.parsed) == ("length", None)
    assert [e.parsed for e in events if isinstance(e, ContentDone)] == [None]


@pytest.mark.parametrize("name", ["chat-text-basic", "chat-structured-json-schema"])
def test_first_content_done_event_matches(name: str) -> None:
    path = CORPUS / f"{name}.sse"
    want = json.loads(path.with_suffix(".expected.json").read_text())["expected"]
    per_frame, _ = run_ours(path)
    done = next(e for frame in per_frame for e in frame if isinstance(e, ContentDone))
    assert done.content == want["first_content_done_event"]["content"]
    assert plain(done.parsed) == want["first_content_done_event"]["parsed"]


def test_first_refusal_done_event_matches() -> None:
    path = CORPUS / "chat-refusal-structured.sse"
    want = json.loads(path.with_suffix(".expected.json").read_text())["expected"]
    per_frame, _ = run_ours(path)
    done = next(e for frame in per_frame for e in frame if isinstance(e, RefusalDone))
    assert done.refusal == want["first_refusal_done_event"]["refusal"]


def test_first_tool_call_done_event_matches() -> None:
    path = CORPUS / "chat-tool-call-non-strict.sse"
    want = json.loads(path.with_suffix(".expected.json").read_text())["expected"]
    want_done = want["first_tool_calls_function_arguments_done_event"]
    per_frame, _ = run_ours(path)
    done = next(e for frame in per_frame for e in frame if isinstance(e, ToolCallDone))
    assert (done.name, done.index, done.arguments) == (
        want_done["name"], want_done["index"], want_done["arguments"])


def test_logprobs_events_match() -> None:
    path = CORPUS / "chat-logprobs-content.sse"
    want = json.loads(path.with_suffix(".expected.json").read_text())["expected"]
    per_frame, _ = run_ours(path)
    ours = [e.content for frame in per_frame for e in frame if isinstance(e, LogprobsDelta)]
    deltas = [w["content"] for w in want["logprobs_events"] if w["type"].endswith(".delta")]
    assert ours == msgspec.convert(deltas, list[list[ChatCompletionTokenLogprob]])


def test_refusal_logprobs_event_count_matches() -> None:
    path = CORPUS / "chat-logprobs-refusal.sse"
    want = json.loads(path.with_suffix(".expected.json").read_text())["expected"]
    per_frame, _ = run_ours(path)
    ours = [e for frame in per_frame for e in frame if isinstance(e, LogprobsDelta)]
    assert all(e.content is None and e.refusal for e in ours)
    assert len(ours) == want["logprobs_event_types"].count("logprobs.refusal.delta")


def test_n3_event_order_matches_the_source_assertion() -> None:
    path = CORPUS / "chat-structured-n3.sse"
    want = json.loads(path.with_suffix(".expected.json").read_text())["expected"]["event_types"]
    to_official = {ours: official for official, ours in OFFICIAL_NAMES.items()}
    per_frame, _ = run_ours(path)
    ours = [to_official[type(e).__name__] for frame in per_frame for e in frame
            if type(e).__name__ in to_official]
    assert ours == want


@pytest.mark.parametrize("path", CHAT_FILES, ids=[p.stem for p in CHAT_FILES])
def test_final_completion_equals_the_official_sdk(path: Path) -> None:
    if path.stem in SDK_CRASHES:
        pytest.skip(SDK_CRASHES[path.stem])
    _, acc = run_ours(path)
    _, snapshot, _ = run_sdk(path)
    ours = acc.completion()
    assert len(ours.choices) == len(snapshot.choices)
    for mine, theirs in zip(ours.choices, snapshot.choices, strict=True):
        assert mine.index == theirs.index
        assert mine.finish_reason == theirs.finish_reason
        assert mine.message.content == theirs.message.content
        assert mine.message.refusal == theirs.message.refusal
        assert [(c.id, c.function.name, c.function.arguments)
                for c in mine.message.tool_calls or []] == [
            (c.id, c.function.name, c.function.arguments)
            for c in theirs.message.tool_calls or []]
        their_logprobs = None if theirs.logprobs is None else theirs.logprobs.to_dict()
        assert mine.logprobs == msgspec.convert(their_logprobs, ChoiceLogprobs | None)
    assert ours.usage == last_non_null_usage(path)
    if snapshot.usage is not None:
        assert ours.usage == msgspec.convert(snapshot.usage.to_dict(), CompletionUsage)


def last_non_null_usage(path: Path) -> CompletionUsage | None:
    found = None
    for frame in read_frames(path):
        usage = json.loads(frame).get("usage")
        if usage is not None:
            found = msgspec.convert(usage, CompletionUsage)
    return found


def test_moderation_chunk_keeps_usage_unlike_the_sdk() -> None:
    # The moderation chunk follows the usage chunk with `usage: null`; the SDK copies that
    # null over the usage, we keep the last non-null one.
    path = CORPUS / "chat-moderation-chunk.sse"
    _, acc = run_ours(path)
    _, snapshot, _ = run_sdk(path)
    assert snapshot.usage is None
    assert acc.completion().usage is not None
    assert acc.completion().moderation == snapshot.moderation.to_dict()


@pytest.mark.parametrize("path", CHAT_FILES, ids=[p.stem for p in CHAT_FILES])
def test_event_sequence_matches_the_official_helper(path: Path) -> None:
    if path.stem in SDK_CRASHES:
        pytest.skip(SDK_CRASHES[path.stem])
    per_frame, _ = run_ours(path)
    their_types, _, fed = run_sdk(path)
    theirs = [OFFICIAL_NAMES[t] for t in their_types if t in OFFICIAL_NAMES]
    ours = [type(e).__name__ for events, was_fed in zip(per_frame, fed, strict=True)
            if was_fed for e in events if type(e).__name__ in set(OFFICIAL_NAMES.values())]
    assert ours == theirs


def test_azure_filter_chunks_only_fire_chunk_events() -> None:
    per_frame, _ = run_ours(CORPUS / "chat-azure-prompt-filter.sse")
    frames = read_frames(CORPUS / "chat-azure-prompt-filter.sse")
    skipped = [events for events, frame in zip(per_frame, frames, strict=True)
               if is_azure_filter_chunk(frame)]
    assert skipped
    assert all([type(e).__name__ for e in events] == ["Chunk"] for events in skipped)


def test_official_sdk_still_crashes_on_audio_keepalives() -> None:
    # Keeps the SDK_CRASHES skip honest: when the SDK handles these, compare there too.
    state: ChatCompletionStreamState[Any] = ChatCompletionStreamState()
    frames = read_frames(CORPUS / "chat-audio-output.sse")
    with pytest.raises(TypeError):
        for frame in frames:
            state.handle_chunk(SdkChunk.construct(**json.loads(frame)))


def test_audio_stream_accumulates() -> None:
    path = CORPUS / "chat-audio-output.sse"
    per_frame, acc = run_ours(path)
    pieces = [json.loads(f) for f in read_frames(path)]
    audio_deltas = [c["delta"]["audio"] for p in pieces for c in p.get("choices", [])
                    if "audio" in c["delta"]]
    audio = acc.completion().choices[0].message.audio
    assert audio is not None
    assert audio.id == audio_deltas[0]["id"]
    assert audio.transcript == "Hello"
    assert audio.data == "".join(d.get("data", "") for d in audio_deltas)
    assert audio.expires_at == audio_deltas[-1]["expires_at"]
    assert acc.completion().usage is not None
    # No finish_reason ever arrives: finish() closes the choice at [DONE].
    assert acc.completion().choices[0].finish_reason is None
    assert per_frame[-1][-1] == Done(None)


@pytest.mark.parametrize("path", CHAT_FILES, ids=[p.stem for p in CHAT_FILES])
def test_lazy_snapshots_read_after_the_stream_are_prefixes(path: Path) -> None:
    per_frame, _ = run_ours(path)
    text: dict[int, str] = {}
    arguments: dict[tuple[int, int], str] = {}
    for event in (e for frame in per_frame for e in frame):
        if isinstance(event, ContentDelta):
            text[event.choice] = text.get(event.choice, "") + event.delta
            assert event.snapshot == text[event.choice]
        elif isinstance(event, ToolCallDelta):
            key = (event.choice, event.index)
            arguments[key] = arguments.get(key, "") + event.arguments_delta
            assert event.arguments_snapshot == arguments[key]


@pytest.mark.parametrize("path", CHAT_FILES, ids=[p.stem for p in CHAT_FILES])
def test_every_choice_ends_with_one_done(path: Path) -> None:
    per_frame, acc = run_ours(path)
    done = [e.choice for frame in per_frame for e in frame if isinstance(e, Done)]
    assert sorted(done) == [c.index for c in acc.completion().choices]


def test_completion_reencodes_without_obfuscation() -> None:
    _, acc = run_ours(CORPUS / "chat-usage-obfuscation.sse")
    encoded = msgspec.json.encode(acc.completion())
    assert b"obfuscation" not in encoded
    assert msgspec.json.decode(encoded, type=ChatCompletion) == acc.completion()
