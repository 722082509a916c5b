"""Figure 2: latency from the server's send stamp to the typed event in the user's hands.

The server paces the stream at one content delta per millisecond and puts
``"x_stamp": time.monotonic_ns()`` (taken right before the write) into each one. On Linux
``CLOCK_MONOTONIC`` is one clock for every process, so ``time.monotonic_ns()`` in the client
at delivery minus the stamp is the whole path: server write, loopback, client read, SSE
split, decode, accumulation and fan-out to the callback.

Where the delivered object keeps unknown JSON keys (the official SDK's raw pydantic models,
the floor's own Struct) the stamp is read from it. oxide_rx's typed events and the official
``responses.stream()`` helper events drop unknown keys, so for them :class:`StampTap` reads
the stamp from each server-sent event as the client's SSE decoder emits it (wrappers around
``oxide_rx.sse.SSEDecoder.feed`` and ``feed_data``, the streams' path, and
``openai._streaming.SSEDecoder.decode``, installed only for this figure); the n-th delivered
delta then gets the n-th stamp. The tap's own cost (a regex per event) is included, so it
slightly overstates the latency of those contenders.

Also measured: request -> first content delta (connection reuse, request, headers, first
read), the "time to first event" a user perceives on top of the model's own latency.

>>> percentile([1.0, 2.0, 3.0, 4.0], 50)
2.5
"""

from __future__ import annotations

import collections
import re
import time
from collections.abc import Callable
from types import TracebackType
from typing import Any

from contenders import Contender
from throughput import median

__all__ = ["StampTap", "percentile", "run_latency"]

_STAMP = re.compile(r'"x_stamp":(\d+)')
_STAMP_BYTES = re.compile(rb'"x_stamp":(\d+)')


def percentile(values: list[float], q: float) -> float:
    """Linear-interpolated percentile ``q`` (0-100) of ``values`` (0.0 for none)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    k = (len(ordered) - 1) * q / 100.0
    lo = int(k)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


class StampTap:
    """While active, collects the ``x_stamp`` of every event oxide_rx's SSE decoder emits."""

    def __init__(self) -> None:
        self.stamps: collections.deque[int] = collections.deque()
        self._undo: list[Callable[[], None]] = []

    def _take(self, data: str) -> None:
        match = _STAMP.search(data, 0, 160)
        if match is not None:
            self.stamps.append(int(match.group(1)))

    def _take_bytes(self, data: bytes) -> None:
        match = _STAMP_BYTES.search(data, 0, 160)
        if match is not None:
            self.stamps.append(int(match.group(1)))

    def __enter__(self) -> StampTap:
        import openai._streaming

        from oxide_rx.sse import SSEDecoder

        feed = SSEDecoder.feed
        feed_data = SSEDecoder.feed_data
        decode = openai._streaming.SSEDecoder.decode
        take, take_bytes = self._take, self._take_bytes

        def tapped_feed(decoder: SSEDecoder, chunk: bytes) -> Any:
            events = feed(decoder, chunk)
            for event in events:
                take(event.data)
            return events

        def tapped_feed_data(decoder: SSEDecoder, chunk: bytes) -> Any:
            payloads = feed_data(decoder, chunk)
            for payload in payloads:
                take_bytes(payload)
            return payloads

        def tapped_decode(decoder: Any, line: str) -> Any:
            event = decode(decoder, line)
            if event is not None:
                take(event.data)
            return event

        # setattr: the methods are replaced on purpose, for this figure only.
        setattr(SSEDecoder, "feed", tapped_feed)  # noqa: B010
        setattr(SSEDecoder, "feed_data", tapped_feed_data)  # noqa: B010  # the streams' path
        setattr(openai._streaming.SSEDecoder, "decode", tapped_decode)  # noqa: B010

        def undo() -> None:
            setattr(SSEDecoder, "feed", feed)  # noqa: B010
            setattr(SSEDecoder, "feed_data", feed_data)  # noqa: B010
            setattr(openai._streaming.SSEDecoder, "decode", decode)  # noqa: B010

        self._undo.append(undo)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        while self._undo:
            self._undo.pop()()


def _ignore(_: int | None) -> None:
    return None


async def _one_stream(
    contender: Contender, url: str, tap: StampTap
) -> tuple[list[float], float | None, int]:
    """Latencies (µs) of every delta of one stream, request -> first delta (ms), misses."""
    latencies: list[float] = []
    first: list[int] = []
    missing = 0
    tap.stamps.clear()

    def sink(stamp: int | None) -> None:
        nonlocal missing
        now = time.monotonic_ns()
        if not first:
            first.append(now)
        if stamp is None and tap.stamps:
            stamp = tap.stamps.popleft()
        if stamp is None:
            missing += 1
        else:
            latencies.append((now - stamp) / 1000.0)

    start = time.monotonic_ns()
    await contender.stream(url, sink)
    ttfe = (first[0] - start) / 1e6 if first else None
    return latencies, ttfe, missing


async def run_latency(
    players: list[Contender],
    url: str,
    rounds: int,
    log: Callable[[str], None] = print,
) -> list[dict[str, Any]]:
    """Stream the trickle profile ``rounds`` times per contender, alternating; percentiles.

    One unrecorded stream per contender first: its client, connection and lazy imports are
    then ready, as in a long-running program.
    """
    for contender in players:
        await contender.stream(url, _ignore)
    per: dict[str, list[float]] = {c.name: [] for c in players}
    firsts: dict[str, list[float]] = {c.name: [] for c in players}
    misses: dict[str, int] = dict.fromkeys(per, 0)
    with StampTap() as tap:
        for r in range(rounds):
            shift = r % len(players)
            for contender in players[shift:] + players[:shift]:
                latencies, ttfe, missing = await _one_stream(contender, url, tap)
                per[contender.name] += latencies
                if ttfe is not None:
                    firsts[contender.name].append(ttfe)
                misses[contender.name] += missing
    out: list[dict[str, Any]] = []
    for contender in players:
        values = per[contender.name]
        row = {
            "api": contender.api,
            "contender": contender.name,
            "samples": len(values),
            "missing_stamps": misses[contender.name],
            "p50_us": round(percentile(values, 50), 1),
            "p99_us": round(percentile(values, 99), 1),
            "max_us": round(max(values, default=0.0), 1),
            "first_event_ms": round(median(firsts[contender.name]), 3),
        }
        log(f"  {row['api']:9} {row['contender']:14} p50 {row['p50_us']:8.1f} us  "
            f"p99 {row['p99_us']:8.1f} us  first event {row['first_event_ms']} ms")
        out.append(row)
    return out
