"""Partial values on events: ``ToolCallDelta.parsed_arguments`` and ``ContentDelta.parsed``.

What must hold (``oxide_rx/_core/partial.py``): the value an event gives is the value of the
text up to that event, whenever and in whatever order it is read, and it never changes
afterwards; it is a prefix of the final value; invalid JSON shows as the event's error, never
as an exception; typed views hold exactly the fields complete so far. Sans-IO on the recorded
corpus, then through real streams (SSE and WebSocket) on the mock server.
"""

from __future__ import annotations

import asyncio
import copy
import json
import random
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from support import CORPUS, corpus_files, needs_shared, read_frames
from test_chat_corpus_sansio import GetWeatherArgs, Location
from test_partial_json import assert_prefix_of, json_texts

import oxide_rx as ox
from oxide_rx._core.partial import PartialDocument, parse_once
from oxide_rx._core.text import TextBuffer
from oxide_rx.events import parse_partial_json
from oxide_rx.testing import MockServer, Scenario
from oxide_rx.types.chat import CHUNK_DECODER
from oxide_rx.types.responses import decode_event


def chat_events(name: str, **setup: Any) -> list[ox.Event]:
    acc = ox.ChatCompletionAccumulator(**setup)
    events: list[ox.Event] = []
    for frame in read_frames(CORPUS / f"{name}.sse"):
        events += acc.handle_chunk(CHUNK_DECODER.decode(frame))
    return events + acc.finish()


def response_events(path: Any) -> list[Any]:
    acc = ox.ResponseAccumulator()
    events: list[Any] = []
    for frame in read_frames(path):
        events += acc.handle_event(decode_event(frame)) or []
    return events


def calls_of(events: list[ox.Event]) -> dict[tuple[int, int], list[ox.ToolCallDelta]]:
    calls: dict[tuple[int, int], list[ox.ToolCallDelta]] = {}
    for event in events:
        if isinstance(event, ox.ToolCallDelta):
            calls.setdefault((event.choice, event.index), []).append(event)
    return calls


def finals_of(events: list[ox.Event]) -> dict[tuple[int, int], str]:
    return {(e.choice, e.index): e.arguments for e in events if isinstance(e, ox.ToolCallDone)}


# --- the document: as of any length, in any order ---------------------------------------------


def pieces_of(text: str, rng: random.Random) -> list[str]:
    cuts = sorted(rng.sample(range(1, len(text)), min(len(text) - 1, rng.randint(0, 12))))
    return [text[a:b] for a, b in zip([0, *cuts], [*cuts, len(text)], strict=True)]


@settings(max_examples=300, deadline=None)
@given(json_texts(), st.randoms(use_true_random=False))
def test_a_value_read_in_any_order_is_the_value_as_of_its_length(text: str, rng: Any) -> None:
    document, buffer = PartialDocument(), TextBuffer()
    lengths = []
    for piece in pieces_of(text, rng):
        buffer.append(piece)
        document.append(piece)
        lengths.append(len(buffer))
    final = json.loads(text)
    readings: dict[int, Any] = {}
    order = lengths * 2  # every event read twice, in a random order
    rng.shuffle(order)
    for length in order:
        if length in readings:
            readings[length] = document.again(length, readings[length])
        else:
            readings[length] = document.read(length, buffer)
        value, error, _ = readings[length]
        assert error is None
        assert value == parse_once(text[:length])[0]  # as of the event, read when it is read
        if value is not None:
            assert_prefix_of(value, final)
    document.read(len(text), buffer)
    for length in lengths:  # later still: every event answers as of itself
        assert document.again(length, readings[length])[0] == parse_once(text[:length])[0]


def test_reading_in_order_parses_each_delta_once() -> None:
    document, buffer = PartialDocument(), TextBuffer()
    text = json.dumps({"rows": [{"id": i, "name": f"row {i}"} for i in range(300)]})
    for start in range(0, len(text), 4):
        piece = text[start:start + 4]
        buffer.append(piece)
        document.append(piece)
        document.read(len(buffer), buffer)
    # Each read parsed only what arrived since the last one (plus a cut token's few chars).
    deltas = len(range(0, len(text), 4))
    assert document._parser.chars_examined <= len(text) + 11 * deltas
    assert document.read(len(buffer), buffer)[:2] == (json.loads(text), None)


def test_a_value_read_live_grows_and_a_second_read_is_as_of_its_event() -> None:
    document, buffer = PartialDocument(), TextBuffer()
    for piece in ['{"a": [1, 2', "]", ', "b": "xy', 'z"}']:
        buffer.append(piece)
        document.append(piece)
    first = document.read(11, buffer)
    assert first[0] == {"a": [1]}
    document.read(len(buffer), buffer)
    assert first[0] == {"a": [1, 2], "b": "xyz"}  # the live value, documented
    assert document.again(11, first)[0] == {"a": [1]}  # the event itself: as of then


def test_the_helper_parses_partial_json_once() -> None:
    assert parse_partial_json("") is None
    assert parse_partial_json('{"a": [1, 2') == {"a": [1]}
    assert parse_partial_json('{"score": 42') == {}  # 42 may go on to be 42.731


# --- chat, sans-IO on the corpus ----------------------------------------------------------------

TOOL_FILES = [p.stem for p in corpus_files("chat-tool-call")]


@needs_shared
@pytest.mark.parametrize("name", TOOL_FILES)
def test_parsed_arguments_grow_to_the_final_arguments(name: str) -> None:
    events = chat_events(name)
    finals = finals_of(events)
    assert finals
    for key, deltas in calls_of(events).items():
        final = json.loads(finals[key])
        values = []
        for event in deltas:  # read in order, after the whole stream
            value = copy.deepcopy(event.parsed_arguments)
            assert event.arguments_error is None
            assert value == parse_partial_json(event.arguments_snapshot)
            if value is not None:
                assert_prefix_of(value, final)
            values.append(value)
        assert values[-1] == final
        # Read again, each event still answers as of itself.
        assert [event.parsed_arguments for event in deltas] == values


@needs_shared
def test_events_read_backwards_give_the_values_read_in_order() -> None:
    in_order = [copy.deepcopy(e.parsed_arguments) for e in chat_events("chat-tool-calls-parallel")
                if isinstance(e, ox.ToolCallDelta)]
    events = [e for e in chat_events("chat-tool-calls-parallel") if isinstance(e, ox.ToolCallDelta)]
    backwards = [e.parsed_arguments for e in reversed(events)][::-1]
    assert in_order == backwards
    assert events[3].parsed_arguments is events[3].parsed_arguments  # kept on the event


@needs_shared
def test_typed_tool_arguments_hold_the_fields_complete_so_far() -> None:
    events = chat_events("chat-tool-call-pydantic", tool_types={"GetWeatherArgs": GetWeatherArgs})
    deltas = [e for e in events if isinstance(e, ox.ToolCallDelta)]
    done = next(e for e in events if isinstance(e, ox.ToolCallDone))
    shown = []
    for event in deltas:
        view = event.parsed_arguments
        if view is None:
            continue
        assert type(view).__name__ == "PartialGetWeatherArgs"
        fields = {k: v for k, v in view.model_dump().items() if v is not None}
        assert fields.items() <= done.parsed_arguments.model_dump().items()
        complete = parse_partial_json(event.arguments_snapshot)
        assert set(fields) <= set(complete)  # a field shows once complete, never before
        shown.append(fields)
    assert shown[-1] == done.parsed_arguments.model_dump()
    assert [len(f) for f in shown] == sorted(len(f) for f in shown)


@needs_shared
@pytest.mark.parametrize("name", ["chat-structured-json-schema", "chat-structured-n3"])
def test_content_parsed_is_a_partial_of_the_format(name: str) -> None:
    events = chat_events(name, response_format=Location)
    for choice in {e.choice for e in events if isinstance(e, ox.ContentDone)}:
        done = next(e for e in events if isinstance(e, ox.ContentDone) and e.choice == choice)
        views = [e.parsed for e in events if isinstance(e, ox.ContentDelta) and e.choice == choice]
        typed = [v for v in views if v is not None]
        assert typed and all(type(v).__name__ == "PartialLocation" for v in typed)
        final = msgspec.to_builtins(done.parsed)
        for view in typed:
            fields = {k: v for k, v in msgspec.to_builtins(view).items() if v is not None}
            assert fields.items() <= final.items()
        assert msgspec.to_builtins(typed[-1]) == final


def test_content_without_a_format_has_no_parsed_value() -> None:
    acc = ox.ChatCompletionAccumulator()
    chunk = CHUNK_DECODER.decode(b'{"choices":[{"index":0,"delta":{"content":"{\\"a\\": 1}"}}]}')
    (event,) = acc.handle_chunk(chunk)
    assert isinstance(event, ox.ContentDelta)
    assert (event.parsed, event.parse_error) == (None, None)


def test_invalid_arguments_are_reported_on_the_event() -> None:
    acc = ox.ChatCompletionAccumulator()
    frames = [
        {"tool_calls": [{"index": 0, "id": "c1", "type": "function",
                         "function": {"name": "f", "arguments": '{"a": 1, '}}]},
        {"tool_calls": [{"index": 0, "function": {"arguments": "b: 2}"}}]},
    ]
    events = []
    for delta in frames:
        chunk = {"choices": [{"index": 0, "delta": delta}]}
        events += acc.handle_chunk(CHUNK_DECODER.decode(json.dumps(chunk)))
    first, second = (e for e in events if isinstance(e, ox.ToolCallDelta))
    assert (first.parsed_arguments, first.arguments_error) == ({"a": 1}, None)
    assert second.parsed_arguments == {"a": 1}  # what was parsed before the error
    assert second.arguments_error == (
        "Expecting property name enclosed in double quotes at char 9")


def test_a_subclass_handle_chunk_runs_under_a_structured_format() -> None:
    # With a format, the instance's handle_chunk is the structured wrapper; it must call the
    # subclass's handle_chunk (not skip it, not recurse into itself) and still add parsed.
    class Counting(ox.ChatCompletionAccumulator):
        def __init__(self, **setup: Any) -> None:
            super().__init__(**setup)
            self.seen = 0

        def handle_chunk(self, chunk: Any) -> list[ox.ChatEvent]:
            self.seen += 1
            return super().handle_chunk(chunk)

    acc = Counting(response_format=Location)
    events = []
    for piece in ['{"city": "Oslo", ', '"temperature": 3.5, "units": "c"}']:
        chunk = {"choices": [{"index": 0, "delta": {"content": piece}}]}
        events += acc.handle_chunk(CHUNK_DECODER.decode(json.dumps(chunk)))
    assert acc.seen == 2
    first, second = (e for e in events if isinstance(e, ox.ContentDelta))
    assert (first.parsed.city, second.parsed.temperature) == ("Oslo", 3.5)


def test_a_subclass_handle_event_runs_under_a_text_format() -> None:
    class Counting(ox.ResponseAccumulator):
        seen = 0

        def handle_event(self, event: Any) -> Any:
            self.seen += 1
            return super().handle_event(event)

    acc = Counting(text_format=Location)
    event = {"type": "response.output_text.delta", "item_id": "m", "output_index": 0,
             "content_index": 0, "delta": '{"city": "Oslo", ', "sequence_number": 1}
    (delta,) = acc.handle_event(decode_event(json.dumps(event))) or []
    assert acc.seen == 1 and isinstance(delta, ox.ContentDelta) and delta.parsed.city == "Oslo"


def test_a_structured_field_that_does_not_validate_is_reported() -> None:
    acc = ox.ChatCompletionAccumulator(response_format=Location)
    events = []
    for piece in ['{"city": "Oslo", ', '"temperature": "warm", ', '"units": "c"}']:
        chunk = {"choices": [{"index": 0, "delta": {"content": piece}}]}
        events += acc.handle_chunk(CHUNK_DECODER.decode(json.dumps(chunk)))
    first, second, third = (e for e in events if isinstance(e, ox.ContentDelta))
    assert first.parsed.city == "Oslo" and first.parse_error is None
    assert second.parsed.city == "Oslo" and second.parsed.temperature is None
    assert "got `str` - at `$.temperature`" in (second.parse_error or "")
    assert third.parse_error is not None


# --- Responses, sans-IO on the corpus -------------------------------------------------------------

RESPONSE_TOOL_FILES = [p for p in corpus_files("responses-") if "function-call" in p.stem]


@needs_shared
@pytest.mark.parametrize("path", RESPONSE_TOOL_FILES, ids=[p.stem for p in RESPONSE_TOOL_FILES])
def test_responses_parsed_arguments_grow_to_the_final_arguments(path: Any) -> None:
    events = response_events(path)
    finals = {e.index: e.arguments for e in events if isinstance(e, ox.ToolCallDone)}
    deltas = [e for e in events if isinstance(e, ox.ToolCallDelta)]
    assert finals and deltas
    for event in deltas:
        value = event.parsed_arguments
        if value is not None:
            assert_prefix_of(value, json.loads(finals[event.index]))
    last = {e.index: e for e in deltas}
    assert {i: e.parsed_arguments for i, e in last.items()} == {
        i: json.loads(text) for i, text in finals.items()}


def test_responses_structured_text_is_parsed_as_it_streams() -> None:
    acc = ox.ResponseAccumulator(text_format=Location)
    text = json.dumps({"city": "Oslo", "temperature": -3.5, "units": "c"})
    views = []
    for seq, start in enumerate(range(0, len(text), 5)):
        event = {"type": "response.output_text.delta", "item_id": "m", "output_index": 0,
                 "content_index": 0, "delta": text[start:start + 5], "sequence_number": seq}
        for helper in acc.handle_event(decode_event(json.dumps(event))) or []:
            if isinstance(helper, ox.ContentDelta):
                views.append(helper)
    assert views[-1].parsed == msgspec.convert(json.loads(text), type(views[-1].parsed))
    assert views[0].parsed.city is None


# --- through real streams ------------------------------------------------------------------------


async def test_parsed_arguments_over_sse(client: ox.OpenAI, server: MockServer) -> None:
    arguments = {"city": "Paris", "days": [1, 2, 3], "note": "a " * 40}
    server.enqueue(Scenario.tool_calls([("forecast", arguments)]))
    stream = await client.chat.completions.create_stream(model="m", messages=[])
    values = []
    stream.on(ox.ToolCallDelta, lambda e: values.append(copy.deepcopy(e.parsed_arguments)))
    await stream.until_done()
    assert values[-1] == arguments
    for value in values:
        if value is not None:
            assert_prefix_of(value, arguments)


async def test_detached_events_cross_to_another_thread_with_their_values(
        client: ox.OpenAI, server: MockServer) -> None:
    # A worker thread reads the events after the streams ended: each holds the values of its
    # own moment (snapshot, partial arguments), in the public class, nothing read from the
    # streams' buffers there.
    arguments = {"city": "Paris", "note": "a " * 30}
    server.enqueue(Scenario.text("Looking it up."), Scenario.tool_calls([("forecast", arguments)]))
    lazy: list[ox.Event] = []
    handed: list[ox.Event] = []
    for cls in (ox.ContentDelta, ox.ToolCallDelta):
        stream = await client.chat.completions.create_stream(model="m", messages=[])
        stream.on(cls, lambda e: (lazy.append(e), handed.append(e.detached())))
        await stream.until_done()
    with ThreadPoolExecutor(1) as worker:
        seen = await asyncio.wrap_future(worker.submit(lambda: [e.to_dict() for e in handed]))
    assert {type(e) for e in handed} == {ox.ContentDelta, ox.ToolCallDelta}
    assert {type(e) for e in lazy}.isdisjoint({ox.ContentDelta, ox.ToolCallDelta})  # lazy ones
    assert seen == [e.to_dict() for e in lazy] and handed == lazy
    assert [e.snapshot for e in handed if isinstance(e, ox.ContentDelta)][-1] == "Looking it up."
    assert [e for e in handed if isinstance(e, ox.ToolCallDelta)][-1].parsed_arguments \
        == arguments


async def test_structured_content_and_tool_types_over_websocket(client: ox.OpenAI,
                                                                server: MockServer) -> None:
    document = {"city": "Lima", "temperature": 19.5, "units": "c"}
    server.enqueue(Scenario.text(json.dumps(document)),
                   Scenario.tool_calls([("GetWeatherArgs", {"city": "Lima", "country": "PE",
                                                            "units": "c"})]))
    async with await client.responses.connect() as connection:
        stream = await connection.create_stream(model="m", input="Lima?", text_format=Location)
        views = [e async for e in stream if isinstance(e, ox.ContentDelta)]
        assert msgspec.to_builtins(views[-1].parsed) == document
        assert all(v.parse_error is None for v in views)
        stream = await connection.create_stream(
            model="m", input="And as a call?", tool_types={"GetWeatherArgs": GetWeatherArgs})
        calls = [e async for e in stream if isinstance(e, ox.ToolCallDelta)]
        assert calls[-1].parsed_arguments.model_dump() == {"city": "Lima", "country": "PE",
                                                           "units": "c"}


async def test_invalid_arguments_do_not_end_the_stream(client: ox.OpenAI,
                                                       server: MockServer) -> None:
    server.enqueue(Scenario.tool_calls([("f", '{"a": tru e}'), ("g", '{"b": 2}')]))
    stream = await client.chat.completions.create_stream(model="m", messages=[])
    events = [e async for e in stream]
    errors = [e.arguments_error for e in events if isinstance(e, ox.ToolCallDelta)]
    assert any(errors)
    done = [(e.name, e.parsed_arguments) for e in events if isinstance(e, ox.ToolCallDone)]
    assert done == [("f", None), ("g", {"b": 2})]
    assert isinstance(events[-2], ox.Done)
