"""Observable -> async iterator bridges, and the three UI shapes built on them."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Awaitable, Callable
from typing import Any, TypeAlias, TypeVar

import msgspec
from reactivex import Observable
from reactivex import operators as rx_ops

from .._stream.inbox import observe
from .._stream.lifetime import StreamHandle
from ..events import ContentDelta, Done, RefusalDelta, ToolCallDone, Usage
from ..operators import of_type, sample_ui

__all__ = [
    "LOOP_HELP", "StreamSource", "content_deltas", "delta_of", "observe", "snapshot_of",
    "sse_relay", "text_deltas", "text_snapshots",
]

_T = TypeVar("_T")
_encode = msgspec.json.Encoder().encode

StreamSource: TypeAlias = (
    "StreamHandle[Any] | Callable[[], Awaitable[StreamHandle[Any]]]"
)
"""A stream, or a function that opens one (called on the loop that consumes it)."""

LOOP_HELP = (
    "This stream was opened on another event loop than the one reading it. st.write_stream "
    "(and any framework that runs async generators on a loop of its own) needs the stream "
    "opened on its loop: pass a function that opens it, e.g. "
    "ox.ui.text_deltas(lambda: client.chat.completions.create_stream(...)), and create the "
    "client in that run too (an ox.OpenAI's connections belong to the loop that first used "
    "it), or open client and stream inside your own async generator."
)


def _foreign_loop(exc: BaseException) -> bool:
    return "attached to a different loop" in str(exc) or "Event loop is closed" in str(exc)


async def _opened(source: StreamSource) -> StreamHandle[Any]:
    """The stream of ``source``, opened on the running loop; a stream bound to another loop
    fails here, with :data:`LOOP_HELP`, instead of deep inside aiohttp."""
    if isinstance(source, StreamHandle):
        stream = source
    else:
        try:
            stream = await source()
        except RuntimeError as exc:
            if _foreign_loop(exc):
                raise RuntimeError(LOOP_HELP) from exc
            raise
    if stream.loop is not asyncio.get_running_loop():
        raise RuntimeError(LOOP_HELP)
    return stream


def content_deltas(stream: StreamHandle[Any], choice: int = 0) -> Observable[ContentDelta]:
    """The stream's ``ContentDelta`` events for one choice."""

    def in_choice(event: ContentDelta) -> bool:
        return event.choice == choice

    return stream.events.pipe(of_type(ContentDelta), rx_ops.filter(in_choice))


def delta_of(event: ContentDelta) -> str:
    return event.delta


def snapshot_of(event: ContentDelta) -> str:
    return event.snapshot


async def text_deltas(source: StreamSource, choice: int = 0) -> AsyncGenerator[str, None]:
    """The answer's text pieces, in order: what ``st.write_stream`` concatenates.

    ``source`` is a stream, or a function that opens one: Streamlit runs async generators
    on an event loop of its own, so open the stream there (see :data:`LOOP_HELP`).

    >>> st.write_stream(ox.ui.text_deltas(                          # doctest: +SKIP
    ...     lambda: client.chat.completions.create_stream(model=..., messages=...)))
    """
    stream = await _opened(source)
    deltas = content_deltas(stream, choice).pipe(rx_ops.map(delta_of))
    async for delta in observe(deltas, start=stream.start):
        yield delta


async def text_snapshots(
    source: StreamSource, interval: float = 0.05, choice: int = 0
) -> AsyncGenerator[str, None]:
    """The text so far, at most every ``interval`` seconds and always the final text:
    what Gradio, Panel and NiceGUI generators yield. ``source`` as for :func:`text_deltas`.

    >>> async for text in ox.ui.text_snapshots(stream):  # doctest: +SKIP
    ...     yield text
    """
    stream = await _opened(source)
    # Pace first, then read snapshots: a snapshot costs O(text) to build, so only the
    # deltas that reach the UI should pay for one.
    snapshots = content_deltas(stream, choice).pipe(
        sample_ui(interval), rx_ops.map(snapshot_of)
    )
    async for text in observe(snapshots, start=stream.start):
        yield text


_RELAYED = (ContentDelta, RefusalDelta, ToolCallDone, Usage, Done)
"""What :func:`sse_relay` re-serves: the stream delivers only these to it (``of_type``)."""


def _relay_frame(event: ContentDelta | RefusalDelta | ToolCallDone | Usage | Done) -> bytes:
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
    else:
        kind, data = "done", {"finish_reason": event.finish_reason, "choice": event.choice}
    return b"event: " + kind.encode() + b"\ndata: " + _encode(data) + b"\n\n"


async def sse_relay(source: StreamSource) -> AsyncGenerator[bytes, None]:
    """Re-serve a stream to a browser as server-sent events (``EventSource`` frames).

    Events: ``delta`` / ``refusal`` (``{"text", "choice"}``), ``tool_call``, ``usage``,
    ``done``, and ``error`` (``{"type", "message"}``) if the stream fails. Write the frames
    to an aiohttp ``StreamResponse`` or return them from a FastAPI ``StreamingResponse``
    with ``media_type="text/event-stream"``; a client disconnect stops the iteration.

    >>> StreamingResponse(ox.ui.sse_relay(stream),  # doctest: +SKIP
    ...                   media_type="text/event-stream")

    For ``id:`` lines (resume with ``Last-Event-ID``), reasoning and tool-argument deltas,
    and the Vercel AI SDK or OpenAI wire formats, see :func:`oxide_rx.relay.encode_stream`.
    """
    stream = await _opened(source)
    try:
        # By class in the stream's fan-out: no wire event is built for the relay.
        async for event in observe(stream.events.pipe(of_type(*_RELAYED)), start=stream.start):
            yield _relay_frame(event)
    except Exception as exc:
        error = {"type": type(exc).__name__, "message": str(exc)}
        yield b"event: error\ndata: " + _encode(error) + b"\n\n"
