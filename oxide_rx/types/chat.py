"""Chat Completions wire types, named and shaped after the official ``openai`` package.

Streaming: every SSE ``data:`` payload decodes to a :class:`ChatCompletionChunk` with
:data:`CHUNK_DECODER`; the non-streaming reply decodes to a :class:`ChatCompletion` with
:data:`COMPLETION_DECODER`::

    >>> chunk = CHUNK_DECODER.decode(
    ...     b'{"id":"c1","object":"chat.completion.chunk","created":1,"model":"m",'
    ...     b'"choices":[{"index":0,"delta":{"content":"Hi"},"finish_reason":null}]}')
    >>> chunk.choices[0].delta.content
    'Hi'

Decoding is forward compatible, because real streams vary and grow:

* unknown keys are ignored; almost every field is optional (Azure sends ``id:""``,
  ``object:""``, ``created:0``; audio keep-alives have no ``choices`` key; gpt-5 sends no
  ``logprobs`` key). Only a choice's ``index`` is required, because nothing can be merged
  without it (a tool-call fragment without ``index``, as some OpenAI-compatible servers send,
  is the next call);
* enum-like fields (``finish_reason``, ``role``, ``service_tier``, ``type``) are plain ``str``,
  so a new value is data, not a decode error;
* payloads nobody needs typed (``moderation``, Azure ``prompt_filter_results`` and
  ``content_filter_results``) are kept whole as ``Any``.

Re-encoding (``msgspec.json.encode``) keeps every key these Structs model, except keys whose
value equals the field's default (``null``, ``""``, ``0``, ``[]``): ``omit_defaults`` makes
absent and default the same thing, so nothing the server did not send is invented.
"""

from __future__ import annotations

from typing import Any

import msgspec

from oxide_rx.types.shared import RAW_FIELD, RawPayload, WireStruct

__all__ = [
    "CHUNK_DECODER",
    "COMPLETION_DECODER",
    "Annotation",
    "AnnotationURLCitation",
    "ChatCompletion",
    "ChatCompletionAudio",
    "ChatCompletionChoice",
    "ChatCompletionChunk",
    "ChatCompletionMessage",
    "ChatCompletionMessageToolCall",
    "ChatCompletionTokenLogprob",
    "Choice",
    "ChoiceDelta",
    "ChoiceDeltaAudio",
    "ChoiceDeltaFunctionCall",
    "ChoiceDeltaToolCall",
    "ChoiceDeltaToolCallFunction",
    "ChoiceLogprobs",
    "CompletionTokensDetails",
    "CompletionUsage",
    "Function",
    "FunctionCall",
    "PromptTokensDetails",
    "TopLogprob",
]


# ---------------------------------------------------------------------------- usage


class PromptTokensDetails(WireStruct, frozen=True, kw_only=True):
    """Breakdown of the prompt tokens."""

    audio_tokens: int | None = None
    cache_write_tokens: int | None = None
    cached_tokens: int | None = None
    image_tokens: int | None = None
    text_tokens: int | None = None


class CompletionTokensDetails(WireStruct, frozen=True, kw_only=True):
    """Breakdown of the completion tokens (``reasoning_tokens`` for reasoning models)."""

    accepted_prediction_tokens: int | None = None
    audio_tokens: int | None = None
    reasoning_tokens: int | None = None
    rejected_prediction_tokens: int | None = None
    text_tokens: int | None = None


class CompletionUsage(WireStruct, frozen=True, kw_only=True):
    """Token counts of one request.

    In a stream it arrives once, on a chunk with ``choices: []`` just before ``[DONE]``, and
    only when the request set ``stream_options={"include_usage": True}``. The three totals are
    required: every usage object carries them, and a re-encoded usage must too.
    """

    completion_tokens: int
    prompt_tokens: int
    total_tokens: int
    completion_tokens_details: CompletionTokensDetails | None = None
    prompt_tokens_details: PromptTokensDetails | None = None


# ---------------------------------------------------------------------------- logprobs


class TopLogprob(WireStruct, frozen=True, kw_only=True):
    """One of the most likely tokens at a position."""

    token: str
    logprob: float
    bytes: list[int] | None = None


class ChatCompletionTokenLogprob(WireStruct, frozen=True, kw_only=True):
    """One sampled token with its log probability (``-9999.0`` for very unlikely tokens).

    ``top_logprobs`` is filled only when the request set ``top_logprobs``.
    """

    token: str
    logprob: float
    bytes: list[int] | None = None
    top_logprobs: list[TopLogprob] = []


class ChoiceLogprobs(WireStruct, frozen=True, kw_only=True):
    """Token log probabilities of the answer (``content``) or of a refusal (``refusal``)."""

    content: list[ChatCompletionTokenLogprob] | None = None
    refusal: list[ChatCompletionTokenLogprob] | None = None


# ---------------------------------------------------------------------------- streaming


class ChoiceDeltaAudio(WireStruct, frozen=True, kw_only=True):
    """A piece of an audio answer: ``id``, base64 ``data`` or ``transcript`` pieces.

    The last audio update of a stream carries only ``expires_at`` (and no ``finish_reason``).
    """

    id: str | None = None
    data: str | None = None
    transcript: str | None = None
    expires_at: int | None = None


class ChoiceDeltaFunctionCall(WireStruct, frozen=True, kw_only=True):
    """Deprecated ``function_call`` fragment; merged like a single tool call."""

    name: str | None = None
    arguments: str | None = None


class ChoiceDeltaToolCallFunction(WireStruct, frozen=True, kw_only=True):
    """Function part of a tool-call fragment: ``name`` once, then ``arguments`` pieces."""

    name: str | None = None
    arguments: str | None = None


class ChoiceDeltaToolCall(WireStruct, frozen=True, kw_only=True):
    """A tool-call fragment. ``index`` says which call it extends; ``id``, ``type`` and
    ``function.name`` arrive once, on the first fragment of that index. Some
    OpenAI-compatible servers leave ``index`` out (``None``): see
    :class:`~oxide_rx.ChatCompletionAccumulator` for how such fragments merge."""

    index: int | None = None
    id: str | None = None
    type: str | None = None
    function: ChoiceDeltaToolCallFunction | None = None


class ChoiceDelta(WireStruct, frozen=True, kw_only=True):
    """What one chunk adds to one choice. ``content`` is ``""`` on the first chunk of a text
    answer and ``None`` on the first chunk of a refusal or tool call."""

    role: str | None = None
    content: str | None = None
    refusal: str | None = None
    tool_calls: list[ChoiceDeltaToolCall] | None = None
    function_call: ChoiceDeltaFunctionCall | None = None
    audio: ChoiceDeltaAudio | None = None


class Choice(WireStruct, frozen=True, kw_only=True):
    """One choice's part of a chunk. ``finish_reason`` is set on exactly one chunk per choice
    (``"stop" | "length" | "tool_calls" | "content_filter" | "function_call"``)."""

    index: int
    # Azure asynchronous-filter chunks can carry a choice without a delta.
    delta: ChoiceDelta = msgspec.field(default_factory=ChoiceDelta)
    finish_reason: str | None = None
    logprobs: ChoiceLogprobs | None = None
    content_filter_results: Any = None
    """Azure only: the content filter verdicts for this choice."""


class ChatCompletionChunk(RawPayload, WireStruct, frozen=True, kw_only=True):
    """One streamed chunk (``object: "chat.completion.chunk"``).

    ``choices`` is empty on the usage chunk, the moderation chunk and Azure's prompt-filter
    chunk (``object: ""``), and missing on audio keep-alives. ``obfuscation`` is random padding
    against size side channels: it stays on the chunk and is never accumulated.

    ``error`` is set only when the payload was a mid-stream ``{"error": {...}}`` frame instead
    of a chunk; the ``decode`` operator raises :class:`oxide_rx.ResponseFailedError` for such a
    frame, so an accumulator never sees it.

    ``raw`` is the payload exactly as the server sent it, set when a stream decoded the chunk
    (``None`` otherwise): fields this library does not model yet stay reachable there. It is
    not part of the wire JSON (its key is ``__raw__`` if you re-encode the chunk).
    """

    id: str = ""
    object: str = ""
    created: int = 0
    model: str = ""
    choices: list[Choice] = []
    usage: CompletionUsage | None = None
    system_fingerprint: str | None = None
    service_tier: str | None = None
    obfuscation: str | None = None
    moderation: Any = None
    """``{"input": ..., "output": ...}`` moderation results when the request asked for them."""
    prompt_filter_results: Any = None
    """Azure only: prompt filter verdicts, on the first chunk."""
    error: dict[str, Any] | None = None
    raw: bytes | None = RAW_FIELD


# ---------------------------------------------------------------------------- complete


class FunctionCall(WireStruct, frozen=True, kw_only=True):
    """Deprecated ``function_call`` of a message."""

    name: str
    arguments: str


class Function(WireStruct, frozen=True, kw_only=True):
    """The function a tool call invokes; ``arguments`` is JSON text as the model wrote it."""

    name: str
    arguments: str


class ChatCompletionMessageToolCall(WireStruct, frozen=True, kw_only=True):
    """A function tool call.

    ``parsed_arguments`` is not on the wire: the accumulator fills it with the decoded
    arguments (an instance of the tool's argument type when one was registered).
    """

    id: str
    type: str
    function: Function
    parsed_arguments: Any = None


class ChatCompletionAudio(WireStruct, frozen=True, kw_only=True):
    """An audio answer: base64 ``data``, its ``transcript``, and when it expires server-side."""

    id: str
    data: str = ""
    expires_at: int = 0
    transcript: str = ""


class AnnotationURLCitation(WireStruct, frozen=True, kw_only=True):
    """A URL cited by a web-search answer, with the character span citing it."""

    url: str = ""
    title: str = ""
    start_index: int = 0
    end_index: int = 0


class Annotation(WireStruct, frozen=True, kw_only=True):
    """An annotation of a message (``type: "url_citation"``)."""

    type: str = ""
    url_citation: AnnotationURLCitation | None = None


class ChatCompletionMessage(WireStruct, frozen=True, kw_only=True):
    """The model's message. ``role`` is required so a re-encoded message is a valid input
    message. ``parsed`` is not on the wire: it holds the structured output when a
    ``response_format`` type was given."""

    role: str
    content: str | None = None
    refusal: str | None = None
    tool_calls: list[ChatCompletionMessageToolCall] | None = None
    function_call: FunctionCall | None = None
    audio: ChatCompletionAudio | None = None
    annotations: list[Annotation] | None = None
    parsed: Any = None


class ChatCompletionChoice(WireStruct, frozen=True, kw_only=True):
    """One choice of a completion. ``finish_reason`` is ``None`` only for a stream that ended
    without one (an audio stream, or a snapshot taken mid-stream)."""

    index: int
    message: ChatCompletionMessage
    finish_reason: str | None = None
    logprobs: ChoiceLogprobs | None = None
    content_filter_results: Any = None
    """Azure only: the content filter verdicts for this choice."""


class ChatCompletion(WireStruct, frozen=True, kw_only=True):
    """A complete chat completion: the non-streaming reply, or a stream's accumulation."""

    id: str = ""
    object: str = ""
    created: int = 0
    model: str = ""
    choices: list[ChatCompletionChoice] = []
    usage: CompletionUsage | None = None
    system_fingerprint: str | None = None
    service_tier: str | None = None
    moderation: Any = None
    prompt_filter_results: Any = None


CHUNK_DECODER: msgspec.json.Decoder[ChatCompletionChunk] = msgspec.json.Decoder(
    ChatCompletionChunk
)
"""Decodes one SSE ``data`` payload (bytes or str) into a :class:`ChatCompletionChunk`."""

COMPLETION_DECODER: msgspec.json.Decoder[ChatCompletion] = msgspec.json.Decoder(ChatCompletion)
"""Decodes a non-streaming Chat Completions body into a :class:`ChatCompletion`."""
