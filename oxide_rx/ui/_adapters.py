"""Observable -> async iterator bridges, and the three UI shapes built on them."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Any, TypeVar

import msgspec
from reactivex import Observable
from reactivex import operators as rx_ops

from .._stream.inbox import observe
from .._stream.lifetime import StreamHandle
from ..events import ContentDelta, Done, RefusalDelta, ToolCallDone, Usage
from ..operators import of_type, sample_ui

__all__ = [
    "content_deltas", "delta_of", "observe", "snapshot_of", "sse_relay", "text_deltas",
    "text_snapshots",
]

_T = TypeVar("_T")
_encode = msgspec.json.Encoder().encode


def content_deltas(stream: StreamHandle[Any], choice: int = 0) -> Observable[ContentDelta]:
    """The stream's ``ContentDelta`` events for one choice."""

    def in_choice(event: ContentDelta) -> bool:
        return event.choice == choice

    return stream.events.pipe(of_type(ContentDelta), rx_ops.filter(in_choice))


def delta_of(event: ContentDelta) -> str:
    return event.delta


def snapshot_of(event: ContentDelta) -> str:
    return event.snapshot


def text_deltas(stream: StreamHandle[Any], choice: int = 0) -> AsyncGenerator[str, None]:
    """The answer's text pieces, in order: what ``st.write_stream`` concatenates.

    >>> st.write_stream(ox.ui.text_deltas(stream))  # doctest: +SKIP
    """
    deltas = content_deltas(stream, choice).pipe(rx_ops.map(delta_of))
    return observe(deltas, start=stream.start)


def text_snapshots(
    stream: StreamHandle[Any], interval: float = 0.05, choice: int = 0
) -> AsyncGenerator[str, None]:
    """The text so far, at most every ``interval`` seconds and always the final text:
    what Gradio, Panel and NiceGUI generators yield.

    >>> async for text in ox.ui.text_snapshots(stream):  # doctest: +SKIP
    ...     yield text
    """
    # Pace first, then read snapshots: a snapshot costs O(text) to build, so only the
    # deltas that reach the UI should pay for one.
    snapshots = content_deltas(stream, choice).pipe(
        sample_ui(interval), rx_ops.map(snapshot_of)
    )
    return observe(snapshots, start=stream.start)


def _relay_frame(event: Any) -> bytes | None:
    if isinstance(event, ContentDelta):
        kind, data = "delta", {"text": event.delta, "choice": event.choice}
    elif isinstance(event, RefusalDelta):
        kind, data = "refusal", {"text": event.delta, "choice": event.choice}
    elif isinstance(event, ToolCallDone):
        kind, data = "tool_call", {
            "id": event.call_id, "name": event.name, "arguments": event.arguments,
            "choice": event.choice,
        }
    elif isinstance(event, Usage):
        kind, data = "usage", msgspec.to_builtins(event.usage)
    elif isinstance(event, Done):
        kind, data = "done", {"finish_reason": event.finish_reason, "choice": event.choice}
    else:
        return None
    return b"event: " + kind.encode() + b"\ndata: " + _encode(data) + b"\n\n"


async def sse_relay(stream: StreamHandle[Any]) -> AsyncGenerator[bytes, None]:
    """Re-serve a stream to a browser as server-sent events (``EventSource`` frames).

    Events: ``delta`` / ``refusal`` (``{"text", "choice"}``), ``tool_call``, ``usage``,
    ``done``, and ``error`` (``{"type", "message"}``) if the stream fails. Write the frames
    to an aiohttp ``StreamResponse`` or return them from a FastAPI ``StreamingResponse``
    with ``media_type="text/event-stream"``; a client disconnect stops the iteration.

    >>> StreamingResponse(ox.ui.sse_relay(stream),  # doctest: +SKIP
    ...                   media_type="text/event-stream")
    """
    try:
        async for event in observe(stream.events, start=stream.start):
            frame = _relay_frame(event)
            if frame is not None:
                yield frame
    except Exception as exc:
        error = {"type": type(exc).__name__, "message": str(exc)}
        yield b"event: error\ndata: " + _encode(error) + b"\n\n"
