"""Responses API wire types: decoding, open unions, both error shapes, re-encoding."""

from __future__ import annotations

import json
import typing

import msgspec
import pytest

from oxide_rx import DecodeError
from oxide_rx.types import responses as rt

TEXT_DELTA = {
    "type": "response.output_text.delta", "item_id": "msg_1", "output_index": 0,
    "content_index": 0, "delta": "Hi", "logprobs": [], "obfuscation": "abc",
    "sequence_number": 4,
}


def encode(value: object) -> bytes:
    return msgspec.json.encode(value)


def test_known_event_decodes_to_its_struct() -> None:
    event = rt.decode_event(encode(TEXT_DELTA))
    assert isinstance(event, rt.OutputTextDelta)
    assert (event.delta, event.sequence_number, event.obfuscation) == ("Hi", 4, "abc")


def test_event_type_attribute_is_the_wire_type() -> None:
    assert rt.decode_event(encode(TEXT_DELTA)).type == "response.output_text.delta"


def test_every_union_member_has_its_tag_as_type() -> None:
    for cls in typing.get_args(rt.ResponseStreamEvent):
        assert cls.type == cls.__struct_config__.tag


def test_str_input_decodes_like_bytes() -> None:
    assert rt.decode_event(json.dumps(TEXT_DELTA)) == rt.decode_event(encode(TEXT_DELTA))


def test_unknown_event_type_keeps_type_and_raw() -> None:
    raw = b'{"type":"response.brand_new.delta","delta":"x","sequence_number":7}'
    event = rt.decode_event(raw)
    assert isinstance(event, rt.UnknownEvent)
    assert (event.type, event.raw, event.sequence_number) == ("response.brand_new.delta", raw, 7)


def test_unknown_event_from_str_keeps_raw_as_bytes() -> None:
    event = rt.decode_event('{"type":"x.y"}')
    assert isinstance(event, rt.UnknownEvent)
    assert event.raw == b'{"type":"x.y"}'
    assert event.sequence_number is None


def test_known_type_with_bad_field_raises_decode_error() -> None:
    with pytest.raises(DecodeError, match=r"response\.output_text\.delta"):
        rt.decode_event(encode({**TEXT_DELTA, "delta": 5}))


def test_known_type_missing_required_field_raises_decode_error() -> None:
    bad = {k: v for k, v in TEXT_DELTA.items() if k != "output_index"}
    with pytest.raises(DecodeError, match="output_index"):
        rt.decode_event(encode(bad))


def test_decode_error_shows_an_excerpt_of_the_payload() -> None:
    with pytest.raises(DecodeError) as info:
        rt.decode_event(encode({**TEXT_DELTA, "delta": 5}))
    assert info.value.data is not None and "msg_1" in info.value.data


def test_non_json_raises_decode_error() -> None:
    with pytest.raises(DecodeError, match="not valid JSON"):
        rt.decode_event(b"data: {oops")


def test_json_without_a_type_raises_decode_error() -> None:
    with pytest.raises(DecodeError, match="type"):
        rt.decode_event(b'{"delta": "x"}')


def test_json_that_is_not_an_object_raises_decode_error() -> None:
    with pytest.raises(DecodeError):
        rt.decode_event(b"[1, 2]")


def test_absent_sequence_number_is_none_and_stays_absent() -> None:
    wire = {k: v for k, v in TEXT_DELTA.items() if k != "sequence_number"}
    event = rt.decode_event(encode(wire))
    assert event.sequence_number is None
    assert "sequence_number" not in json.loads(encode(event))


def test_flat_error_shape() -> None:
    event = rt.decode_event(b'{"type":"error","code":"server_error","message":"Boom",'
                            b'"param":null,"sequence_number":3}')
    assert isinstance(event, rt.ErrorEvent)
    assert (event.effective_code, event.effective_message) == ("server_error", "Boom")


def test_nested_error_shape() -> None:
    event = rt.decode_event(
        b'{"type":"error","sequence_number":2,"error":{"type":"insufficient_quota",'
        b'"code":"insufficient_quota","message":"You exceeded your quota","param":null}}'
    )
    assert isinstance(event, rt.ErrorEvent)
    assert event.effective_code == "insufficient_quota"
    assert event.effective_message == "You exceeded your quota"
    assert event.error is not None and event.error.type == "insufficient_quota"


def test_nested_error_without_code_falls_back_to_its_type() -> None:
    event = rt.decode_event(b'{"type":"error","error":{"type":"server_error","message":"x"}}')
    assert isinstance(event, rt.ErrorEvent)
    assert event.effective_code == "server_error"


def test_websocket_error_keeps_status_and_stream_id() -> None:
    event = rt.decode_event(b'{"type":"error","status":400,"stream_id":"lane-1",'
                            b'"error":{"type":"invalid_request_error","message":"no"}}')
    assert isinstance(event, rt.ErrorEvent)
    assert (event.status, event.stream_id) == (400, "lane-1")


def test_unknown_output_item_type_decodes_and_reencodes_unchanged() -> None:
    item = {"type": "hologram_call", "id": "hc_1", "nested": {"a": [1, None]}}
    wire = {"type": "response.output_item.added", "output_index": 0, "item": item}
    event = rt.decode_event(encode(wire))
    assert isinstance(event, rt.OutputItemAdded)
    assert isinstance(event.item, rt.UnknownItem)
    assert event.item.type == "hologram_call"
    assert json.loads(encode(event))["item"] == item


def test_known_output_item_with_bad_fields_raises_decode_error() -> None:
    item = {"type": "function_call", "call_id": "c", "name": 3, "arguments": ""}
    wire = {"type": "response.output_item.done", "output_index": 0, "item": item}
    with pytest.raises(DecodeError, match="function_call"):
        rt.decode_event(encode(wire))


def test_output_item_that_is_not_an_object_raises_decode_error() -> None:
    with pytest.raises(DecodeError):
        rt.decode_event(b'{"type":"response.output_item.added","output_index":0,"item":[]}')


def test_unknown_content_part_and_annotation_decode() -> None:
    message = {"type": "message", "id": "m", "role": "assistant", "content": [
        {"type": "output_text", "text": "a", "annotations": [{"type": "page_ref", "page": 2}]},
        {"type": "output_audio", "data": "..."},
    ]}
    response = rt.decode_response(encode({"id": "r", "output": [message]}))
    item = response.output[0]
    assert isinstance(item, rt.Message)
    text, audio = item.content
    assert isinstance(text, rt.OutputTextPart) and text.annotations is not None
    assert isinstance(text.annotations[0], rt.UnknownAnnotation)
    assert isinstance(audio, rt.UnknownPart) and audio.type == "output_audio"


def test_unknown_item_inside_a_lifecycle_response_decodes() -> None:
    wire = {"type": "response.completed", "response": {
        "id": "r", "status": "completed", "output": [{"type": "future_thing", "x": 1}]}}
    event = rt.decode_event(encode(wire))
    assert isinstance(event, rt.ResponseCompleted)
    assert event.response.output == [{"type": "future_thing", "x": 1}]


def test_response_output_text_joins_message_text_parts() -> None:
    response = rt.Response(output=[
        rt.Message(content=[rt.OutputTextPart(text="a"), rt.RefusalPart(refusal="no")]),
        rt.FunctionCall(call_id="c", name="f", arguments="{}"),
        rt.Message(content=[rt.OutputTextPart(text="b")]),
    ])
    assert response.output_text == "ab"


def test_decode_response_rejects_invalid_json() -> None:
    with pytest.raises(DecodeError):
        rt.decode_response(b"{")


def test_null_fields_are_omitted_when_reencoding() -> None:
    wire = {"type": "response.output_item.added", "output_index": 0, "item": {
        "type": "mcp_call", "id": "mcp_1", "arguments": "", "error": None, "output": None}}
    again = json.loads(encode(rt.decode_event(encode(wire))))
    assert again["item"] == {"type": "mcp_call", "id": "mcp_1", "arguments": ""}


def test_async_field_keeps_its_wire_name() -> None:
    item = {"type": "function_call", "call_id": "c", "name": "f", "arguments": "", "async": True}
    event = rt.decode_event(encode({"type": "response.output_item.added", "output_index": 0,
                                    "item": item}))
    assert isinstance(event, rt.OutputItemAdded) and isinstance(event.item, rt.FunctionCall)
    assert event.item.async_ is True
    assert json.loads(encode(event))["item"]["async"] is True


def test_websocket_only_events_are_known() -> None:
    done = rt.decode_event(b'{"type":"response.done","response":{"id":"r"},"stream_id":"s"}')
    steer = rt.decode_event(b'{"type":"response.steer.accepted","sequence_number":1,'
                            b'"steer":{"id":"st_1","previous_response_id":"r"}}')
    assert isinstance(done, rt.ResponseDone) and done.stream_id == "s"
    assert isinstance(steer, rt.SteerAccepted) and steer.steer["id"] == "st_1"


def test_every_sdk_stream_event_type_is_in_the_union() -> None:
    sdk = pytest.importorskip("openai.types.responses.response_stream_event")
    union = typing.get_args(typing.get_args(sdk.ResponseStreamEvent)[0])
    sdk_types = {typing.get_args(cls.model_fields["type"].annotation)[0] for cls in union}
    assert sdk_types - rt.EVENT_TYPES == set()


def test_every_sdk_output_item_type_has_a_struct() -> None:
    sdk = pytest.importorskip("openai.types.responses.response_output_item")
    union = typing.get_args(typing.get_args(sdk.ResponseOutputItem)[0])
    sdk_types = {typing.get_args(cls.model_fields["type"].annotation)[0] for cls in union}
    item = {"id": "x", "call_id": "c", "name": "n", "arguments": "", "input": "",
            "content": [], "summary": []}
    output = [{**item, "type": t} for t in sorted(sdk_types)]
    decoded = rt.decode_response(encode({"id": "r", "output": output})).output
    assert [i.type for i in decoded if isinstance(i, rt.UnknownItem)] == []
