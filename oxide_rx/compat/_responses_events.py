"""Responses API streams in the official shapes: raw events and the ``.stream()`` events.

Raw events (``responses.create(stream=True)``) are built from the payload the server sent, so
every key is kept. The ``.stream()`` helper adds, as the official one does, ``snapshot`` to
``response.output_text.delta`` and ``response.function_call_arguments.delta`` (taken from the
core accumulator's ``ContentDelta`` / ``ToolCallDelta``, which follow their wire event),
``parsed`` to ``response.output_text.done`` and a ``ParsedResponse`` to ``response.completed``.

Errors as the official client sees them: a payload with an ``error`` object raises
``APIError`` at once; a flat ``error`` event or ``response.failed`` is delivered and the stream
then ends normally.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ..events import ContentDelta, Event, ToolCallDelta
from ._core import RawTap, ResponseFailedError
from ._errors import APIError
from ._lazy import Deferred
from ._models import construct
from ._parsing import parse_content, parse_tool_arguments
from ._schema import RESPONSE_EVENTS

__all__ = ["HelperEventConverter", "RawEventConverter", "parse_response"]


class CoreSnapshot(Deferred, gc=False):
    """A delta event's ``snapshot``: the core event's own lazy snapshot, read when needed.

    Building it per event would copy the text so far every time (quadratic over a stream).
    The core's buffers belong to the event loop's thread, hence ``thread_safe = False``.
    """

    thread_safe = False
    event: ContentDelta | ToolCallDelta

    def compute(self) -> str:
        event = self.event
        if isinstance(event, ContentDelta):
            return event.snapshot
        return event.arguments_snapshot


def event_object(data: Mapping[str, Any]) -> Any:
    """The official event object for one Responses API payload."""
    key = RESPONSE_EVENTS.get(str(data.get("type")), "UnknownObject")
    return construct(key, data)


class RawEventConverter:
    """``responses.create(stream=True)``: one event object per wire event."""

    def __init__(self, tap: RawTap) -> None:
        self.tap = tap
        self.failed = False

    def on_event(self, event: Any) -> list[Any]:
        if isinstance(event, Event):
            return []
        data = self.tap.decoded()
        error = data.get("error") if isinstance(data, dict) else None
        if error:
            message = error.get("message") if isinstance(error, Mapping) else None
            raise APIError(message if isinstance(message, str) and message
                           else "An error occurred during streaming", body=error)
        if data.get("type") in ("error", "response.failed"):
            self.failed = True
        return self.convert(data)

    def convert(self, data: dict[str, Any]) -> list[Any]:
        return [event_object(data)]

    def on_end(self, error: BaseException | None) -> tuple[list[Any], BaseException | None]:
        if isinstance(error, ResponseFailedError) and self.failed:
            return [], None  # the official stream just ends after delivering the failure
        return [], error


class HelperEventConverter(RawEventConverter):
    """``responses.stream()``: raw events plus snapshots, ``parsed`` and a ``ParsedResponse``."""

    def __init__(self, tap: RawTap, text_format: Any, tools: Sequence[Mapping[str, Any]]) -> None:
        super().__init__(tap)
        self.text_format = text_format if isinstance(text_format, type) else None
        self.tools = list(tools)
        self.pending: dict[str, Any] | None = None
        self.phases: dict[int, str | None] = {}
        self.final: Any = None

    def on_event(self, event: Any) -> list[Any]:
        items: list[Any] = []
        pending, self.pending = self.pending, None
        if pending is not None:
            snapshot: CoreSnapshot | None = None
            if isinstance(event, ContentDelta | ToolCallDelta):
                snapshot = CoreSnapshot(event)
            pending["snapshot"] = snapshot
            items.append(construct(_HELPER[pending["type"]], pending))
        return items + super().on_event(event)

    def convert(self, data: dict[str, Any]) -> list[Any]:
        kind = data.get("type")
        if kind in _HELPER and kind != "response.completed" and \
                kind != "response.output_text.done":
            self.pending = data  # completed by the helper event that follows it
            return []
        if kind in ("response.output_item.added", "response.output_item.done"):
            item = data.get("item") or {}
            self.phases[data.get("output_index", 0)] = item.get("phase")
        if kind == "response.output_text.done":
            phase = self.phases.get(data.get("output_index", 0))
            parsed = _parse_text(data.get("text", ""), self.text_format, phase)
            return [construct(_HELPER[kind], {**data, "parsed": parsed})]
        if kind == "response.completed":
            self.final = parse_response(data.get("response") or {}, self.text_format, self.tools)
            return [construct(_HELPER[kind], {**data, "response": self.final})]
        return super().convert(data)

    def on_end(self, error: BaseException | None) -> tuple[list[Any], BaseException | None]:
        items: list[Any] = []
        if self.pending is not None:
            items.append(construct(_HELPER[self.pending["type"]], self.pending))
            self.pending = None
        rest, error = super().on_end(error)
        return items + rest, error


_HELPER = {
    "response.output_text.delta": "helper.ResponseTextDeltaEvent",
    "response.output_text.done": "helper.ResponseTextDoneEvent",
    "response.function_call_arguments.delta": "helper.ResponseFunctionCallArgumentsDeltaEvent",
    "response.completed": "helper.ResponseCompletedEvent",
}


def _parse_text(text: str, text_format: Any, phase: str | None) -> Any:
    # Text of a phase other than the final answer is not a structured result.
    if text_format is None or (phase is not None and phase != "final_answer"):
        return None
    return parse_content(text_format, text)


def parse_response(data: Mapping[str, Any], text_format: Any,
                   tools: Sequence[Mapping[str, Any]]) -> Any:
    """A ``ParsedResponse``: ``parsed`` on output text, ``parsed_arguments`` on strict calls."""
    target = text_format if isinstance(text_format, type) else None
    output: list[Any] = []
    for item in data.get("output") or []:
        kind = item.get("type")
        if kind == "message":
            content = [
                {**part, "parsed": _parse_text(part.get("text", ""), target, item.get("phase"))}
                if part.get("type") == "output_text" else part
                for part in item.get("content") or []
            ]
            output.append({**item, "content": content})
        elif kind == "function_call":
            parsed = parse_tool_arguments(tools, item.get("name", ""), item.get("arguments", ""))
            output.append({**item, "parsed_arguments": parsed})
        else:
            output.append(item)
    return construct("ParsedResponse", {**data, "output": output})
