"""Responses API wire types: every stream event, the ``Response`` object and its output items.

One frozen ``msgspec.Struct`` per stream event type, named after its ``type`` string
(``response.output_text.delta`` → :class:`OutputTextDelta`, ``response.completed`` →
:class:`ResponseCompleted`, ``error`` → :class:`ErrorEvent`), in the tagged union
:data:`ResponseStreamEvent`. :func:`decode_event` decodes one SSE ``data`` payload or WebSocket
text frame::

    >>> event = decode_event(b'{"type":"response.output_text.delta","item_id":"msg_1",'
    ...                      b'"output_index":0,"content_index":0,"delta":"Hi"}')
    >>> type(event).__name__, event.delta, event.sequence_number
    ('OutputTextDelta', 'Hi', None)
    >>> decode_event(b'{"type":"response.new_thing","x":1}').type
    'response.new_thing'

The types live in small modules by kind (``_response_parts``, ``_response_items``,
``_response_object``, ``_response_events``, ``_response_tool_events``); import them from here.

**Open unions.** Output items, content parts and annotations grow new types over time. Fields
holding them (``OutputItemAdded.item``, ``Response.output``, ``Message.content``, ...) decode a
known ``type`` to its Struct and any other ``type`` to :class:`UnknownItem` /
:class:`UnknownPart` / :class:`UnknownAnnotation`: ``dict`` subclasses that keep the object as
it came and re-encode to exactly it. This is done by :func:`dec_hook`, which the module's
decoders use; pass it yourself when converting with msgspec directly
(``msgspec.convert(obj, Response, dec_hook=dec_hook)``). A known type with bad fields is an
error, not an unknown object.

**What re-encoding drops** (``msgspec.json.encode(event)`` versus the wire JSON):

* keys whose value is ``null`` in events, items, parts and annotations (``omit_defaults``;
  absent and ``null`` mean the same here). ``Response`` keeps every declared field, so it
  re-encodes absent fields as ``null``;
* fields no Struct here declares (msgspec ignores unknown fields). Every field seen in the
  recorded corpus and every field of openai-python 3.54 is declared; deeply nested tool
  payloads (web search actions, code interpreter outputs, shell output, tool definitions,
  ``reasoning``/``text`` configuration, ...) are typed ``Any`` and kept whole.
"""

from __future__ import annotations

import contextlib
from typing import Any, TypeAlias

import msgspec

from oxide_rx._exceptions import DecodeError
from oxide_rx.types._response_events import (
    CORE_EVENT_TYPES,
    ContentPartAdded,
    ContentPartDone,
    ErrorDetail,
    ErrorEvent,
    FunctionCallArgumentsDelta,
    FunctionCallArgumentsDone,
    OutputItemAdded,
    OutputItemDone,
    OutputTextAnnotationAdded,
    OutputTextDelta,
    OutputTextDone,
    ReasoningSummaryPartAdded,
    ReasoningSummaryPartDone,
    ReasoningSummaryTextDelta,
    ReasoningSummaryTextDone,
    ReasoningTextDelta,
    ReasoningTextDone,
    RefusalDelta,
    RefusalDone,
    ResponseCompleted,
    ResponseCreated,
    ResponseDone,
    ResponseFailed,
    ResponseIncomplete,
    ResponseInProgress,
    ResponseQueued,
)
from oxide_rx.types._response_items import (
    AdditionalTools,
    ApplyPatchCall,
    ApplyPatchCallOutput,
    CodeInterpreterCall,
    Compaction,
    ComputerCall,
    ComputerCallOutput,
    CustomToolCall,
    CustomToolCallOutput,
    FileSearchCall,
    FunctionCall,
    FunctionCallOutput,
    ImageGenerationCall,
    LocalShellCall,
    LocalShellCallOutput,
    McpApprovalRequest,
    McpApprovalResponse,
    McpCall,
    McpListTools,
    Message,
    OutputItem,
    Program,
    ProgramOutput,
    Reasoning,
    ShellCall,
    ShellCallOutput,
    ToolSearchCall,
    ToolSearchOutput,
    WebSearchCall,
    dec_hook,
)
from oxide_rx.types._response_object import (
    IncompleteDetails,
    InputTokensDetails,
    OutputTokensDetails,
    Response,
    ResponseError,
    ResponseUsage,
)
from oxide_rx.types._response_parts import (
    Annotation,
    ContainerFileCitation,
    ContentPart,
    FileCitation,
    FilePath,
    Logprob,
    OutputTextPart,
    ReasoningTextPart,
    RefusalPart,
    SummaryTextPart,
    TopLogprob,
    UnknownAnnotation,
    UnknownItem,
    UnknownPart,
    UrlCitation,
)
from oxide_rx.types._response_tool_events import (
    TOOL_EVENT_TYPES,
    ApplyPatchCallOperationDiffDelta,
    ApplyPatchCallOperationDiffDone,
    AudioDelta,
    AudioDone,
    AudioTranscriptDelta,
    AudioTranscriptDone,
    CodeInterpreterCallCodeDelta,
    CodeInterpreterCallCodeDone,
    CodeInterpreterCallCompleted,
    CodeInterpreterCallInProgress,
    CodeInterpreterCallInterpreting,
    CompactionCompacting,
    CustomToolCallInputDelta,
    CustomToolCallInputDone,
    FileSearchCallCompleted,
    FileSearchCallInProgress,
    FileSearchCallSearching,
    ImageGenerationCallCompleted,
    ImageGenerationCallGenerating,
    ImageGenerationCallInProgress,
    ImageGenerationCallPartialImage,
    McpCallArgumentsDelta,
    McpCallArgumentsDone,
    McpCallCompleted,
    McpCallFailed,
    McpCallInProgress,
    McpListToolsCompleted,
    McpListToolsFailed,
    McpListToolsInProgress,
    ShellCallCommandAdded,
    ShellCallCommandDelta,
    ShellCallCommandDone,
    ShellCallOutputContentDelta,
    ShellCallOutputContentDone,
    SteerAccepted,
    SteerFailed,
    SteerPending,
    WebSearchCallCompleted,
    WebSearchCallInProgress,
    WebSearchCallSearching,
)

__all__ = [
    "EVENT_CLASSES", "EVENT_DECODER", "EVENT_TYPES", "RESPONSE_DECODER", "AdditionalTools",
    "Annotation", "ApplyPatchCall",
    "ApplyPatchCallOperationDiffDelta", "ApplyPatchCallOperationDiffDone",
    "ApplyPatchCallOutput", "AudioDelta", "AudioDone", "AudioTranscriptDelta",
    "AudioTranscriptDone", "CodeInterpreterCall", "CodeInterpreterCallCodeDelta",
    "CodeInterpreterCallCodeDone", "CodeInterpreterCallCompleted",
    "CodeInterpreterCallInProgress", "CodeInterpreterCallInterpreting", "Compaction",
    "CompactionCompacting", "ComputerCall", "ComputerCallOutput", "ContainerFileCitation",
    "ContentPart", "ContentPartAdded", "ContentPartDone", "CustomToolCall",
    "CustomToolCallInputDelta", "CustomToolCallInputDone", "CustomToolCallOutput",
    "ErrorDetail", "ErrorEvent", "FileCitation", "FilePath", "FileSearchCall",
    "FileSearchCallCompleted", "FileSearchCallInProgress", "FileSearchCallSearching",
    "FunctionCall", "FunctionCallArgumentsDelta", "FunctionCallArgumentsDone",
    "FunctionCallOutput", "ImageGenerationCall", "ImageGenerationCallCompleted",
    "ImageGenerationCallGenerating", "ImageGenerationCallInProgress",
    "ImageGenerationCallPartialImage", "IncompleteDetails", "InputTokensDetails",
    "LocalShellCall", "LocalShellCallOutput", "Logprob", "McpApprovalRequest",
    "McpApprovalResponse", "McpCall", "McpCallArgumentsDelta", "McpCallArgumentsDone",
    "McpCallCompleted", "McpCallFailed", "McpCallInProgress", "McpListTools",
    "McpListToolsCompleted", "McpListToolsFailed", "McpListToolsInProgress", "Message",
    "OutputItem", "OutputItemAdded", "OutputItemDone", "OutputTextAnnotationAdded",
    "OutputTextDelta", "OutputTextDone", "OutputTextPart", "OutputTokensDetails", "Program",
    "ProgramOutput", "Reasoning", "ReasoningSummaryPartAdded", "ReasoningSummaryPartDone",
    "ReasoningSummaryTextDelta", "ReasoningSummaryTextDone", "ReasoningTextDelta",
    "ReasoningTextDone", "ReasoningTextPart", "RefusalDelta", "RefusalDone", "RefusalPart",
    "Response", "ResponseCompleted", "ResponseCreated", "ResponseDone", "ResponseError",
    "ResponseFailed", "ResponseInProgress", "ResponseIncomplete", "ResponseQueued",
    "ResponseStreamEvent", "ResponseUsage", "ShellCall", "ShellCallCommandAdded",
    "ShellCallCommandDelta", "ShellCallCommandDone", "ShellCallOutput",
    "ShellCallOutputContentDelta", "ShellCallOutputContentDone", "SteerAccepted", "SteerFailed",
    "SteerPending", "SummaryTextPart", "ToolSearchCall", "ToolSearchOutput", "TopLogprob",
    "UnknownAnnotation", "UnknownEvent", "UnknownItem", "UnknownPart", "UrlCitation",
    "WebSearchCall", "WebSearchCallCompleted", "WebSearchCallInProgress",
    "WebSearchCallSearching", "dec_hook", "decode_event", "decode_response",
]

ResponseStreamEvent: TypeAlias = (
    ResponseCreated | ResponseQueued | ResponseInProgress | ResponseCompleted | ResponseFailed
    | ResponseIncomplete | ResponseDone | ErrorEvent
    | OutputItemAdded | OutputItemDone | ContentPartAdded | ContentPartDone
    | OutputTextDelta | OutputTextDone | OutputTextAnnotationAdded | RefusalDelta | RefusalDone
    | FunctionCallArgumentsDelta | FunctionCallArgumentsDone
    | ReasoningSummaryPartAdded | ReasoningSummaryPartDone | ReasoningSummaryTextDelta
    | ReasoningSummaryTextDone | ReasoningTextDelta | ReasoningTextDone
    | CodeInterpreterCallCodeDelta | CodeInterpreterCallCodeDone | CustomToolCallInputDelta
    | CustomToolCallInputDone | McpCallArgumentsDelta | McpCallArgumentsDone
    | ApplyPatchCallOperationDiffDelta | ApplyPatchCallOperationDiffDone
    | ImageGenerationCallPartialImage | ShellCallCommandAdded | ShellCallCommandDelta
    | ShellCallCommandDone | ShellCallOutputContentDelta | ShellCallOutputContentDone
    | AudioDelta | AudioDone | AudioTranscriptDelta | AudioTranscriptDone
    | SteerAccepted | SteerPending | SteerFailed
    | CodeInterpreterCallInProgress | CodeInterpreterCallInterpreting
    | CodeInterpreterCallCompleted | FileSearchCallInProgress | FileSearchCallSearching
    | FileSearchCallCompleted | WebSearchCallInProgress | WebSearchCallSearching
    | WebSearchCallCompleted | ImageGenerationCallInProgress | ImageGenerationCallGenerating
    | ImageGenerationCallCompleted | McpCallInProgress | McpCallCompleted | McpCallFailed
    | McpListToolsInProgress | McpListToolsCompleted | McpListToolsFailed | CompactionCompacting
)
"""Every Responses stream event this library knows, tagged by ``type``."""


class UnknownEvent(msgspec.Struct, frozen=True, kw_only=True):
    """An event whose ``type`` this library does not know: passed through, never fatal.

    ``raw`` is the JSON exactly as received; ``sequence_number`` is read from it when present.
    """

    type: str
    raw: bytes
    sequence_number: int | None = None


class _TypeProbe(msgspec.Struct):
    type: str
    sequence_number: Any = None


EVENT_CLASSES: tuple[type[Any], ...] = (*CORE_EVENT_TYPES, *TOOL_EVENT_TYPES)
"""The classes of :data:`ResponseStreamEvent`."""

EVENT_TYPES: frozenset[str] = frozenset(cls.type for cls in EVENT_CLASSES)
"""The ``type`` strings of :data:`ResponseStreamEvent`."""

EVENT_DECODER: msgspec.json.Decoder[ResponseStreamEvent] = msgspec.json.Decoder(
    ResponseStreamEvent, dec_hook=dec_hook
)
"""Decodes a known event; raises msgspec errors otherwise (:func:`decode_event` turns an
unknown ``type`` into :class:`UnknownEvent` and the rest into ``DecodeError``)."""
_PROBE_DECODER = msgspec.json.Decoder(_TypeProbe)
RESPONSE_DECODER: msgspec.json.Decoder[Response] = msgspec.json.Decoder(Response, dec_hook=dec_hook)
"""Reusable decoder for a ``Response`` body (raises msgspec errors; see :func:`decode_response`)."""


class _LooseTextDelta(msgspec.Struct):
    output_index: int
    content_index: int
    delta: str


class _LooseArgumentsDelta(msgspec.Struct):
    output_index: int
    delta: str


# What a lenient decode keeps of a delta whose other fields are bad: the fields the official
# helper accumulates by (it reads no others), so the text still counts.
# Lax (``"0"`` is 0), as the official client's validation of a bad event is.
_LOOSE_DECODERS: dict[str, msgspec.json.Decoder[Any]] = {
    OutputTextDelta.type: msgspec.json.Decoder(_LooseTextDelta, strict=False),
    FunctionCallArgumentsDelta.type: msgspec.json.Decoder(_LooseArgumentsDelta, strict=False),
}


def decode_event(data: bytes | str, *, lenient: bool = False) -> ResponseStreamEvent | UnknownEvent:
    """Decode one event (SSE ``data`` or WebSocket text frame).

    An unknown ``type`` gives :class:`UnknownEvent`; a known type with bad fields, or a payload
    that is not a JSON object with a string ``type``, raises :class:`~oxide_rx.DecodeError`.
    ``lenient``: a known type with bad fields gives :class:`UnknownEvent` too (what a client
    that must accept everything the official one accepts wants: ``oxide_rx.compat``), except
    a text or arguments delta whose place and text are sound: it is kept, without its
    ``item_id`` and ``sequence_number``, since the official helper accumulates it.

    >>> decode_event('{"type":"response.queued","response":{"id":"r"}}').response.id
    'r'
    """
    try:
        return EVENT_DECODER.decode(data)
    except msgspec.ValidationError as exc:
        invalid = exc
    except msgspec.DecodeError as exc:
        raise DecodeError("Responses stream event is not valid JSON", data=data) from exc
    try:
        probe = _PROBE_DECODER.decode(data)
    except msgspec.ValidationError:
        raise DecodeError(f"Responses stream event has no string `type` ({invalid})",
                          data=data) from invalid
    except msgspec.DecodeError as exc:  # malformed past the point the first decode reached
        raise DecodeError("Responses stream event is not valid JSON", data=data) from exc
    if probe.type in EVENT_TYPES and not lenient:
        raise DecodeError(f"Invalid `{probe.type}` event: {invalid}", data=data) from invalid
    loose = _LOOSE_DECODERS.get(probe.type)
    if loose is not None:
        with contextlib.suppress(msgspec.ValidationError):
            return _loose_delta(loose.decode(data), data)
    seq = probe.sequence_number
    return UnknownEvent(
        type=probe.type,
        raw=data.encode() if isinstance(data, str) else bytes(data),
        sequence_number=seq if isinstance(seq, int) and not isinstance(seq, bool) else None,
    )


def _loose_delta(
    fields: _LooseTextDelta | _LooseArgumentsDelta, data: bytes | str
) -> OutputTextDelta | FunctionCallArgumentsDelta:
    """The delta of a lenient decode: its place and text; no ``item_id`` (``""``: the item at
    ``output_index``, as the accumulator takes it) and no ``sequence_number`` (the event did
    not say one that can be trusted)."""
    raw = data.encode() if isinstance(data, str) else bytes(data)
    if isinstance(fields, _LooseTextDelta):
        return OutputTextDelta(item_id="", output_index=fields.output_index,
                               content_index=fields.content_index, delta=fields.delta, raw=raw)
    return FunctionCallArgumentsDelta(item_id="", output_index=fields.output_index,
                                      delta=fields.delta, raw=raw)


def decode_response(data: bytes | str) -> Response:
    """Decode a ``Response`` JSON body (``POST /v1/responses`` without streaming).

    >>> decode_response(b'{"id":"resp_1","output":[{"type":"new_item"}]}').output[0].type
    'new_item'
    """
    try:
        return RESPONSE_DECODER.decode(data)
    except msgspec.DecodeError as exc:
        raise DecodeError(f"Invalid Response: {exc}", data=data) from exc

