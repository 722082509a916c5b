"""Chat Completions wire types: every recorded frame decodes, and re-encodes without loss."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import msgspec
import pytest
from support import corpus_files, read_frames

from oxide_rx.types.chat import (
    CHUNK_DECODER,
    COMPLETION_DECODER,
    ChatCompletionChunk,
    ChatCompletionMessage,
)

CHAT_FILES = corpus_files("chat-")


def _default(field: msgspec.structs.FieldInfo) -> Any:
    if field.default is not msgspec.NODEFAULT:
        return field.default
    if field.default_factory is not msgspec.NODEFAULT:
        return field.default_factory()
    return msgspec.NODEFAULT


def assert_reencoding_keeps(original: Any, value: Any, encoded: Any) -> None:
    """``encoded`` (``value`` re-encoded, then parsed) holds every key of ``original`` that
    we model, with its original value; only a key holding the field's default may be left out.
    Nothing else may appear."""
    if isinstance(value, msgspec.Struct):
        fields = {field.encode_name: field for field in msgspec.structs.fields(value)}
        assert set(encoded) <= set(original) & set(fields)
        for name, field in fields.items():
            if name not in original:
                continue
            current = getattr(value, field.name)
            if name not in encoded:
                assert current == _default(field), f"{name!r} was dropped"
                continue
            assert_reencoding_keeps(original[name], current, encoded[name])
    elif isinstance(value, list):
        assert len(encoded) == len(original) == len(value)
        for o, v, e in zip(original, value, encoded, strict=True):
            assert_reencoding_keeps(o, v, e)
    else:
        assert encoded == original


@pytest.mark.parametrize("path", CHAT_FILES, ids=[p.stem for p in CHAT_FILES])
def test_every_recorded_frame_decodes(path: Path) -> None:
    frames = read_frames(path)
    assert frames
    for frame in frames:
        assert isinstance(CHUNK_DECODER.decode(frame), ChatCompletionChunk)


@pytest.mark.parametrize("path", CHAT_FILES, ids=[p.stem for p in CHAT_FILES])
def test_reencoding_keeps_the_wire_keys_we_model(path: Path) -> None:
    for frame in read_frames(path):
        chunk = CHUNK_DECODER.decode(frame)
        encoded = msgspec.json.encode(chunk)
        assert CHUNK_DECODER.decode(encoded) == chunk
        assert_reencoding_keeps(json.loads(frame), chunk, json.loads(encoded))


def test_reencoding_does_not_invent_keys() -> None:
    chunk = CHUNK_DECODER.decode(b'{"id":"c","choices":[{"index":0,"delta":{"content":"x"}}]}')
    assert msgspec.json.encode(chunk) == (
        b'{"id":"c","choices":[{"index":0,"delta":{"content":"x"}}]}'
    )


def test_error_payload_decodes_with_error_set() -> None:
    chunk = CHUNK_DECODER.decode(
        b'{"error":{"message":"overloaded","type":"server_error","param":null,"code":null}}'
    )
    assert chunk.error == {"message": "overloaded", "type": "server_error", "param": None,
                           "code": None}
    assert chunk.choices == []


def test_regular_chunk_has_no_error() -> None:
    chunk = CHUNK_DECODER.decode(b'{"id":"c","object":"chat.completion.chunk","choices":[]}')
    assert chunk.error is None


def test_azure_prompt_filter_chunk_decodes() -> None:
    chunk = CHUNK_DECODER.decode(
        b'{"choices":[],"created":0,"id":"","model":"","object":"",'
        b'"prompt_filter_results":[{"prompt_index":0,"content_filter_results":'
        b'{"hate":{"filtered":false,"severity":"safe"}}}]}'
    )
    assert (chunk.object, chunk.id, chunk.created, chunk.choices) == ("", "", 0, [])
    assert chunk.prompt_filter_results[0]["prompt_index"] == 0


def test_chunk_without_choices_key_decodes() -> None:
    chunk = CHUNK_DECODER.decode(
        b'{"id":"c","object":"chat.completion.chunk","usage":null,"obfuscation":"pad"}'
    )
    assert chunk.choices == []
    assert chunk.obfuscation == "pad"


def test_choice_without_delta_decodes() -> None:
    chunk = CHUNK_DECODER.decode(
        b'{"object":"","choices":[{"index":0,"finish_reason":null,'
        b'"content_filter_results":{"hate":{"filtered":false}}}]}'
    )
    assert chunk.choices[0].delta.content is None
    assert chunk.choices[0].content_filter_results == {"hate": {"filtered": False}}


def test_unknown_fields_and_enum_values_are_accepted() -> None:
    chunk = CHUNK_DECODER.decode(
        b'{"id":"c","brand_new":1,"service_tier":"galactic","choices":[{"index":0,'
        b'"delta":{"role":"oracle","new_field":[1]},"finish_reason":"teleported"}]}'
    )
    assert chunk.service_tier == "galactic"
    assert chunk.choices[0].delta.role == "oracle"
    assert chunk.choices[0].finish_reason == "teleported"


def test_choice_without_index_is_a_validation_error() -> None:
    with pytest.raises(msgspec.ValidationError, match="index"):
        CHUNK_DECODER.decode(b'{"choices":[{"delta":{"content":"x"}}]}')


def test_tool_call_fragment_decodes() -> None:
    chunk = CHUNK_DECODER.decode(
        b'{"choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"id":"call_1",'
        b'"type":"function","function":{"name":"f","arguments":""}}]}}]}'
    )
    (fragment,) = chunk.choices[0].delta.tool_calls or []
    assert (fragment.index, fragment.id, fragment.type) == (1, "call_1", "function")
    assert fragment.function is not None and fragment.function.name == "f"


NON_STREAMING_BODY = b"""{
  "id": "chatcmpl-1", "object": "chat.completion", "created": 1727346169,
  "model": "gpt-4o-2024-08-06", "system_fingerprint": "fp_1", "service_tier": "default",
  "choices": [{
    "index": 0, "finish_reason": "tool_calls", "logprobs": null,
    "message": {
      "role": "assistant", "content": null, "refusal": null, "annotations": [],
      "tool_calls": [{"id": "call_1", "type": "function",
                      "function": {"name": "get_weather", "arguments": "{\\"city\\":\\"Paris\\"}"}}]
    }
  }],
  "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15,
            "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
            "completion_tokens_details": {"reasoning_tokens": 0}}
}"""


def test_non_streaming_completion_decodes() -> None:
    completion = COMPLETION_DECODER.decode(NON_STREAMING_BODY)
    (choice,) = completion.choices
    (call,) = choice.message.tool_calls or []
    assert (call.id, call.type, call.function.name) == ("call_1", "function", "get_weather")
    assert call.function.arguments == '{"city":"Paris"}'
    assert call.parsed_arguments is None
    assert completion.usage is not None and completion.usage.total_tokens == 15
    assert completion.usage.completion_tokens_details is not None
    assert completion.usage.completion_tokens_details.reasoning_tokens == 0


def test_completion_round_trips() -> None:
    completion = COMPLETION_DECODER.decode(NON_STREAMING_BODY)
    assert COMPLETION_DECODER.decode(msgspec.json.encode(completion)) == completion


def test_reencoded_message_is_a_valid_input_message() -> None:
    message = ChatCompletionMessage(role="assistant", content="Hi")
    assert msgspec.to_builtins(message) == {"role": "assistant", "content": "Hi"}


def test_audio_message_decodes() -> None:
    completion = COMPLETION_DECODER.decode(
        b'{"id":"c","choices":[{"index":0,"finish_reason":"stop","message":{"role":"assistant",'
        b'"audio":{"id":"audio_1","data":"AAAA","expires_at":1780697157,"transcript":"Hello"}}}]}'
    )
    audio = completion.choices[0].message.audio
    assert audio is not None
    assert (audio.id, audio.data, audio.expires_at, audio.transcript) == (
        "audio_1", "AAAA", 1780697157, "Hello")


def test_wire_structs_are_frozen() -> None:
    chunk = CHUNK_DECODER.decode(b'{"id":"c"}')
    with pytest.raises(AttributeError):
        chunk.id = "other"  # type: ignore[misc]
