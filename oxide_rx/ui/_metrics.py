"""``metrics_of(stream)``: a :class:`StreamMetrics` recorder attached from outside a stream.

Streams will record their own metrics (``stream.metrics`` and a ``Metrics`` event at the end);
until then this helper feeds a recorder from the stream's public events and the event loop's
clock, so the CLI, the TUI and users get the same figures today.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from .._core.metrics import DEFAULT_STALL_THRESHOLD, StreamMetrics
from ..events import ContentDelta, ReasoningDelta, RefusalDelta, ToolCallDelta, Usage

if TYPE_CHECKING:  # the package imports ui before it defines its names
    from .. import StreamHandle

__all__ = ["metrics_of"]

_OUTPUT = (ContentDelta, RefusalDelta, ReasoningDelta, ToolCallDelta)
"""What counts as generated output for time to first token and the delta rate."""


def output_tokens(usage: Any) -> int | None:
    """``completion_tokens`` (Chat Completions) or ``output_tokens`` (Responses) of a usage."""
    for name in ("completion_tokens", "output_tokens"):
        value = getattr(usage, name, None)
        if isinstance(value, int):
            return value
    return None


def metrics_of(
    stream: StreamHandle[Any],
    *,
    started_at: float | None = None,
    stall_threshold: float = DEFAULT_STALL_THRESHOLD,
) -> StreamMetrics:
    """Record ``stream``'s time to first token, output rate, stalls and total time.

    Call it before the stream starts. ``started_at`` is when the request was sent, on the
    event loop's clock (``asyncio.get_running_loop().time()`` taken before ``create_stream``);
    by default, now. Output means text, refusal, reasoning and tool-argument deltas; the rate
    counts usage tokens once the server reports them (for Chat Completions pass
    ``stream_options={"include_usage": True}``), deltas until then.

    The recorder is a subscriber of the stream until it ends: if every *other* subscriber
    leaves early, it keeps the stream going, so end such streams with ``aclose()`` (or
    ``async with stream``). (``stream.metrics`` will replace this helper and record inside the
    stream, with no subscriber.)

    >>> t0 = asyncio.get_running_loop().time()  # doctest: +SKIP
    >>> stream = await client.chat.completions.create_stream(...)  # doctest: +SKIP
    >>> metrics = ox.ui.metrics_of(stream, started_at=t0)  # doctest: +SKIP
    >>> await stream.until_done(); print(metrics.metrics())  # doctest: +SKIP
    Metrics(time_to_first_token=0.41, tokens_per_second=52.3, rate_unit='tokens', ...)
    """
    clock = asyncio.get_running_loop().time
    recorder = StreamMetrics(stall_threshold=stall_threshold)
    recorder.start(clock() if started_at is None else started_at)
    output, event = recorder.output, recorder.event

    def on_event(item: Any) -> None:
        if isinstance(item, _OUTPUT):
            output(clock())
            return
        event(clock())
        if isinstance(item, Usage):
            recorder.usage(output_tokens(item.usage))

    def on_end(_: Exception | None = None) -> None:
        recorder.end(clock())

    stream.events.subscribe(on_event, on_end, on_end)
    return recorder
