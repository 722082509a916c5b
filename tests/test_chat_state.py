"""The sans-IO chat accumulator, on small hand-written chunk sequences."""

from __future__ import annotations

from typing import Any, Literal

import msgspec
import pydantic
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from support import chat_events

from oxide_rx import ChatCompletionAccumulator, DecodeError
from oxide_rx._core.parsing import parse_as
from oxide_rx.events import (
    Chunk,
    ContentDelta,
    ContentDone,
    Done,
    Event,
    LogprobsDelta,
    RefusalDelta,
    RefusalDone,
    ToolCallDelta,
    ToolCallDone,
    Usage,
)
from oxide_rx.types.chat import (
    ChatCompletionChunk,
    ChatCompletionTokenLogprob,
    Choice,
    ChoiceDelta,
    ChoiceDeltaAudio,
    ChoiceDeltaFunctionCall,
    ChoiceDeltaToolCall,
    ChoiceDeltaToolCallFunction,
    ChoiceLogprobs,
    CompletionUsage,
)


class Location(msgspec.Struct):
    city: str
    units: Literal["c", "f"]


class WeatherArgs(pydantic.BaseModel):
    city: str


def chunk(*choices: Choice, **fields: Any) -> ChatCompletionChunk:
    return ChatCompletionChunk(id="chatcmpl-1", object="chat.completion.chunk", created=1,
                               model="gpt-test", choices=list(choices), **fields)


def choice(index: int = 0, finish_reason: str | None = None,
           logprobs: ChoiceLogprobs | None = None, **delta: Any) -> Choice:
    return Choice(index=index, delta=ChoiceDelta(**delta), finish_reason=finish_reason,
                  logprobs=logprobs)


def tool(index: int, arguments: str | None = None, *, call_id: str | None = None,
         name: str | None = None) -> ChoiceDeltaToolCall:
    return ChoiceDeltaToolCall(
        index=index, id=call_id, type="function" if call_id else None,
        function=ChoiceDeltaToolCallFunction(name=name, arguments=arguments),
    )


def feed(acc: ChatCompletionAccumulator, *chunks: ChatCompletionChunk) -> list[Event]:
    events: list[Event] = []
    for item in chunks:
        events.extend(chat_events(acc, item))
    return events


def names(events: list[Event]) -> list[str]:
    return [type(event).__name__ for event in events]


def usage(total: int) -> CompletionUsage:
    return CompletionUsage(prompt_tokens=1, completion_tokens=total - 1, total_tokens=total)


def token(text: str) -> ChatCompletionTokenLogprob:
    return ChatCompletionTokenLogprob(token=text, logprob=-0.5, bytes=list(text.encode()))


def test_chunk_event_comes_first_and_holds_the_raw_chunk() -> None:
    raw = chunk(choice(content="Hi"), obfuscation="pad")
    events = chat_events(ChatCompletionAccumulator(), raw)
    assert isinstance(events[0], Chunk)
    assert events[0].chunk is raw


def test_empty_first_content_fires_a_content_delta() -> None:
    events = chat_events(ChatCompletionAccumulator(), chunk(choice(role="assistant", content="")))
    assert names(events) == ["Chunk", "ContentDelta"]


def test_role_only_chunk_fires_only_chunk() -> None:
    events = chat_events(ChatCompletionAccumulator(), chunk(choice(role="assistant")))
    assert names(events) == ["Chunk"]


def test_n2_interleaved_choices_accumulate_separately() -> None:
    acc = ChatCompletionAccumulator()
    feed(acc, chunk(choice(0, content="A")), chunk(choice(1, content="x")),
         chunk(choice(0, content="B")), chunk(choice(1, content="y")))
    assert acc.current_content(0) == "AB"
    assert acc.current_content(1) == "xy"
    assert [c.index for c in acc.completion().choices] == [0, 1]


def test_n2_done_events_come_per_choice_as_each_finishes() -> None:
    acc = ChatCompletionAccumulator()
    feed(acc, chunk(choice(0, content="A")), chunk(choice(1, content="x")))
    first = chat_events(acc, chunk(choice(1, finish_reason="stop")))
    second = chat_events(acc, chunk(choice(0, finish_reason="length")))
    assert [(type(e).__name__, getattr(e, "choice", None)) for e in first[1:]] == [
        ("ContentDone", 1), ("Done", 1)]
    assert second[-1] == Done("length", choice=0)


def test_choices_in_one_chunk_emit_in_order() -> None:
    events = chat_events(ChatCompletionAccumulator(),
        chunk(choice(0, content="A", finish_reason="stop"), choice(1, content="x")))
    assert [(type(e).__name__, getattr(e, "choice", None)) for e in events] == [
        ("Chunk", None), ("ContentDelta", 0), ("ContentDone", 0), ("Done", 0),
        ("ContentDelta", 1)]


def test_tool_index_switch_emits_previous_tool_done_after_new_delta() -> None:
    acc = ChatCompletionAccumulator()
    feed(acc, chunk(choice(tool_calls=[tool(0, "", call_id="call_a", name="f")])),
         chunk(choice(tool_calls=[tool(0, '{"a":1}')])))
    events = chat_events(acc, chunk(choice(tool_calls=[tool(1, "", call_id="call_b", name="g")])))
    assert names(events) == ["Chunk", "ToolCallDelta", "ToolCallDone"]
    done = events[2]
    assert isinstance(done, ToolCallDone)
    assert (done.index, done.call_id, done.name, done.arguments) == (0, "call_a", "f", '{"a":1}')
    assert done.parsed_arguments == {"a": 1}


def test_finish_emits_done_events_in_order() -> None:
    acc = ChatCompletionAccumulator()
    feed(acc, chunk(choice(content="Let me check.")),
         chunk(choice(tool_calls=[tool(0, "{}", call_id="call_a", name="f")])))
    events = chat_events(acc, chunk(choice(finish_reason="tool_calls")))
    assert names(events) == ["Chunk", "ToolCallDone", "ContentDone", "Done"]
    assert events[-1] == Done("tool_calls", choice=0)


def test_tool_call_done_is_emitted_once() -> None:
    acc = ChatCompletionAccumulator()
    events = feed(acc, chunk(choice(tool_calls=[tool(0, "{}", call_id="a", name="f")])),
                  chunk(choice(tool_calls=[tool(1, "{}", call_id="b", name="f")])),
                  chunk(choice(finish_reason="tool_calls")))
    assert [e.index for e in events if isinstance(e, ToolCallDone)] == [0, 1]


def test_tool_fragments_merge_by_index() -> None:
    acc = ChatCompletionAccumulator()
    feed(acc, chunk(choice(tool_calls=[tool(0, "", call_id="call_a", name="f")])),
         chunk(choice(tool_calls=[tool(0, '{"ci')])), chunk(choice(tool_calls=[tool(0, 'ty":1}')])))
    (call,) = acc.completion().choices[0].message.tool_calls or []
    assert (call.id, call.type, call.function.name) == ("call_a", "function", "f")
    assert call.function.arguments == '{"city":1}'


def test_repeated_tool_name_and_id_are_not_doubled() -> None:
    acc = ChatCompletionAccumulator()
    feed(acc, chunk(choice(tool_calls=[tool(0, "{", call_id="call_a", name="f")])),
         chunk(choice(tool_calls=[tool(0, "}", call_id="call_a", name="f")])))
    (call,) = acc.completion().choices[0].message.tool_calls or []
    assert (call.id, call.function.name, call.function.arguments) == ("call_a", "f", "{}")


def test_tool_delta_carries_identity_and_lazy_snapshot() -> None:
    acc = ChatCompletionAccumulator()
    events = feed(acc, chunk(choice(tool_calls=[tool(0, '{"ci', call_id="call_a", name="f")])),
                  chunk(choice(tool_calls=[tool(0, 'ty": "Pa')])))
    deltas = [e for e in events if isinstance(e, ToolCallDelta)]
    assert [(d.call_id, d.name, d.arguments_delta) for d in deltas] == [
        ("call_a", "f", '{"ci'), ("call_a", "f", 'ty": "Pa')]
    assert deltas[0].arguments_snapshot == '{"ci'
    assert deltas[1].parsed_arguments == {"city": "Pa"}


def test_deprecated_function_call_merges_like_one_tool_call() -> None:
    acc = ChatCompletionAccumulator()
    events = feed(
        acc, chunk(choice(function_call=ChoiceDeltaFunctionCall(name="f", arguments=""))),
        chunk(choice(function_call=ChoiceDeltaFunctionCall(arguments='{"x":2}'))),
        chunk(choice(finish_reason="function_call")))
    function_call = acc.completion().choices[0].message.function_call
    assert function_call is not None
    assert (function_call.name, function_call.arguments) == ("f", '{"x":2}')
    assert names(events)[-2:] == ["ToolCallDone", "Done"]


def test_refusal_deltas_and_done() -> None:
    acc = ChatCompletionAccumulator(response_format=Location)
    events = feed(acc, chunk(choice(role="assistant", content=None, refusal="")),
                  chunk(choice(refusal="I can't")), chunk(choice(refusal=" help.")),
                  chunk(choice(finish_reason="stop")))
    assert names(events) == ["Chunk", "RefusalDelta", "Chunk", "RefusalDelta", "Chunk",
                             "RefusalDelta", "Chunk", "RefusalDone", "Done"]
    assert events[-2] == RefusalDone("I can't help.")
    message = acc.completion().choices[0].message
    assert (message.content, message.refusal, message.parsed) == (None, "I can't help.", None)


def test_refusal_delta_snapshot() -> None:
    acc = ChatCompletionAccumulator()
    events = feed(acc, chunk(choice(refusal="No")), chunk(choice(refusal="pe")))
    refusals = [e for e in events if isinstance(e, RefusalDelta)]
    assert [r.snapshot for r in refusals] == ["No", "Nope"]


def test_audio_concatenates_data_and_transcript_and_replaces_expires_at() -> None:
    acc = ChatCompletionAccumulator()
    feed(acc, chunk(choice(audio=ChoiceDeltaAudio(id="audio_1", transcript="Hel"))),
         chunk(choice(audio=ChoiceDeltaAudio(id="audio_1", data="AAA", transcript="lo"))),
         chunk(choice(audio=ChoiceDeltaAudio(data="BBB", expires_at=100))),
         chunk(choice(audio=ChoiceDeltaAudio(expires_at=1780697157))))
    audio = acc.completion().choices[0].message.audio
    assert audio is not None
    assert (audio.id, audio.transcript, audio.data, audio.expires_at) == (
        "audio_1", "Hello", "AAABBB", 1780697157)


def test_usage_keeps_the_last_non_null() -> None:
    acc = ChatCompletionAccumulator()
    feed(acc, chunk(choice(content="x", finish_reason="stop")), chunk(usage=usage(3)),
         chunk(moderation={"input": {}, "output": {}}))
    assert acc.usage == usage(3)
    assert acc.completion().usage == usage(3)


def test_usage_event_follows_the_choice_events() -> None:
    events = chat_events(ChatCompletionAccumulator(),
        chunk(choice(content="x", finish_reason="stop"), usage=usage(3)))
    assert names(events) == ["Chunk", "ContentDelta", "ContentDone", "Done", "Usage"]
    assert events[-1] == Usage(usage(3))


def test_moderation_is_copied_when_present() -> None:
    acc = ChatCompletionAccumulator()
    feed(acc, chunk(moderation={"input": {"type": "error"}}), chunk(choice(content="x")))
    assert acc.completion().moderation == {"input": {"type": "error"}}


def test_obfuscation_stays_out_of_the_snapshot() -> None:
    acc = ChatCompletionAccumulator()
    feed(acc, chunk(choice(content="x"), obfuscation="SECRETPAD"),
         chunk(choice(finish_reason="stop"), obfuscation="SECRETPAD"))
    assert b"SECRETPAD" not in msgspec.json.encode(acc.completion())


def test_chunk_without_choices_fires_only_chunk() -> None:
    acc = ChatCompletionAccumulator()
    events = chat_events(acc, ChatCompletionChunk(id="c", obfuscation="pad"))
    assert names(events) == ["Chunk"]
    assert acc.completion().choices == []
    assert not acc.all_finished


def test_metadata_comes_from_chunks() -> None:
    acc = ChatCompletionAccumulator()
    feed(acc, ChatCompletionChunk(id="", object="", prompt_filter_results=[{"prompt_index": 0}]),
         chunk(choice(content="x"), system_fingerprint="fp_1", service_tier="default"))
    completion = acc.completion()
    assert (completion.id, completion.object, completion.created, completion.model) == (
        "chatcmpl-1", "chat.completion", 1, "gpt-test")
    assert (completion.system_fingerprint, completion.service_tier) == ("fp_1", "default")
    assert completion.prompt_filter_results == [{"prompt_index": 0}]


def test_current_content() -> None:
    acc = ChatCompletionAccumulator()
    assert acc.current_content() == ""
    feed(acc, chunk(choice(content="Hel")), chunk(choice(content="lo")))
    assert acc.current_content() == "Hello"
    assert acc.current_content(5) == ""


def test_earlier_content_delta_snapshots_stay_correct() -> None:
    acc = ChatCompletionAccumulator()
    events = feed(acc, *(chunk(choice(content=piece)) for piece in ["a", "bc", "", "def"]))
    deltas = [e for e in events if isinstance(e, ContentDelta)]
    assert acc.current_content() == "abcdef"
    assert [d.snapshot for d in deltas] == ["a", "abc", "abc", "abcdef"]


def test_completion_snapshot_is_independent_of_later_chunks() -> None:
    acc = ChatCompletionAccumulator()
    feed(acc, chunk(choice(content="a", logprobs=ChoiceLogprobs(content=[token("a")]))))
    before = acc.completion()
    feed(acc, chunk(choice(content="b", logprobs=ChoiceLogprobs(content=[token("b")]))))
    assert before.choices[0].message.content == "a"
    assert before.choices[0].logprobs == ChoiceLogprobs(content=[token("a")])


def test_logprobs_are_extended_and_announced() -> None:
    acc = ChatCompletionAccumulator()
    events = feed(acc, chunk(choice(content="", logprobs=ChoiceLogprobs(content=[]))),
                  chunk(choice(content="a", logprobs=ChoiceLogprobs(content=[token("a")]))),
                  chunk(choice(content="b", logprobs=ChoiceLogprobs(content=[token("b")]))))
    assert [e.content for e in events if isinstance(e, LogprobsDelta)] == [
        [token("a")], [token("b")]]
    assert acc.completion().choices[0].logprobs == ChoiceLogprobs(
        content=[token("a"), token("b")], refusal=None)


def test_refusal_logprobs_keep_content_null() -> None:
    acc = ChatCompletionAccumulator()
    feed(acc, chunk(choice(refusal="", logprobs=ChoiceLogprobs(refusal=[]))),
         chunk(choice(refusal="No", logprobs=ChoiceLogprobs(refusal=[token("No")]))))
    assert acc.completion().choices[0].logprobs == ChoiceLogprobs(content=None,
                                                                   refusal=[token("No")])


def test_all_finished() -> None:
    acc = ChatCompletionAccumulator()
    assert not acc.all_finished
    feed(acc, chunk(choice(0, content="a"), choice(1, content="b", finish_reason="stop")))
    assert not acc.all_finished
    feed(acc, chunk(choice(0, finish_reason="stop")))
    assert acc.all_finished


def test_finish_closes_unfinished_choices() -> None:
    acc = ChatCompletionAccumulator()
    feed(acc, chunk(choice(0, content="a", finish_reason="stop")),
         chunk(choice(1, content="b", tool_calls=[tool(0, "{}", call_id="c", name="f")])))
    assert names(acc.finish()) == ["ToolCallDone", "ContentDone", "Done"]
    assert acc.finish() == []


def test_content_done_parsed_with_a_msgspec_struct() -> None:
    acc = ChatCompletionAccumulator(response_format=Location)
    events = feed(acc, chunk(choice(content='{"city":"Paris",')),
                  chunk(choice(content='"units":"c"}', finish_reason="stop")))
    done = next(e for e in events if isinstance(e, ContentDone))
    assert done.parsed == Location(city="Paris", units="c")
    assert acc.completion().choices[0].message.parsed == Location(city="Paris", units="c")


def test_content_done_parsed_with_a_pydantic_model() -> None:
    acc = ChatCompletionAccumulator(response_format=WeatherArgs)
    events = feed(acc, chunk(choice(content='{"city":"Oslo"}', finish_reason="stop")))
    done = next(e for e in events if isinstance(e, ContentDone))
    assert done.parsed == WeatherArgs(city="Oslo")


def test_content_done_not_parsed_without_response_format() -> None:
    events = chat_events(ChatCompletionAccumulator(),
        chunk(choice(content='{"city":"Oslo"}', finish_reason="stop")))
    done = next(e for e in events if isinstance(e, ContentDone))
    assert done.parsed is None


def test_invalid_structured_output_raises_decode_error() -> None:
    acc = ChatCompletionAccumulator(response_format=Location)
    with pytest.raises(DecodeError, match="Location"):
        feed(acc, chunk(choice(content='{"city":"Paris"}', finish_reason="stop")))


def test_output_cut_short_is_not_parsed() -> None:
    acc = ChatCompletionAccumulator(response_format=Location)
    events = feed(acc, chunk(choice(content='{"', finish_reason="length")))
    assert [e for e in events if isinstance(e, ContentDone)] == [ContentDone('{"')]
    assert events[-1] == Done("length")


def test_parsed_arguments_typed_by_tool_types() -> None:
    acc = ChatCompletionAccumulator(tool_types={"weather": WeatherArgs})
    events = feed(acc, chunk(choice(tool_calls=[tool(0, '{"city":"Oslo"}', call_id="c",
                                                     name="weather")])),
                  chunk(choice(finish_reason="tool_calls")))
    done = next(e for e in events if isinstance(e, ToolCallDone))
    assert done.parsed_arguments == WeatherArgs(city="Oslo")
    (call,) = acc.completion().choices[0].message.tool_calls or []
    assert call.parsed_arguments == WeatherArgs(city="Oslo")


def test_untyped_tool_arguments_are_decoded_json_or_none() -> None:
    acc = ChatCompletionAccumulator()
    events = feed(acc, chunk(choice(tool_calls=[tool(0, '{"a":[1]}', call_id="c", name="f"),
                                                tool(1, '{"broken', call_id="d", name="g")])),
                  chunk(choice(finish_reason="tool_calls")))
    assert [e.parsed_arguments for e in events if isinstance(e, ToolCallDone)] == [
        {"a": [1]}, None]


def test_parse_as_without_target_is_none() -> None:
    assert parse_as(None, "not json") is None


def test_parse_as_error_carries_an_excerpt() -> None:
    with pytest.raises(DecodeError) as info:
        parse_as(Location, '{"city": 3}')
    assert info.value.data == repr('{"city": 3}')


def test_parse_as_pydantic_error_is_a_decode_error() -> None:
    with pytest.raises(DecodeError, match="WeatherArgs"):
        parse_as(WeatherArgs, "{}")


# A step of a random stream: (choice index, content piece, refusal piece, tool fragments).
fragments = st.lists(st.tuples(st.integers(0, 2), st.text(max_size=5)), max_size=3)
steps = st.lists(
    st.tuples(st.integers(0, 2), st.none() | st.text(max_size=6), st.none() | st.text(max_size=4),
              fragments),
    max_size=30,
)


@settings(max_examples=150, deadline=None)
@given(steps)
def test_accumulation_equals_concatenation_of_deltas(stream: list[Any]) -> None:
    acc = ChatCompletionAccumulator()
    content: dict[int, str] = {}
    arguments: dict[tuple[int, int], str] = {}
    events: list[Event] = []
    for index, text, refusal, tools in stream:
        if text is not None:
            content[index] = content.get(index, "") + text
        for tool_index, piece in tools:
            key = (index, tool_index)
            arguments[key] = arguments.get(key, "") + piece
        events += chat_events(acc, chunk(choice(
            index, content=text, refusal=refusal,
            tool_calls=[tool(i, p, call_id=f"call_{i}", name="f") for i, p in tools] or None)))
    events += acc.finish()

    for index, text in content.items():
        assert acc.current_content(index) == text
    choices = {c.index: c for c in acc.completion().choices}
    for (index, tool_index), text in arguments.items():
        calls = choices[index].message.tool_calls or []
        by_index = {int(call.id.removeprefix("call_")): call for call in calls}
        assert by_index[tool_index].function.arguments == text
    seen: dict[int, str] = {}
    for event in events:
        if isinstance(event, ContentDelta):
            seen[event.choice] = seen.get(event.choice, "") + event.delta
            assert event.snapshot == seen[event.choice]
    done_calls = [(e.choice, e.index) for e in events if isinstance(e, ToolCallDone)]
    assert sorted(done_calls) == sorted(arguments)
    assert sorted(e.choice for e in events if isinstance(e, Done)) == sorted(
        {step[0] for step in stream})
