"""Responses API stream events: the response lifecycle, errors, items, text and function calls.

One frozen Struct per event ``type`` (``response.output_text.delta`` → :class:`OutputTextDelta`);
hosted-tool, audio and WebSocket steering events are in :mod:`._response_tool_events`. Import
these names from :mod:`oxide_rx.types.responses`, which also holds the union and the decoder.
"""

from __future__ import annotations

from typing import Any, ClassVar

from oxide_rx.types._response_items import _ItemField
from oxide_rx.types._response_object import Response
from oxide_rx.types._response_parts import Logprob, _AnnotationField, _PartField, _Wire, expose_tags
from oxide_rx.types.shared import RAW_FIELD, RawPayload

__all__ = [
    "CORE_EVENT_TYPES", "ContentPartAdded", "ContentPartDone", "ErrorDetail", "ErrorEvent",
    "FunctionCallArgumentsDelta", "FunctionCallArgumentsDone", "OutputItemAdded",
    "OutputItemDone", "OutputTextAnnotationAdded", "OutputTextDelta", "OutputTextDone",
    "ReasoningSummaryPartAdded", "ReasoningSummaryPartDone", "ReasoningSummaryTextDelta",
    "ReasoningSummaryTextDone", "ReasoningTextDelta", "ReasoningTextDone", "RefusalDelta",
    "RefusalDone", "ResponseCompleted", "ResponseCreated", "ResponseDone", "ResponseFailed",
    "ResponseInProgress", "ResponseIncomplete", "ResponseQueued",
]


class _Event(RawPayload, _Wire, frozen=True, tag_field="type"):
    """Base of every stream event. ``sequence_number`` is absent on pre-2025-09 streams;
    ``stream_id`` is the WebSocket lane the event belongs to. ``raw`` is the payload exactly
    as the server sent it, set when a stream decoded the event (``None`` otherwise), so fields
    this library does not model yet stay reachable."""

    type: ClassVar[str]
    sequence_number: int | None = None
    stream_id: str | None = None
    raw: bytes | None = RAW_FIELD


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

    >>> from oxide_rx.types.responses import decode_event
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


CORE_EVENT_TYPES: tuple[type[_Event], ...] = (
    ResponseCreated, ResponseQueued, ResponseInProgress, ResponseCompleted, ResponseFailed,
    ResponseIncomplete, ResponseDone, ErrorEvent, OutputItemAdded, OutputItemDone,
    ContentPartAdded, ContentPartDone, OutputTextDelta, OutputTextDone, OutputTextAnnotationAdded,
    RefusalDelta, RefusalDone, FunctionCallArgumentsDelta, FunctionCallArgumentsDone,
    ReasoningSummaryPartAdded, ReasoningSummaryPartDone, ReasoningSummaryTextDelta,
    ReasoningSummaryTextDone, ReasoningTextDelta, ReasoningTextDone,
)
expose_tags(CORE_EVENT_TYPES)
