"""Property tests of the real pipeline (parse_sse -> decode -> accumulate) over byte chunks.

Whatever the network reads look like, and whatever junk a server sends, the pipeline raises
nothing but oxide_rx's typed errors, and the same body gives the same events (and the same
error) however it is split. Valid generated streams also lose no text.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import msgspec
import pytest
import reactivex
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from reactivex import Observable
from support import corpus_files

import oxide_rx as ox
from oxide_rx.testing import Scenario
from oxide_rx.testing._chat import ChatParams, chat_stream
from oxide_rx.testing._responses import ResponseRun, ResponsesParams
from oxide_rx.types.chat import ChatCompletionChunk
from oxide_rx.types.responses import ResponseStreamEvent

Pipeline = Callable[[Observable[bytes]], Observable[Any]]
Outcome = tuple[list[dict[str, Any]], str | None]

CHAT_BODIES = {p.name: p.read_bytes() for p in corpus_files("chat-")}
RESPONSES_BODIES = {p.name: p.read_bytes() for p in corpus_files("responses-")}
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
TEXT = st.text(st.characters(exclude_categories=["Cs"]), max_size=10)


def chat_pipeline(accumulator: ox.ChatCompletionAccumulator | None = None) -> Pipeline:
    def pipeline(source: Observable[bytes]) -> Observable[Any]:
        return source.pipe(
            ox.ops.parse_sse(),
            ox.ops.decode(ChatCompletionChunk),
            ox.ops.accumulate_chat(accumulator),
        )

    return pipeline


def responses_pipeline(source: Observable[bytes]) -> Observable[Any]:
    return source.pipe(
        ox.ops.parse_sse(),
        ox.ops.decode(ResponseStreamEvent, terminator=None),
        ox.ops.accumulate_responses(),
    )


def collect(pipeline: Pipeline, reads: list[bytes]) -> tuple[list[Any], list[Exception]]:
    """The events and the errors of one run; it must end exactly once, with a typed error.

    Anything raised out of ``subscribe`` fails the test by itself.
    """
    events: list[Any] = []
    errors: list[Exception] = []
    completed: list[bool] = []
    pipeline(reactivex.from_iterable(reads)).subscribe(
        events.append, errors.append, lambda: completed.append(True)
    )
    assert len(errors) + len(completed) == 1, "the stream must end exactly once"
    for error in errors:
        assert isinstance(error, ox.OxideRxError), f"untyped error: {error!r}"
    return events, errors


def run(pipeline: Pipeline, reads: list[bytes]) -> Outcome:
    """Events (as comparable dicts) and the error that ended the stream, if any."""
    events, errors = collect(pipeline, reads)
    ended = f"{type(errors[0]).__name__}: {errors[0]}" if errors else None
    return [_plain(e) for e in events], ended


def _plain(event: Any) -> dict[str, Any]:
    if not isinstance(event, ox.Event):  # a Responses wire event (a msgspec Struct)
        return {"type": type(event).__name__, "wire": msgspec.json.encode(event)}
    fields = event.to_dict()
    if isinstance(event, ox.Chunk):
        fields["chunk"] = msgspec.json.encode(event.chunk)
    return {"type": type(event).__name__, **{k: repr(v) for k, v in fields.items()}}


def split_at(body: bytes, cuts: list[int]) -> list[bytes]:
    bounds = [0, *sorted(c % (len(body) + 1) for c in cuts), len(body)]
    return [body[a:b] for a, b in itertools.pairwise(bounds)]


def insert_junk(body: bytes, junk: list[tuple[int, bytes]]) -> bytes:
    for position, piece in sorted(junk, reverse=True):
        at = position % (len(body) + 1)
        body = body[:at] + piece + body[at:]
    return body


CUTS = st.lists(st.integers(min_value=0, max_value=1 << 30), max_size=24)
JUNK = st.lists(
    st.tuples(st.integers(min_value=0, max_value=1 << 30), st.binary(min_size=1, max_size=12)),
    min_size=1,
    max_size=4,
)


# --- recorded streams, any split ---------------------------------------------------------------


@pytest.mark.skipif(not CHAT_BODIES, reason="../shared corpus not found")
@SETTINGS
@given(name=st.sampled_from(sorted(CHAT_BODIES) or ["-"]), cuts=CUTS)
def test_chat_corpus_gives_the_same_events_however_split(name: str, cuts: list[int]) -> None:
    body = CHAT_BODIES[name]
    assert run(chat_pipeline(), split_at(body, cuts)) == run(chat_pipeline(), [body])


@pytest.mark.skipif(not RESPONSES_BODIES, reason="../shared corpus not found")
@SETTINGS
@given(name=st.sampled_from(sorted(RESPONSES_BODIES) or ["-"]), cuts=CUTS)
def test_responses_corpus_gives_the_same_events_however_split(name: str, cuts: list[int]) -> None:
    body = RESPONSES_BODIES[name]
    assert run(responses_pipeline, split_at(body, cuts)) == run(responses_pipeline, [body])


# --- junk bytes ---------------------------------------------------------------------------------


@pytest.mark.skipif(not CHAT_BODIES, reason="../shared corpus not found")
@SETTINGS
@given(name=st.sampled_from(sorted(CHAT_BODIES) or ["-"]), junk=JUNK, cuts=CUTS)
def test_chat_junk_gives_only_typed_errors_whatever_the_split(
    name: str, junk: list[tuple[int, bytes]], cuts: list[int]
) -> None:
    body = insert_junk(CHAT_BODIES[name], junk)
    assert run(chat_pipeline(), split_at(body, cuts)) == run(chat_pipeline(), [body])


@pytest.mark.skipif(not RESPONSES_BODIES, reason="../shared corpus not found")
@SETTINGS
@given(name=st.sampled_from(sorted(RESPONSES_BODIES) or ["-"]), junk=JUNK, cuts=CUTS)
def test_responses_junk_gives_only_typed_errors_whatever_the_split(
    name: str, junk: list[tuple[int, bytes]], cuts: list[int]
) -> None:
    body = insert_junk(RESPONSES_BODIES[name], junk)
    assert run(responses_pipeline, split_at(body, cuts)) == run(responses_pipeline, [body])


@SETTINGS
@given(body=st.binary(max_size=300), cuts=CUTS)
def test_pure_junk_gives_only_typed_errors(body: bytes, cuts: list[int]) -> None:
    assert run(chat_pipeline(), split_at(body, cuts)) == run(chat_pipeline(), [body])
    assert run(responses_pipeline, split_at(body, cuts)) == run(responses_pipeline, [body])


# --- generated valid chat streams ---------------------------------------------------------------


@st.composite
def chat_stream_bodies(draw: st.DrawFn) -> tuple[bytes, dict[int, str], bool, bool]:
    """A valid chat stream: its bytes, the content each choice must end with, whether it
    ends with [DONE], and whether every choice that appeared got a finish reason."""
    choices = draw(st.integers(min_value=1, max_value=2))
    expected = dict.fromkeys(range(choices), "")
    chunks: list[dict[str, Any]] = []
    tool_calls_started: set[tuple[int, int]] = set()
    for _ in range(draw(st.integers(min_value=0, max_value=12))):
        index = draw(st.integers(min_value=0, max_value=choices - 1))
        kind = draw(st.sampled_from(["role", "content", "content", "refusal", "tool"]))
        delta: dict[str, Any]
        if kind == "role":
            delta = {"role": "assistant", "content": ""}
        elif kind == "content":
            text = draw(TEXT)
            expected[index] += text
            delta = {"content": text}
        elif kind == "refusal":
            delta = {"refusal": draw(TEXT)}
        else:
            slot = draw(st.integers(min_value=0, max_value=1))
            call: dict[str, Any] = {"index": slot, "function": {"arguments": draw(TEXT)}}
            if (index, slot) not in tool_calls_started:
                tool_calls_started.add((index, slot))
                call.update(id=f"call_{index}_{slot}", type="function")
                call["function"]["name"] = "lookup"
            delta = {"tool_calls": [call]}
        chunks.append({"choices": [{"index": index, "delta": delta, "finish_reason": None}]})
    seen = {c["choices"][0]["index"] for c in chunks}
    finished: set[int] = set()
    for index in range(choices):
        if draw(st.booleans()):
            seen.add(index)
            finished.add(index)
            reason = draw(st.sampled_from(["stop", "length", "tool_calls", "content_filter"]))
            chunks.append({"choices": [{"index": index, "delta": {}, "finish_reason": reason}]})
    if draw(st.booleans()):
        usage = {"prompt_tokens": 3, "completion_tokens": 4, "total_tokens": 7}
        chunks.append({"choices": [], "usage": usage})
    done = draw(st.booleans())
    frames: list[bytes] = []
    for chunk in chunks:
        full = {"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1,
                "model": "m", **chunk}
        end = draw(st.sampled_from([b"\n", b"\r\n", b"\r"]))
        if draw(st.booleans()):
            frames.append(b": keep-alive" + end + end)
        frames.append(b"data: " + msgspec.json.encode(full) + end + end)
    if done:
        frames.append(b"data: [DONE]\n\n")
    return b"".join(frames), expected, done, bool(seen) and seen <= finished


@SETTINGS
@given(stream=chat_stream_bodies(), cuts=CUTS)
def test_generated_chat_streams_lose_no_text_whatever_the_split(
    stream: tuple[bytes, dict[int, str], bool, bool], cuts: list[int]
) -> None:
    body, expected, _, _ = stream
    reads = split_at(body, cuts)
    assert run(chat_pipeline(), reads) == run(chat_pipeline(), [body])
    accumulator = ox.ChatCompletionAccumulator()
    events, _ = collect(chat_pipeline(accumulator), reads)
    for index, text in expected.items():
        deltas = [e.delta for e in events if isinstance(e, ox.ContentDelta) and e.choice == index]
        assert "".join(deltas) == text
        assert accumulator.current_content(index) == text


@SETTINGS
@given(stream=chat_stream_bodies())
def test_generated_chat_streams_end_as_the_terminal_rules_say(
    stream: tuple[bytes, dict[int, str], bool, bool],
) -> None:
    body, _, done, all_finished = stream
    _, ended = run(chat_pipeline(), [body])
    if done or all_finished:
        assert ended is None
    else:
        assert ended is not None and ended.startswith("StreamTruncatedError")


# --- generated valid Responses streams (the mock's generator, arbitrary text) -------------------


SCENARIOS = st.one_of(
    TEXT.map(Scenario.text),
    TEXT.map(Scenario.refusal),
    st.lists(st.tuples(st.just("lookup"), TEXT), min_size=1, max_size=2).map(
        Scenario.function_calls
    ),
    TEXT.map(lambda summary: Scenario.reasoning(summary, "done")),
)


@SETTINGS
@given(scenario=SCENARIOS, cuts=CUTS)
def test_generated_responses_streams_complete_identically_however_split(
    scenario: Scenario, cuts: list[int]
) -> None:
    body = b"".join(ResponseRun(scenario, ResponsesParams()).plan().frames)
    events, ended = run(responses_pipeline, split_at(body, cuts))
    assert (events, ended) == run(responses_pipeline, [body])
    assert ended is None


@SETTINGS
@given(text=TEXT, cuts=CUTS)
def test_generated_chat_text_streams_arrive_whole_however_split(text: str, cuts: list[int]) -> None:
    body = b"".join(chat_stream(Scenario.text(text), ChatParams()).frames)
    accumulator = ox.ChatCompletionAccumulator()
    events, ended = run(chat_pipeline(accumulator), split_at(body, cuts))
    assert ended is None
    assert accumulator.current_content() == text
    assert (events, ended) == run(chat_pipeline(), [body])
