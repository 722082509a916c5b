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

from typing import TYPE_CHECKING, Any, ClassVar, TypeAlias, get_args

import msgspec

from oxide_rx._exceptions import DecodeError
from oxide_rx.types.shared import WireStruct

__all__ = [
    "EVENT_TYPES", "RESPONSE_DECODER", "AdditionalTools", "Annotation", "ApplyPatchCall",
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

# --------------------------------------------------------------------------------------------
# Open-union plumbing. At runtime a field typed with one of these marker classes is filled in by
# ``dec_hook``; for type checkers the same field is the union of known Structs plus the fallback
# (see the ``TYPE_CHECKING`` block after the unions).


class _AnyItem:
    __slots__ = ()


class _AnyPart:
    __slots__ = ()


class _AnyAnnotation:
    __slots__ = ()


class _Wire(WireStruct, frozen=True, kw_only=True):
    """Base of every wire Struct here: read-only, keyword-only, ``null`` fields omitted on
    encode, not tracked by the garbage collector (see :mod:`oxide_rx.types.shared`)."""


class UnknownItem(dict[str, Any], _AnyItem):
    """An output item of a type this library does not know: the JSON object, unchanged."""

    __slots__ = ()

    @property
    def type(self) -> str:
        return str(self.get("type"))


class UnknownPart(dict[str, Any], _AnyPart):
    """A content part of a type this library does not know: the JSON object, unchanged."""

    __slots__ = ()

    @property
    def type(self) -> str:
        return str(self.get("type"))


class UnknownAnnotation(dict[str, Any], _AnyAnnotation):
    """A text annotation of a type this library does not know: the JSON object, unchanged."""

    __slots__ = ()

    @property
    def type(self) -> str:
        return str(self.get("type"))


# --------------------------------------------------------------------------------------------
# Annotations, log-probabilities, content parts


class _Annotation(_Wire, _AnyAnnotation, frozen=True, tag_field="type"):
    type: ClassVar[str]


class FileCitation(_Annotation, tag="file_citation", frozen=True, kw_only=True):
    file_id: str | None = None
    filename: str | None = None
    index: int | None = None


class UrlCitation(_Annotation, tag="url_citation", frozen=True, kw_only=True):
    url: str | None = None
    title: str | None = None
    start_index: int | None = None
    end_index: int | None = None


class ContainerFileCitation(_Annotation, tag="container_file_citation", frozen=True, kw_only=True):
    container_id: str | None = None
    file_id: str | None = None
    filename: str | None = None
    start_index: int | None = None
    end_index: int | None = None


class FilePath(_Annotation, tag="file_path", frozen=True, kw_only=True):
    file_id: str | None = None
    index: int | None = None


class TopLogprob(_Wire, frozen=True, kw_only=True):
    token: str
    logprob: float
    bytes: list[int] | None = None


class Logprob(_Wire, frozen=True, kw_only=True):
    """One output token's log-probability, with the most likely alternatives."""

    token: str
    logprob: float
    bytes: list[int] | None = None
    top_logprobs: list[TopLogprob] | None = None


class _Part(_Wire, _AnyPart, frozen=True, tag_field="type"):
    type: ClassVar[str]


class OutputTextPart(_Part, tag="output_text", frozen=True, kw_only=True):
    """Answer text inside a message item."""

    text: str
    annotations: list[_AnnotationField] | None = None
    logprobs: list[Logprob] | None = None


class RefusalPart(_Part, tag="refusal", frozen=True, kw_only=True):
    refusal: str


class ReasoningTextPart(_Part, tag="reasoning_text", frozen=True, kw_only=True):
    text: str


class SummaryTextPart(_Part, tag="summary_text", frozen=True, kw_only=True):
    text: str


# --------------------------------------------------------------------------------------------
# Output items (``Response.output[]``, ``response.output_item.added/done``)


class _Item(_Wire, _AnyItem, frozen=True, tag_field="type"):
    type: ClassVar[str]


class Message(_Item, tag="message", frozen=True, kw_only=True):
    """An assistant message; its text is in ``content`` (:class:`OutputTextPart` ...)."""

    content: list[_PartField]
    id: str | None = None
    role: str | None = None
    status: str | None = None
    phase: str | None = None


class FunctionCall(_Item, tag="function_call", frozen=True, kw_only=True):
    """A call of one of your functions. Answer it with ``call_id`` (not ``id``)."""

    call_id: str
    name: str
    arguments: str
    id: str | None = None
    status: str | None = None
    namespace: str | None = None
    caller: Any = None
    async_: bool | None = msgspec.field(default=None, name="async")


class FunctionCallOutput(_Item, tag="function_call_output", frozen=True, kw_only=True):
    id: str | None = None
    call_id: str | None = None
    output: Any = None
    status: str | None = None
    name: str | None = None
    namespace: str | None = None
    caller: Any = None
    created_by: str | None = None


class Reasoning(_Item, tag="reasoning", frozen=True, kw_only=True):
    """Reasoning: ``summary`` (:class:`SummaryTextPart`), raw ``content``, encrypted state."""

    summary: list[_PartField]
    id: str | None = None
    content: list[_PartField] | None = None
    encrypted_content: str | None = None
    status: str | None = None


class FileSearchCall(_Item, tag="file_search_call", frozen=True, kw_only=True):
    id: str | None = None
    status: str | None = None
    queries: list[str] | None = None
    results: Any = None


class WebSearchCall(_Item, tag="web_search_call", frozen=True, kw_only=True):
    id: str | None = None
    status: str | None = None
    action: Any = None


class ComputerCall(_Item, tag="computer_call", frozen=True, kw_only=True):
    id: str | None = None
    call_id: str | None = None
    status: str | None = None
    action: Any = None
    actions: Any = None
    pending_safety_checks: Any = None


class ComputerCallOutput(_Item, tag="computer_call_output", frozen=True, kw_only=True):
    id: str | None = None
    call_id: str | None = None
    status: str | None = None
    output: Any = None
    acknowledged_safety_checks: Any = None
    created_by: str | None = None


class Program(_Item, tag="program", frozen=True, kw_only=True):
    id: str | None = None
    call_id: str | None = None
    code: str | None = None
    fingerprint: str | None = None


class ProgramOutput(_Item, tag="program_output", frozen=True, kw_only=True):
    id: str | None = None
    call_id: str | None = None
    result: str | None = None
    status: str | None = None


class ToolSearchCall(_Item, tag="tool_search_call", frozen=True, kw_only=True):
    id: str | None = None
    call_id: str | None = None
    status: str | None = None
    execution: str | None = None
    arguments: Any = None
    created_by: str | None = None


class ToolSearchOutput(_Item, tag="tool_search_output", frozen=True, kw_only=True):
    id: str | None = None
    call_id: str | None = None
    status: str | None = None
    execution: str | None = None
    tools: Any = None
    created_by: str | None = None


class AdditionalTools(_Item, tag="additional_tools", frozen=True, kw_only=True):
    id: str | None = None
    role: str | None = None
    tools: Any = None


class Compaction(_Item, tag="compaction", frozen=True, kw_only=True):
    id: str | None = None
    encrypted_content: str | None = None
    created_by: str | None = None


class ImageGenerationCall(_Item, tag="image_generation_call", frozen=True, kw_only=True):
    id: str | None = None
    status: str | None = None
    result: str | None = None
    action: str | None = None
    background: str | None = None
    output_format: str | None = None
    quality: str | None = None
    size: str | None = None
    revised_prompt: str | None = None
    error: Any = None
    svg_usage: Any = None


class CodeInterpreterCall(_Item, tag="code_interpreter_call", frozen=True, kw_only=True):
    id: str | None = None
    status: str | None = None
    code: str | None = None
    container_id: str | None = None
    outputs: Any = None


class LocalShellCall(_Item, tag="local_shell_call", frozen=True, kw_only=True):
    id: str | None = None
    call_id: str | None = None
    status: str | None = None
    action: Any = None


class LocalShellCallOutput(_Item, tag="local_shell_call_output", frozen=True, kw_only=True):
    id: str | None = None
    status: str | None = None
    output: str | None = None


class ShellCall(_Item, tag="shell_call", frozen=True, kw_only=True):
    """A hosted shell call; ``action["commands"]`` lists the commands."""

    id: str | None = None
    call_id: str | None = None
    status: str | None = None
    action: Any = None
    environment: Any = None
    caller: Any = None
    created_by: str | None = None


class ShellCallOutput(_Item, tag="shell_call_output", frozen=True, kw_only=True):
    id: str | None = None
    call_id: str | None = None
    status: str | None = None
    output: Any = None
    max_output_length: int | None = None
    caller: Any = None
    created_by: str | None = None


class ApplyPatchCall(_Item, tag="apply_patch_call", frozen=True, kw_only=True):
    """A patch to apply; ``operation`` is ``{"type", "path", "diff"}``."""

    id: str | None = None
    call_id: str | None = None
    status: str | None = None
    operation: Any = None
    caller: Any = None
    created_by: str | None = None


class ApplyPatchCallOutput(_Item, tag="apply_patch_call_output", frozen=True, kw_only=True):
    id: str | None = None
    call_id: str | None = None
    status: str | None = None
    output: str | None = None
    caller: Any = None
    created_by: str | None = None


class McpCall(_Item, tag="mcp_call", frozen=True, kw_only=True):
    id: str | None = None
    server_label: str | None = None
    name: str | None = None
    arguments: str | None = None
    status: str | None = None
    output: str | None = None
    error: Any = None
    approval_request_id: str | None = None


class McpListTools(_Item, tag="mcp_list_tools", frozen=True, kw_only=True):
    id: str | None = None
    server_label: str | None = None
    tools: Any = None
    error: str | None = None


class McpApprovalRequest(_Item, tag="mcp_approval_request", frozen=True, kw_only=True):
    id: str | None = None
    server_label: str | None = None
    name: str | None = None
    arguments: str | None = None


class McpApprovalResponse(_Item, tag="mcp_approval_response", frozen=True, kw_only=True):
    id: str | None = None
    approval_request_id: str | None = None
    approve: bool | None = None
    reason: str | None = None


class CustomToolCall(_Item, tag="custom_tool_call", frozen=True, kw_only=True):
    """A call of a custom (free-form input) tool; answer it with ``call_id``."""

    call_id: str
    name: str
    input: str
    id: str | None = None
    status: str | None = None
    namespace: str | None = None
    caller: Any = None
    async_: bool | None = msgspec.field(default=None, name="async")


class CustomToolCallOutput(_Item, tag="custom_tool_call_output", frozen=True, kw_only=True):
    id: str | None = None
    call_id: str | None = None
    status: str | None = None
    output: Any = None
    caller: Any = None
    created_by: str | None = None


_ITEM_TYPES: tuple[type[_Item], ...] = (
    Message, FunctionCall, FunctionCallOutput, Reasoning, FileSearchCall, WebSearchCall,
    ComputerCall, ComputerCallOutput, Program, ProgramOutput, ToolSearchCall, ToolSearchOutput,
    AdditionalTools, Compaction, ImageGenerationCall, CodeInterpreterCall, LocalShellCall,
    LocalShellCallOutput, ShellCall, ShellCallOutput, ApplyPatchCall, ApplyPatchCallOutput,
    McpCall, McpListTools, McpApprovalRequest, McpApprovalResponse, CustomToolCall,
    CustomToolCallOutput,
)

OutputItem: TypeAlias = (
    Message | FunctionCall | FunctionCallOutput | Reasoning | FileSearchCall | WebSearchCall
    | ComputerCall | ComputerCallOutput | Program | ProgramOutput | ToolSearchCall
    | ToolSearchOutput | AdditionalTools | Compaction | ImageGenerationCall | CodeInterpreterCall
    | LocalShellCall | LocalShellCallOutput | ShellCall | ShellCallOutput | ApplyPatchCall
    | ApplyPatchCallOutput | McpCall | McpListTools | McpApprovalRequest | McpApprovalResponse
    | CustomToolCall | CustomToolCallOutput | UnknownItem
)
"""Any ``Response.output`` item; an unknown ``type`` is an :class:`UnknownItem`."""

ContentPart: TypeAlias = (
    OutputTextPart | RefusalPart | ReasoningTextPart | SummaryTextPart | UnknownPart
)
Annotation: TypeAlias = (
    FileCitation | UrlCitation | ContainerFileCitation | FilePath | UnknownAnnotation
)

if TYPE_CHECKING:
    _ItemField: TypeAlias = OutputItem
    _PartField: TypeAlias = ContentPart
    _AnnotationField: TypeAlias = Annotation
else:
    _ItemField = _AnyItem
    _PartField = _AnyPart
    _AnnotationField = _AnyAnnotation


def _known(classes: tuple[type[msgspec.Struct], ...]) -> dict[str, type[msgspec.Struct]]:
    return {str(cls.__struct_config__.tag): cls for cls in classes}


_OPEN_UNIONS: dict[type, tuple[dict[str, type[msgspec.Struct]], type[dict[str, Any]]]] = {
    _AnyItem: (_known(_ITEM_TYPES), UnknownItem),
    _AnyPart: (
        _known((OutputTextPart, RefusalPart, ReasoningTextPart, SummaryTextPart)), UnknownPart,
    ),
    _AnyAnnotation: (
        _known((FileCitation, UrlCitation, ContainerFileCitation, FilePath)), UnknownAnnotation,
    ),
}


def dec_hook(target: type, obj: Any) -> Any:
    """msgspec ``dec_hook`` that fills open-union fields (items, content parts, annotations).

    >>> msgspec.convert({"type": "function_call", "call_id": "c", "name": "f", "arguments": ""},
    ...                 _ItemField, dec_hook=dec_hook).name
    'f'
    """
    union = _OPEN_UNIONS.get(target)
    if union is None:
        raise NotImplementedError(f"oxide_rx.types.responses cannot decode {target!r}")
    known, unknown = union
    if not isinstance(obj, dict):
        raise TypeError(f"Expected `object`, got `{type(obj).__name__}`")
    tag = obj.get("type")
    if not isinstance(tag, str):
        raise TypeError("Object has no string `type`")
    cls = known.get(tag)
    if cls is None:
        return unknown(obj)
    try:
        return msgspec.convert(obj, cls, dec_hook=dec_hook)
    except msgspec.ValidationError as exc:
        raise TypeError(f"invalid `{tag}` object: {exc}") from exc


# --------------------------------------------------------------------------------------------
# The Response object


class ResponseError(_Wire, frozen=True, kw_only=True):
    """Why a response failed (``Response.error``)."""

    code: str | None = None
    message: str | None = None


class IncompleteDetails(_Wire, frozen=True, kw_only=True):
    reason: str | None = None


class InputTokensDetails(_Wire, frozen=True, kw_only=True):
    cached_tokens: int | None = None
    cache_write_tokens: int | None = None


class OutputTokensDetails(_Wire, frozen=True, kw_only=True):
    reasoning_tokens: int | None = None


class ResponseUsage(_Wire, frozen=True, kw_only=True):
    """Token usage of a finished response."""

    input_tokens: int | None = None
    input_tokens_details: InputTokensDetails | None = None
    output_tokens: int | None = None
    output_tokens_details: OutputTokensDetails | None = None
    total_tokens: int | None = None


class Response(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """A Responses API response (the lifecycle events' ``response``, or ``responses.create``).

    Unlike the other Structs, every declared field is re-encoded, ``null`` included, as the
    server sends them. Request echo fields (``reasoning``, ``text``, ``tools`` ...) are ``Any``.

    >>> Response(id="resp_1", output=[Message(content=[OutputTextPart(text="Hi")])]).output_text
    'Hi'
    """

    id: str = ""
    object: str = "response"
    created_at: int | float | None = None
    status: str | None = None
    error: ResponseError | None = None
    incomplete_details: IncompleteDetails | None = None
    instructions: Any = None
    model: str | None = None
    output: list[_ItemField] = []
    usage: ResponseUsage | None = None
    metadata: dict[str, Any] | None = None
    parallel_tool_calls: bool | None = None
    previous_response_id: str | None = None
    reasoning: Any = None
    service_tier: str | None = None
    temperature: int | float | None = None
    top_p: int | float | None = None
    top_logprobs: int | None = None
    frequency_penalty: int | float | None = None
    presence_penalty: int | float | None = None
    text: Any = None
    tool_choice: Any = None
    tools: Any = None
    truncation: str | None = None
    background: bool | None = None
    max_output_tokens: int | None = None
    max_tool_calls: int | None = None
    user: str | None = None
    store: bool | None = None
    completed_at: int | float | None = None
    conversation: Any = None
    prompt: Any = None
    prompt_cache_key: str | None = None
    prompt_cache_retention: str | None = None
    safety_identifier: str | None = None
    moderation: Any = None
    tool_usage: Any = None
    content_filters: Any = None
    access_programs: Any = None
    image: Any = None
    input_transformations: Any = None
    prompt_cache_diagnostics: Any = None
    prompt_cache_options: Any = None

    @property
    def output_text(self) -> str:
        """The text of every ``output_text`` part of every message item, concatenated."""
        return "".join(
            part.text
            for item in self.output
            if isinstance(item, Message)
            for part in item.content
            if isinstance(part, OutputTextPart)
        )


# --------------------------------------------------------------------------------------------
# Stream events


class _Event(_Wire, frozen=True, tag_field="type"):
    """Base of every stream event. ``sequence_number`` is absent on pre-2025-09 streams;
    ``stream_id`` is the WebSocket lane the event belongs to."""

    type: ClassVar[str]
    sequence_number: int | None = None
    stream_id: str | None = None


class _Lifecycle(_Event, frozen=True, kw_only=True):
    response: Response


class ResponseCreated(_Lifecycle, tag="response.created", frozen=True, kw_only=True):
    """First event of a new response (``status`` ``in_progress``, or ``queued`` if background)."""


class ResponseQueued(_Lifecycle, tag="response.queued", frozen=True, kw_only=True):
    """A background response is queued."""


class ResponseInProgress(_Lifecycle, tag="response.in_progress", frozen=True, kw_only=True):
    """The response started generating."""


class ResponseCompleted(_Lifecycle, tag="response.completed", frozen=True, kw_only=True):
    """Terminal: the full response, usage included."""


class ResponseFailed(_Lifecycle, tag="response.failed", frozen=True, kw_only=True):
    """Terminal: the response failed; ``response.error`` says why."""


class ResponseIncomplete(_Lifecycle, tag="response.incomplete", frozen=True, kw_only=True):
    """Terminal: the response stopped early; ``response.incomplete_details.reason`` says why."""


class ResponseDone(_Lifecycle, tag="response.done", frozen=True, kw_only=True):
    """Terminal event of Responses over WebSocket (in place of ``response.completed``)."""


class ErrorDetail(_Wire, frozen=True, kw_only=True):
    type: str | None = None
    code: str | None = None
    message: str | None = None
    param: str | None = None
    headers: Any = None
    misalignment: Any = None


class ErrorEvent(_Event, tag="error", frozen=True, kw_only=True):
    """The server reports an error mid-stream.

    Two shapes occur: the SDK's flat ``{code, message, param}`` and the recorded (and WebSocket)
    nested ``{"error": {type, code, message, param}}``. :attr:`effective_code` and
    :attr:`effective_message` read whichever is present.

    >>> decode_event(b'{"type":"error","error":{"code":"insufficient_quota","message":"No"}}'
    ...              ).effective_code
    'insufficient_quota'
    """

    code: str | None = None
    message: str | None = None
    param: str | None = None
    error: ErrorDetail | None = None
    status: int | None = None

    @property
    def effective_code(self) -> str | None:
        if self.code is not None or self.error is None:
            return self.code
        return self.error.code if self.error.code is not None else self.error.type

    @property
    def effective_message(self) -> str | None:
        if self.message is not None or self.error is None:
            return self.message
        return self.error.message

    @property
    def effective_param(self) -> str | None:
        if self.param is not None or self.error is None:
            return self.param
        return self.error.param


class _OfItem(_Event, frozen=True, kw_only=True):
    """Events about one output item (``item_id`` at ``output_index``)."""

    item_id: str
    output_index: int


class _Delta(_OfItem, frozen=True, kw_only=True):
    delta: str
    obfuscation: str | None = None


class OutputItemAdded(_Event, tag="response.output_item.added", frozen=True, kw_only=True):
    output_index: int
    item: _ItemField


class OutputItemDone(_Event, tag="response.output_item.done", frozen=True, kw_only=True):
    output_index: int
    item: _ItemField


class ContentPartAdded(_OfItem, tag="response.content_part.added", frozen=True, kw_only=True):
    content_index: int
    part: _PartField


class ContentPartDone(_OfItem, tag="response.content_part.done", frozen=True, kw_only=True):
    content_index: int
    part: _PartField


class OutputTextDelta(_Delta, tag="response.output_text.delta", frozen=True, kw_only=True):
    content_index: int
    logprobs: list[Logprob] | None = None


class OutputTextDone(_OfItem, tag="response.output_text.done", frozen=True, kw_only=True):
    content_index: int
    text: str
    logprobs: list[Logprob] | None = None


class OutputTextAnnotationAdded(
    _OfItem, tag="response.output_text.annotation.added", frozen=True, kw_only=True
):
    content_index: int
    annotation_index: int
    annotation: _AnnotationField | None = None


class RefusalDelta(_Delta, tag="response.refusal.delta", frozen=True, kw_only=True):
    """Wire refusal fragment (the helper event is ``oxide_rx.events.RefusalDelta``)."""

    content_index: int


class RefusalDone(_OfItem, tag="response.refusal.done", frozen=True, kw_only=True):
    """Wire refusal end (the helper event is ``oxide_rx.events.RefusalDone``)."""

    content_index: int
    refusal: str


class FunctionCallArgumentsDelta(
    _Delta, tag="response.function_call_arguments.delta", frozen=True, kw_only=True
):
    pass


class FunctionCallArgumentsDone(
    _OfItem, tag="response.function_call_arguments.done", frozen=True, kw_only=True
):
    """The call's full arguments. ``name`` is not always sent: take it from the item."""

    arguments: str
    name: str | None = None


class ReasoningSummaryPartAdded(
    _OfItem, tag="response.reasoning_summary_part.added", frozen=True, kw_only=True
):
    summary_index: int
    part: _PartField


class ReasoningSummaryPartDone(
    _OfItem, tag="response.reasoning_summary_part.done", frozen=True, kw_only=True
):
    summary_index: int
    part: _PartField
    status: str | None = None


class ReasoningSummaryTextDelta(
    _Delta, tag="response.reasoning_summary_text.delta", frozen=True, kw_only=True
):
    summary_index: int


class ReasoningSummaryTextDone(
    _OfItem, tag="response.reasoning_summary_text.done", frozen=True, kw_only=True
):
    summary_index: int
    text: str


class ReasoningTextDelta(_Delta, tag="response.reasoning_text.delta", frozen=True, kw_only=True):
    content_index: int


class ReasoningTextDone(_OfItem, tag="response.reasoning_text.done", frozen=True, kw_only=True):
    content_index: int
    text: str


class CodeInterpreterCallCodeDelta(
    _Delta, tag="response.code_interpreter_call_code.delta", frozen=True, kw_only=True
):
    pass


class CodeInterpreterCallCodeDone(
    _OfItem, tag="response.code_interpreter_call_code.done", frozen=True, kw_only=True
):
    code: str


class CustomToolCallInputDelta(
    _Delta, tag="response.custom_tool_call_input.delta", frozen=True, kw_only=True
):
    pass


class CustomToolCallInputDone(
    _OfItem, tag="response.custom_tool_call_input.done", frozen=True, kw_only=True
):
    input: str


class McpCallArgumentsDelta(
    _Delta, tag="response.mcp_call_arguments.delta", frozen=True, kw_only=True
):
    pass


class McpCallArgumentsDone(
    _OfItem, tag="response.mcp_call_arguments.done", frozen=True, kw_only=True
):
    arguments: str


class ApplyPatchCallOperationDiffDelta(
    _Delta, tag="response.apply_patch_call_operation_diff.delta", frozen=True, kw_only=True
):
    pass


class ApplyPatchCallOperationDiffDone(
    _OfItem, tag="response.apply_patch_call_operation_diff.done", frozen=True, kw_only=True
):
    diff: str


class ImageGenerationCallPartialImage(
    _OfItem, tag="response.image_generation_call.partial_image", frozen=True, kw_only=True
):
    partial_image_b64: str
    partial_image_index: int
    background: str | None = None
    output_format: str | None = None
    quality: str | None = None
    size: str | None = None


class _ShellCommand(_Event, frozen=True, kw_only=True):
    output_index: int
    command_index: int
    item_id: str | None = None


class ShellCallCommandAdded(
    _ShellCommand, tag="response.shell_call_command.added", frozen=True, kw_only=True
):
    command: str


class ShellCallCommandDelta(
    _ShellCommand, tag="response.shell_call_command.delta", frozen=True, kw_only=True
):
    delta: str
    obfuscation: str | None = None


class ShellCallCommandDone(
    _ShellCommand, tag="response.shell_call_command.done", frozen=True, kw_only=True
):
    command: str


class ShellCallOutputContentDelta(
    _OfItem, tag="response.shell_call_output_content.delta", frozen=True, kw_only=True
):
    """``delta`` is ``{"stdout": ...}`` and/or ``{"stderr": ...}``."""

    command_index: int
    delta: dict[str, Any]


class ShellCallOutputContentDone(
    _OfItem, tag="response.shell_call_output_content.done", frozen=True, kw_only=True
):
    command_index: int
    output: list[Any]


class AudioDelta(_Event, tag="response.audio.delta", frozen=True, kw_only=True):
    delta: str


class AudioDone(_Event, tag="response.audio.done", frozen=True, kw_only=True):
    pass


class AudioTranscriptDelta(
    _Event, tag="response.audio.transcript.delta", frozen=True, kw_only=True
):
    delta: str


class AudioTranscriptDone(_Event, tag="response.audio.transcript.done", frozen=True, kw_only=True):
    pass


class _Steer(_Event, frozen=True, kw_only=True):
    steer: Any = None


class SteerAccepted(_Steer, tag="response.steer.accepted", frozen=True, kw_only=True):
    """WebSocket: steering input was queued."""


class SteerPending(_Steer, tag="response.steer.pending", frozen=True, kw_only=True):
    """WebSocket: steering waits for required input."""

    reason: str | None = None
    required_input: Any = None


class SteerFailed(_Steer, tag="response.steer.failed", frozen=True, kw_only=True):
    """WebSocket: steering input was rejected."""

    error: Any = None


# Item progress events: the item at ``output_index`` changed status; no other payload.
class CodeInterpreterCallInProgress(
    _OfItem, tag="response.code_interpreter_call.in_progress", frozen=True, kw_only=True
):
    pass


class CodeInterpreterCallInterpreting(
    _OfItem, tag="response.code_interpreter_call.interpreting", frozen=True, kw_only=True
):
    pass


class CodeInterpreterCallCompleted(
    _OfItem, tag="response.code_interpreter_call.completed", frozen=True, kw_only=True
):
    pass


class FileSearchCallInProgress(
    _OfItem, tag="response.file_search_call.in_progress", frozen=True, kw_only=True
):
    pass


class FileSearchCallSearching(
    _OfItem, tag="response.file_search_call.searching", frozen=True, kw_only=True
):
    pass


class FileSearchCallCompleted(
    _OfItem, tag="response.file_search_call.completed", frozen=True, kw_only=True
):
    pass


class WebSearchCallInProgress(
    _OfItem, tag="response.web_search_call.in_progress", frozen=True, kw_only=True
):
    pass


class WebSearchCallSearching(
    _OfItem, tag="response.web_search_call.searching", frozen=True, kw_only=True
):
    pass


class WebSearchCallCompleted(
    _OfItem, tag="response.web_search_call.completed", frozen=True, kw_only=True
):
    pass


class ImageGenerationCallInProgress(
    _OfItem, tag="response.image_generation_call.in_progress", frozen=True, kw_only=True
):
    pass


class ImageGenerationCallGenerating(
    _OfItem, tag="response.image_generation_call.generating", frozen=True, kw_only=True
):
    pass


class ImageGenerationCallCompleted(
    _OfItem, tag="response.image_generation_call.completed", frozen=True, kw_only=True
):
    pass


class McpCallInProgress(_OfItem, tag="response.mcp_call.in_progress", frozen=True, kw_only=True):
    pass


class McpCallCompleted(_OfItem, tag="response.mcp_call.completed", frozen=True, kw_only=True):
    pass


class McpCallFailed(_OfItem, tag="response.mcp_call.failed", frozen=True, kw_only=True):
    pass


class McpListToolsInProgress(
    _OfItem, tag="response.mcp_list_tools.in_progress", frozen=True, kw_only=True
):
    pass


class McpListToolsCompleted(
    _OfItem, tag="response.mcp_list_tools.completed", frozen=True, kw_only=True
):
    pass


class McpListToolsFailed(_OfItem, tag="response.mcp_list_tools.failed", frozen=True, kw_only=True):
    pass


class CompactionCompacting(
    _OfItem, tag="response.compaction.compacting", frozen=True, kw_only=True
):
    pass


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


def _event_classes() -> tuple[type[_Event], ...]:
    return tuple(get_args(ResponseStreamEvent))


_TAGGED: tuple[type[msgspec.Struct], ...] = (
    *_ITEM_TYPES, OutputTextPart, RefusalPart, ReasoningTextPart, SummaryTextPart, FileCitation,
    UrlCitation, ContainerFileCitation, FilePath, *_event_classes(),
)
for _cls in _TAGGED:
    # The tag doubles as a class attribute, so ``event.type`` reads as on the wire.
    setattr(_cls, "type", str(_cls.__struct_config__.tag))  # noqa: B010

EVENT_TYPES: frozenset[str] = frozenset(cls.type for cls in _event_classes())
"""The ``type`` strings of :data:`ResponseStreamEvent`."""

_EVENT_DECODER: msgspec.json.Decoder[ResponseStreamEvent] = msgspec.json.Decoder(
    ResponseStreamEvent, dec_hook=dec_hook
)
_PROBE_DECODER = msgspec.json.Decoder(_TypeProbe)
RESPONSE_DECODER: msgspec.json.Decoder[Response] = msgspec.json.Decoder(Response, dec_hook=dec_hook)
"""Reusable decoder for a ``Response`` body (raises msgspec errors; see :func:`decode_response`)."""


def decode_event(data: bytes | str) -> ResponseStreamEvent | UnknownEvent:
    """Decode one event (SSE ``data`` or WebSocket text frame).

    An unknown ``type`` gives :class:`UnknownEvent`; a known type with bad fields, or a payload
    that is not a JSON object with a string ``type``, raises :class:`~oxide_rx.DecodeError`.

    >>> decode_event('{"type":"response.queued","response":{"id":"r"}}').response.id
    'r'
    """
    try:
        return _EVENT_DECODER.decode(data)
    except msgspec.ValidationError as exc:
        invalid = exc
    except msgspec.DecodeError as exc:
        raise DecodeError("Responses stream event is not valid JSON", data=data) from exc
    try:
        probe = _PROBE_DECODER.decode(data)
    except msgspec.ValidationError:
        raise DecodeError(f"Responses stream event has no string `type` ({invalid})",
                          data=data) from invalid
    if probe.type in EVENT_TYPES:
        raise DecodeError(f"Invalid `{probe.type}` event: {invalid}", data=data) from invalid
    seq = probe.sequence_number
    return UnknownEvent(
        type=probe.type,
        raw=data.encode() if isinstance(data, str) else bytes(data),
        sequence_number=seq if isinstance(seq, int) and not isinstance(seq, bool) else None,
    )


def decode_response(data: bytes | str) -> Response:
    """Decode a ``Response`` JSON body (``POST /v1/responses`` without streaming).

    >>> decode_response(b'{"id":"resp_1","output":[{"type":"new_item"}]}').output[0].type
    'new_item'
    """
    try:
        return RESPONSE_DECODER.decode(data)
    except msgspec.DecodeError as exc:
        raise DecodeError(f"Invalid Response: {exc}", data=data) from exc
