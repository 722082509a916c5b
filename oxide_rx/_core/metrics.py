"""Stream metrics: a sans-IO recorder fed timestamps by its owner, and the ``Metrics`` event.

The recorder has no clock of its own: whoever owns it (a stream, a UI helper, a test) passes
``now`` (seconds on any monotonic clock, e.g. ``loop.time()``) to each call. That keeps it
free of asyncio and testable with plain numbers::

    recorder = StreamMetrics(stall_threshold=1.0)
    recorder.start(0.0)                  # the request is sent
    recorder.output(0.40)                # first content token: TTFT = 0.40 s
    recorder.event(0.45)                 # any other event (a wire chunk, a Done ...)
    recorder.output(2.00)                # a 1.55 s gap: one stall
    recorder.usage(12)                   # usage arrived: 12 output tokens
    recorder.end(2.10)
    recorder.metrics().stalls            # 1

Per event the recorder does a counter increment, a subtraction and two comparisons: no
allocation beyond the float timestamp itself.
"""

from __future__ import annotations

from typing import Literal

from ..events import DEFAULT_STALL_THRESHOLD, Metrics

__all__ = ["DEFAULT_STALL_THRESHOLD", "Metrics", "StreamMetrics"]

class StreamMetrics:
    """Records one stream's timing from the timestamps its owner passes in.

    Call :meth:`start` when the request is sent, :meth:`output` for each output delta,
    :meth:`event` for every other event, :meth:`usage` when token usage arrives and
    :meth:`end` when the stream ends (completed, failed or aborted). Read the properties at
    any time; :meth:`metrics` freezes them into a :class:`Metrics` event.

    >>> m = StreamMetrics()
    >>> m.start(10.0); m.output(10.25); m.output(10.5); m.end(10.75)
    >>> m.time_to_first_token, m.tokens_per_second, m.rate_unit
    (0.25, 4.0, 'deltas')
    """

    __slots__ = (
        "_ended_at",
        "_events",
        "_first_output_at",
        "_last_event_at",
        "_longest_gap",
        "_output_deltas",
        "_output_tokens",
        "_stalls",
        "_started_at",
        "stall_threshold",
    )

    def __init__(self, *, stall_threshold: float = DEFAULT_STALL_THRESHOLD) -> None:
        self.stall_threshold = stall_threshold
        self._started_at: float | None = None
        self._first_output_at: float | None = None
        self._last_event_at: float | None = None
        self._ended_at: float | None = None
        self._events = 0
        self._output_deltas = 0
        self._output_tokens: int | None = None
        self._stalls = 0
        self._longest_gap = 0.0

    # -- what the owner feeds in ----------------------------------------------------------

    def start(self, now: float) -> None:
        """The request was sent (or the stream started, if that is all the owner knows)."""
        self._started_at = now

    def event(self, now: float) -> None:
        """An event arrived. The gap since the previous one may be a stall."""
        if self._last_event_at is not None:
            self._gap(now - self._last_event_at)
        elif self._started_at is None:
            # An owner that attached late: measure from the first event it saw.
            self._started_at = now
        self._last_event_at = now
        self._events += 1

    def _gap(self, gap: float) -> None:
        if gap > self._longest_gap:
            self._longest_gap = gap
        if gap > self.stall_threshold:
            self._stalls += 1

    def output(self, now: float) -> None:
        """An output delta arrived (text, refusal, reasoning or tool arguments): an event too."""
        self.event(now)
        if self._first_output_at is None:
            self._first_output_at = now
        self._output_deltas += 1

    def read(self, now: float, events: int, *, output: bool) -> None:
        """``events`` events arrived in one network read: what a stream records, once per
        read rather than once per event. Gaps are measured between reads; ``output`` says
        whether output had started by the end of this read, and from the read where it did,
        every event counts as an output delta."""
        self.event(now)
        self._events += events - 1
        if output:
            if self._first_output_at is None:
                self._first_output_at = now
            self._output_deltas += events

    @property
    def waiting_for_output(self) -> bool:
        """No output delta has arrived yet."""
        return self._first_output_at is None

    def usage(self, output_tokens: int | None) -> None:
        """The server reported usage: ``completion_tokens`` (chat) / ``output_tokens``."""
        if output_tokens is not None:
            self._output_tokens = output_tokens

    def end(self, now: float) -> None:
        """The stream ended; the gap since the last event counts too (a stall, then abort)."""
        if self._ended_at is not None:
            return
        if self._last_event_at is not None:
            self._gap(now - self._last_event_at)
        self._ended_at = now

    # -- what it tells ----------------------------------------------------------------------

    @property
    def finished(self) -> bool:
        return self._ended_at is not None

    @property
    def time_to_first_token(self) -> float | None:
        """Seconds from the start to the first output delta (``None`` before it)."""
        if self._first_output_at is None or self._started_at is None:
            return None
        return self._first_output_at - self._started_at

    @property
    def output_tokens(self) -> int | None:
        """Output tokens as reported by the server's usage (``None`` without usage)."""
        return self._output_tokens

    @property
    def output_deltas(self) -> int:
        return self._output_deltas

    @property
    def events(self) -> int:
        return self._events

    @property
    def rate_unit(self) -> Literal["tokens", "deltas"]:
        """What :meth:`rate` counts: usage tokens once known, else deltas."""
        return "tokens" if self._output_tokens is not None else "deltas"

    def rate(self, now: float | None = None) -> float | None:
        """Output per second from the first output delta to the end (or to ``now`` while
        the stream runs); ``None`` while the window is empty."""
        if self._first_output_at is None:
            return None
        until = self._ended_at if self._ended_at is not None else now
        if until is None:
            until = self._last_event_at
        if until is None:
            return None
        window = until - self._first_output_at
        if window <= 0.0 and self._ended_at is not None and self._started_at is not None:
            # The whole answer came at once (one read): per second of the whole request.
            window = until - self._started_at
        if window <= 0.0:
            return None
        count = self._output_tokens if self._output_tokens is not None else self._output_deltas
        return count / window

    @property
    def tokens_per_second(self) -> float | None:
        """:meth:`rate` up to the end (or the last event, while the stream runs)."""
        return self.rate()

    @property
    def stalls(self) -> int:
        return self._stalls

    @property
    def longest_gap(self) -> float:
        return self._longest_gap

    def total_time(self, now: float | None = None) -> float:
        """Seconds from the start to the end (or to ``now`` / the last event meanwhile)."""
        if self._started_at is None:
            return 0.0
        until = self._ended_at if self._ended_at is not None else now
        if until is None:
            until = self._last_event_at if self._last_event_at is not None else self._started_at
        return until - self._started_at

    def metrics(self, now: float | None = None) -> Metrics:
        """The figures as a :class:`Metrics` event (mid-stream, pass ``now`` for live ones)."""
        return Metrics(
            time_to_first_token=self.time_to_first_token,
            tokens_per_second=self.rate(now),
            rate_unit=self.rate_unit,
            output_tokens=self._output_tokens,
            output_deltas=self._output_deltas,
            events=self._events,
            stalls=self._stalls,
            longest_gap=self._longest_gap,
            stall_threshold=self.stall_threshold,
            total_time=self.total_time(now),
        )

    def __repr__(self) -> str:
        return f"StreamMetrics({self.metrics()!r})"
