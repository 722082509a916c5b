"""The sans-IO Responses accumulator, fed small hand-written event sequences."""

from __future__ import annotations

from typing import Any

import msgspec
from hypothesis import given
from hypothesis import strategies as st
from support import response_events

from oxide_rx import ResponseAccumulator
from oxide_rx import events as ev
from oxide_rx._core.text import TextBuffer
from oxide_rx.types import responses as rt

USAGE = {"input_tokens": 5, "output_tokens": 3, "total_tokens": 8}


def event(type_: str, **fields: Any) -> rt.ResponseStreamEvent | rt.UnknownEvent:
    """A wire event decoded from its JSON, as the stream would deliver it."""
    return rt.decode_event(msgspec.json.encode({"type": type_, **fields}))


def lifecycle(type_: str, status: str, seq: int, **response: Any) -> Any:
    return event(type_, sequence_number=seq,
                 response={"id": "resp_1", "status": status, "output": [], **response})


def message(index: int, item_id: str, texts: list[str], seq: int) -> list[Any]:
    """Item added, one part, one delta per text, text/part/item done."""
    events = [
        event("response.output_item.added", output_index=index, sequence_number=seq,
              item={"type": "message", "id": item_id, "role": "assistant",
                    "status": "in_progress", "content": []}),
        event("response.content_part.added", item_id=item_id, output_index=index,
              content_index=0, sequence_number=seq + 1,
              part={"type": "output_text", "text": "", "annotations": []}),
    ]
    seq += 2
    for text in texts:
        events.append(event("response.output_text.delta", item_id=item_id, output_index=index,
                            content_index=0, delta=text, sequence_number=seq))
        seq += 1
    full = "".join(texts)
    part = {"type": "output_text", "text": full, "annotations": []}
    events += [
        event("response.output_text.done", item_id=item_id, output_index=index, content_index=0,
              text=full, sequence_number=seq),
        event("response.content_part.done", item_id=item_id, output_index=index,
              content_index=0, part=part, sequence_number=seq + 1),
        event("response.output_item.done", output_index=index, sequence_number=seq + 2,
              item={"type": "message", "id": item_id, "role": "assistant",
                    "status": "completed", "content": [part]}),
    ]
    return events


def function_call(index: int, call_id: str, name: str, pieces: list[str], seq: int) -> list[Any]:
    item_id = f"fc_{index}"
    item = {"type": "function_call", "id": item_id, "call_id": call_id, "name": name,
            "arguments": "", "status": "in_progress"}
    events = [event("response.output_item.added", output_index=index, item=item,
                    sequence_number=seq)]
    for piece in pieces:
        seq += 1
        events.append(event("response.function_call_arguments.delta", item_id=item_id,
                            output_index=index, delta=piece, sequence_number=seq))
    arguments = "".join(pieces)
    events += [
        event("response.function_call_arguments.done", item_id=item_id, output_index=index,
              arguments=arguments, sequence_number=seq + 1),
        event("response.output_item.done", output_index=index, sequence_number=seq + 2,
              item={**item, "arguments": arguments, "status": "completed"}),
    ]
    return events


def feed(acc: ResponseAccumulator, events: list[Any]) -> list[object]:
    out: list[object] = []
    for e in events:
        out += response_events(acc, e)
    return out


def helpers(out: list[object]) -> list[ev.Event]:
    return [e for e in out if isinstance(e, ev.Event)]


def text_stream(texts: list[str]) -> list[Any]:
    return [
        lifecycle("response.created", "in_progress", 0),
        lifecycle("response.in_progress", "in_progress", 1),
        *message(0, "msg_1", texts, 2),
        lifecycle("response.completed", "completed", 7 + len(texts), usage=USAGE),
    ]


def test_handle_event_returns_the_event_first() -> None:
    acc = ResponseAccumulator()
    created = lifecycle("response.created", "in_progress", 0)
    assert response_events(acc, created) == [created]


def test_text_deltas_become_content_events_with_snapshots() -> None:
    out = helpers(feed(ResponseAccumulator(), text_stream(["Hel", "lo"])))
    deltas = [e for e in out if isinstance(e, ev.ContentDelta)]
    assert [(d.delta, d.snapshot, d.output_index) for d in deltas] == [
        ("Hel", "Hel", 0), ("lo", "Hello", 0)]


def test_text_stream_helper_events_in_order() -> None:
    out = helpers(feed(ResponseAccumulator(), text_stream(["Hel", "lo"])))
    assert [type(e).__name__ for e in out] == [
        "ContentDelta", "ContentDelta", "ContentDone", "Usage", "Done"]
    done = out[2]
    assert isinstance(done, ev.ContentDone) and done.content == "Hello" and done.parsed is None


def test_completed_gives_usage_and_done() -> None:
    acc = ResponseAccumulator()
    out = helpers(feed(acc, text_stream(["a"])))
    usage, done = out[-2:]
    assert isinstance(usage, ev.Usage) and usage.usage.total_tokens == 8
    assert isinstance(done, ev.Done) and (done.finish_reason, done.reason) == ("completed", None)
    assert acc.terminal and acc.failure is None


def test_current_content_and_response_text() -> None:
    acc = ResponseAccumulator()
    feed(acc, text_stream(["Hel", "lo"])[:5])
    assert acc.current_content() == "Hel"
    feed(acc, text_stream(["Hel", "lo"])[5:])
    assert acc.current_content() == acc.response().output_text == "Hello"


def test_current_content_joins_message_items_in_output_order() -> None:
    acc = ResponseAccumulator()
    feed(acc, [*message(1, "msg_b", ["world"], 10), *message(0, "msg_a", ["hello "], 20)])
    assert acc.current_content() == "hello world"


def test_terminal_response_without_output_is_backfilled() -> None:
    acc = ResponseAccumulator()
    feed(acc, text_stream(["Hi"]))
    response = acc.response()
    assert response.status == "completed" and response.usage is not None
    assert [item.type for item in response.output] == ["message"]
    assert response.output_text == "Hi"


def test_terminal_response_output_is_taken_as_is() -> None:
    acc = ResponseAccumulator()
    server_item = {"type": "message", "id": "msg_1", "role": "assistant", "status": "completed",
                   "content": [{"type": "output_text", "text": "final"}]}
    feed(acc, [*message(0, "msg_1", ["draft"], 0),
               event("response.completed", sequence_number=9,
                     response={"id": "r", "status": "completed", "output": [server_item]})])
    assert acc.response().output_text == "final"


def test_two_function_calls_in_one_response() -> None:
    acc = ResponseAccumulator()
    out = helpers(feed(acc, [
        *function_call(0, "call_a", "get_weather", ['{"city":', '"Paris"}'], 0),
        *function_call(1, "call_b", "get_time", ['{"tz":"UTC"}'], 10),
    ]))
    deltas = [(e.index, e.call_id, e.name, e.arguments_snapshot) for e in out
              if isinstance(e, ev.ToolCallDelta)]
    assert deltas == [(0, "call_a", "get_weather", '{"city":'),
                      (0, "call_a", "get_weather", '{"city":"Paris"}'),
                      (1, "call_b", "get_time", '{"tz":"UTC"}')]
    done = [(e.index, e.call_id, e.name, e.arguments, e.parsed_arguments) for e in out
            if isinstance(e, ev.ToolCallDone)]
    assert done == [(0, "call_a", "get_weather", '{"city":"Paris"}', {"city": "Paris"}),
                    (1, "call_b", "get_time", '{"tz":"UTC"}', {"tz": "UTC"})]


def test_tool_call_done_comes_at_arguments_done() -> None:
    out = feed(ResponseAccumulator(), function_call(0, "call_a", "f", ["{}"], 0))
    kinds = [type(e).__name__ for e in out]
    assert kinds.index("ToolCallDone") == kinds.index("FunctionCallArgumentsDone") + 1


def test_tool_call_done_at_item_done_when_arguments_done_is_missing() -> None:
    events = [e for e in function_call(0, "call_a", "f", ['{"a":1}'], 0)
              if not isinstance(e, rt.FunctionCallArgumentsDone)]
    done = [e for e in feed(ResponseAccumulator(), events) if isinstance(e, ev.ToolCallDone)]
    assert [(d.call_id, d.arguments) for d in done] == [("call_a", '{"a":1}')]


def test_tool_types_parse_arguments_into_instances() -> None:
    class Weather(msgspec.Struct):
        city: str

    acc = ResponseAccumulator(tool_types={"get_weather": Weather})
    out = feed(acc, function_call(0, "c", "get_weather", ['{"city":"Oslo"}'], 0))
    done = next(e for e in out if isinstance(e, ev.ToolCallDone))
    assert done.parsed_arguments == Weather(city="Oslo")


def test_arguments_that_do_not_validate_parse_to_none() -> None:
    class Weather(msgspec.Struct):
        city: str

    acc = ResponseAccumulator(tool_types={"get_weather": Weather})
    out = feed(acc, function_call(0, "c", "get_weather", ['{"town":'], 0))
    assert next(e for e in out if isinstance(e, ev.ToolCallDone)).parsed_arguments is None


def test_text_format_parses_content_done() -> None:
    class Answer(msgspec.Struct):
        value: int

    acc = ResponseAccumulator(text_format=Answer)
    out = feed(acc, message(0, "msg_1", ['{"value":', " 42}"], 0))
    assert next(e for e in out if isinstance(e, ev.ContentDone)).parsed == Answer(value=42)


def test_reasoning_summary_streams_as_reasoning_events() -> None:
    acc = ResponseAccumulator()
    ids = {"item_id": "rs_1", "output_index": 0, "summary_index": 0}
    out = helpers(feed(acc, [
        event("response.output_item.added", output_index=0, sequence_number=0,
              item={"type": "reasoning", "id": "rs_1", "summary": []}),
        event("response.reasoning_summary_part.added", **ids, sequence_number=1,
              part={"type": "summary_text", "text": ""}),
        event("response.reasoning_summary_text.delta", **ids, delta="Think", sequence_number=2),
        event("response.reasoning_summary_text.delta", **ids, delta="ing", sequence_number=3),
        event("response.reasoning_summary_text.done", **ids, text="Thinking", sequence_number=4),
    ]))
    assert [(type(e).__name__, e.to_dict()) for e in out] == [
        ("ReasoningDelta", {"delta": "Think", "snapshot": "Think", "choice": 0, "output_index": 0}),
        ("ReasoningDelta", {"delta": "ing", "snapshot": "Thinking", "choice": 0,
                            "output_index": 0}),
        ("ReasoningDone", {"text": "Thinking", "choice": 0, "output_index": 0}),
    ]
    item = acc.response().output[0]
    assert isinstance(item, rt.Reasoning) and item.summary == [rt.SummaryTextPart(text="Thinking")]


def test_reasoning_text_streams_into_reasoning_content() -> None:
    acc = ResponseAccumulator()
    ids = {"item_id": "rs_1", "output_index": 0, "content_index": 0}
    out = helpers(feed(acc, [
        event("response.reasoning_text.delta", **ids, delta="a", sequence_number=1),
        event("response.reasoning_text.delta", **ids, delta="b", sequence_number=2),
        event("response.reasoning_text.done", **ids, text="ab", sequence_number=3),
    ]))
    assert [type(e).__name__ for e in out] == ["ReasoningDelta", "ReasoningDelta",
                                               "ReasoningDone"]
    item = acc.response().output[0]
    assert isinstance(item, rt.Reasoning) and item.content == [rt.ReasoningTextPart(text="ab")]


def test_refusal_streams_as_refusal_events() -> None:
    acc = ResponseAccumulator()
    ids = {"item_id": "msg_1", "output_index": 0, "content_index": 0}
    out = helpers(feed(acc, [
        *message(0, "msg_1", [], 0)[:1],
        event("response.content_part.added", **ids, part={"type": "refusal", "refusal": ""},
              sequence_number=1),
        event("response.refusal.delta", **ids, delta="I can't", sequence_number=2),
        event("response.refusal.delta", **ids, delta=" help.", sequence_number=3),
        event("response.refusal.done", **ids, refusal="I can't help.", sequence_number=4),
    ]))
    assert [(type(e).__name__, e.to_dict()) for e in out] == [
        ("RefusalDelta", {"delta": "I can't", "snapshot": "I can't", "choice": 0,
                          "output_index": 0}),
        ("RefusalDelta", {"delta": " help.", "snapshot": "I can't help.", "choice": 0,
                          "output_index": 0}),
        ("RefusalDone", {"refusal": "I can't help.", "choice": 0, "output_index": 0}),
    ]
    item = acc.response().output[0]
    assert isinstance(item, rt.Message)
    assert item.content == [rt.RefusalPart(refusal="I can't help.")]
    assert acc.current_content() == ""


def test_incomplete_is_terminal_without_failure() -> None:
    acc = ResponseAccumulator()
    out = response_events(acc, lifecycle("response.incomplete", "incomplete", 3,
                                     incomplete_details={"reason": "max_output_tokens"}))
    done = out[-1]
    assert isinstance(done, ev.Done)
    assert (done.finish_reason, done.reason) == ("incomplete", "max_output_tokens")
    assert acc.terminal and acc.failure is None


def test_failed_sets_failure_from_the_response_error() -> None:
    acc = ResponseAccumulator()
    failed = lifecycle("response.failed", "failed", 3,
                       error={"code": "server_error", "message": "Something broke"})
    out = response_events(acc, failed)
    assert out[0] is failed
    assert acc.terminal and acc.failure is not None
    assert (acc.failure.code, acc.failure.message) == ("server_error", "Something broke")
    assert isinstance(out[-1], ev.Done) and out[-1].finish_reason == "failed"


def test_flat_error_event_sets_failure_and_is_returned() -> None:
    acc = ResponseAccumulator()
    error = event("error", code="rate_limit_exceeded", message="Slow down", param=None,
                  sequence_number=2)
    assert response_events(acc, error) == [error]
    assert acc.terminal and acc.failure is not None
    assert (acc.failure.code, acc.failure.message) == ("rate_limit_exceeded", "Slow down")


def test_nested_error_event_sets_failure() -> None:
    acc = ResponseAccumulator()
    response_events(acc, event("error", error={"type": "insufficient_quota",
                                           "code": "insufficient_quota", "message": "Pay up"}))
    assert acc.failure is not None
    assert (acc.failure.code, acc.failure.type, acc.failure.message) == (
        "insufficient_quota", "insufficient_quota", "Pay up")


def test_after_a_resume_duplicate_and_older_sequence_numbers_are_ignored() -> None:
    acc = ResponseAccumulator()
    events = message(0, "msg_1", ["a", "b"], 0)
    feed(acc, events[:4])
    acc.resume_after(events[3].sequence_number)  # a reconnection with starting_after
    assert response_events(acc, events[3]) == []
    assert response_events(acc, events[2]) == []
    feed(acc, events[4:])
    assert acc.current_content() == "ab"
    assert acc.last_sequence_number == events[-1].sequence_number


def test_events_without_sequence_numbers_are_always_handled() -> None:
    acc = ResponseAccumulator()
    delta = event("response.output_text.delta", item_id="m", output_index=0, content_index=0,
                  delta="x")
    response_events(acc, delta)
    response_events(acc, delta)
    assert acc.current_content() == "xx"
    assert acc.last_sequence_number is None


def test_resumed_stream_without_created_accumulates() -> None:
    acc = ResponseAccumulator()
    events = text_stream(["Hel", "lo"])
    feed(acc, events[5:])  # from the first delta on: no lifecycle, item or part events
    assert acc.current_content() == "Hello"
    assert acc.terminal and acc.response().status == "completed"


def test_snapshot_before_any_lifecycle_event_is_a_response() -> None:
    acc = ResponseAccumulator()
    response_events(acc, event("response.function_call_arguments.delta", item_id="fc_1",
                           output_index=0, delta="{}", sequence_number=4))
    item = acc.response().output[0]
    assert isinstance(item, rt.FunctionCall) and item.arguments == "{}"
    assert acc.response_id is None


def test_response_id_comes_from_the_first_lifecycle_event() -> None:
    acc = ResponseAccumulator()
    response_events(acc, lifecycle("response.queued", "queued", 1))
    assert acc.response_id == "resp_1"


def test_earlier_snapshots_are_not_changed_by_later_events() -> None:
    acc = ResponseAccumulator()
    events = message(0, "msg_1", ["a", "b", "c"], 0)
    out = feed(acc, events[:3])
    first_delta = next(e for e in out if isinstance(e, ev.ContentDelta))
    early = acc.response()
    feed(acc, events[3:])
    assert first_delta.snapshot == "a"
    assert early.output_text == "a"
    assert acc.response().output_text == "abc"


def first_part(response: rt.Response) -> Any:
    item: Any = response.output[0]
    return item.content[0]


def test_earlier_snapshots_do_not_share_annotation_lists() -> None:
    acc = ResponseAccumulator()
    ids = {"item_id": "msg_1", "output_index": 0, "content_index": 0}
    feed(acc, message(0, "msg_1", ["see [1]"], 0)[:3])
    citation = {"type": "url_citation", "url": "https://e.x", "start_index": 4, "end_index": 7}
    response_events(acc, event("response.output_text.annotation.added", **ids, annotation_index=0,
                           annotation=citation, sequence_number=10))
    early = acc.response()
    response_events(acc, event("response.output_text.annotation.added", **ids, annotation_index=1,
                           annotation=citation, sequence_number=11))
    assert len(first_part(early).annotations) == 1
    assert len(first_part(acc.response()).annotations) == 2


def test_unknown_events_pass_through() -> None:
    acc = ResponseAccumulator()
    unknown = rt.decode_event(b'{"type":"response.novel.delta","sequence_number":3}')
    assert response_events(acc, unknown) == [unknown]
    assert acc.last_sequence_number == 3 and not acc.terminal


def test_websocket_response_done_is_terminal() -> None:
    acc = ResponseAccumulator()
    out = response_events(acc, lifecycle("response.done", "completed", 9))
    assert acc.terminal and isinstance(out[-1], ev.Done) and out[-1].finish_reason == "completed"


@given(st.lists(st.text(max_size=8), max_size=30))
def test_any_text_deltas_accumulate_to_their_concatenation(pieces: list[str]) -> None:
    acc = ResponseAccumulator()
    out = feed(acc, [event("response.output_text.delta", item_id="m", output_index=0,
                           content_index=0, delta=p, sequence_number=i)
                     for i, p in enumerate(pieces)])
    snapshots = [e.snapshot for e in out if isinstance(e, ev.ContentDelta)]
    assert snapshots == ["".join(pieces[: i + 1]) for i in range(len(pieces))]
    assert acc.current_content() == "".join(pieces)


@given(st.lists(st.tuples(st.integers(0, 2), st.text(max_size=5)), max_size=40))
def test_interleaved_argument_deltas_accumulate_per_call(deltas: list[tuple[int, str]]) -> None:
    acc = ResponseAccumulator()
    feed(acc, [event("response.function_call_arguments.delta", item_id=f"fc_{index}",
                     output_index=index, delta=piece, sequence_number=seq)
               for seq, (index, piece) in enumerate(deltas)])
    arguments = {getattr(i, "id", None): getattr(i, "arguments", None)
                 for i in acc.response().output}
    expected = {f"fc_{index}": "".join(p for i, p in deltas if i == index)
                for index, _ in deltas}
    assert arguments == expected


def test_handling_deltas_never_builds_the_text(monkeypatch: Any) -> None:
    def forbidden(self: TextBuffer, length: int | None = None) -> str:
        raise AssertionError("a delta rebuilt the text")

    acc = ResponseAccumulator()
    events = [event("response.output_text.delta", item_id="m", output_index=0, content_index=0,
                    delta="x", sequence_number=i) for i in range(50)]
    events += [event("response.function_call_arguments.delta", item_id="fc", output_index=1,
                     delta="y", sequence_number=50 + i) for i in range(50)]
    monkeypatch.setattr(TextBuffer, "text", forbidden)
    feed(acc, events)
    monkeypatch.undo()
    assert acc.current_content() == "x" * 50


def test_logprobs_on_text_deltas_become_logprobs_events() -> None:
    logprob = {"token": "Hi", "logprob": -0.1, "bytes": [72, 105], "top_logprobs": []}
    out = response_events(ResponseAccumulator(), event(
        "response.output_text.delta", item_id="m", output_index=2, content_index=0,
        delta="Hi", logprobs=[logprob]))
    logprobs = out[-1]
    assert isinstance(logprobs, ev.LogprobsDelta) and logprobs.output_index == 2
    assert logprobs.content == [rt.Logprob(token="Hi", logprob=-0.1, bytes=[72, 105],
                                           top_logprobs=[])]


def test_content_done_comes_once_even_without_output_text_done() -> None:
    events = [e for e in message(0, "msg_1", ["a", "b"], 0)
              if not isinstance(e, rt.OutputTextDone)]
    done = [e for e in feed(ResponseAccumulator(), events) if isinstance(e, ev.ContentDone)]
    assert [d.content for d in done] == ["ab"]


def test_output_item_done_replaces_the_accumulated_item() -> None:
    acc = ResponseAccumulator()
    feed(acc, function_call(0, "call_a", "f", ['{"a":', "1}"], 0))
    item = acc.response().output[0]
    assert isinstance(item, rt.FunctionCall)
    assert (item.status, item.arguments, item.call_id) == ("completed", '{"a":1}', "call_a")
