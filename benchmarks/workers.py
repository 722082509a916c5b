"""Figures 3 and 4, each measured in a fresh client process, so that memory is not polluted
by what an earlier contender or phase allocated.

K streams in one process (figure 3), two phases in two processes:

``held``: K streams are opened at once on a slow profile (one content delta per second per
stream). When every stream has delivered its first delta, all K are open and idle between
events: RSS then, minus RSS before, divided by K, is the memory of one idle stream. The
streams are then cancelled (which aborts each request).

``burst``: K streams of a few deltas each, all started at once, as fast as the server writes
(one socket write per event): client CPU per event and per stream (request included),
delivered events per second, peak RSS (sampled every 20 ms) and peak RSS per stream.

``long`` (figure 4): one stream of 100k deltas; peak RSS growth (sampled every 10 ms) during
the stream, and what is still held once it ended and ``gc.collect()`` ran.

Run by ``benchmarks/run.py`` as ``python benchmarks/workers.py '<json>'``; prints one JSON line.
"""

from __future__ import annotations

import asyncio
import gc
import json
import os
import resource
import sys
import time
from typing import Any

from contenders import Contender, contenders
from server import raise_fd_limit

__all__ = ["rss_bytes"]

_PAGE = os.sysconf("SC_PAGE_SIZE")


def rss_bytes() -> int:
    """Resident set size of this process right now."""
    with open("/proc/self/statm", "rb") as f:
        return int(f.read().split()[1]) * _PAGE


def _peak_bytes() -> int:
    """ru_maxrss: the process's high-water mark (KiB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


class _Sampler:
    """Samples RSS on the loop every ``period`` seconds; ``peak`` is the largest seen."""

    def __init__(self, period: float) -> None:
        self.period = period
        self.peak = rss_bytes()
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        while True:
            self.peak = max(self.peak, rss_bytes())
            await asyncio.sleep(self.period)

    async def stop(self) -> int:
        self.peak = max(self.peak, rss_bytes())
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)
        return self.peak


def _ignore(_: int | None) -> None:
    return None


async def _held(c: Contender, url: str, k: int, timeout: float) -> dict[str, Any]:
    gc.collect()
    before = rss_bytes()
    started = 0
    everyone = asyncio.get_running_loop().create_future()
    t0 = time.perf_counter()

    def sink(_: int | None) -> None:
        nonlocal started
        started += 1
        if started == k and not everyone.done():
            everyone.set_result(time.perf_counter())

    async def one() -> None:
        seen = False

        def first_only(stamp: int | None) -> None:
            nonlocal seen
            if not seen:
                seen = True
                sink(stamp)

        await c.stream(url, first_only)

    tasks = [asyncio.ensure_future(one()) for _ in range(k)]
    row: dict[str, Any] = {}
    try:
        t_all = await asyncio.wait_for(asyncio.shield(everyone), timeout)
        gc.collect()
        held = rss_bytes()
        row = {
            "open_s": round(t_all - t0, 3),
            "rss_before_mib": round(before / 2**20, 1),
            "rss_held_mib": round(held / 2**20, 1),
            "kib_per_idle_stream": round((held - before) / k / 1024, 2),
        }
    except TimeoutError:
        row = {"error": f"only {started} of {k} streams opened within {timeout:.0f} s"}
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    return row


async def _burst(c: Contender, url: str, k: int) -> dict[str, Any]:
    gc.collect()
    before = rss_bytes()
    sampler = _Sampler(0.02)
    cpu0, t0 = time.process_time(), time.perf_counter()
    results = await asyncio.gather(*(c.stream(url, _ignore) for _ in range(k)),
                                   return_exceptions=True)
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - t0
    peak = await sampler.stop()
    delivered = sum(r for r in results if isinstance(r, int))
    failures = [r for r in results if isinstance(r, BaseException)]
    row: dict[str, Any] = {
        "streams_ok": k - len(failures),
        "events": delivered,
        "wall_s": round(wall, 3),
        "events_per_s": round(delivered / wall) if wall else 0,
        "us_per_event": round(cpu / delivered * 1e6, 2) if delivered else None,
        "us_per_stream": round(cpu / k * 1e6, 1),
        "rss_before_mib": round(before / 2**20, 1),
        "peak_rss_mib": round(peak / 2**20, 1),
        "kib_per_busy_stream": round((peak - before) / k / 1024, 2),
    }
    if failures:
        row["first_failure"] = f"{type(failures[0]).__name__}: {failures[0]}"[:300]
    return row


async def held(spec: dict[str, Any]) -> dict[str, Any]:
    """RSS per idle open stream, for one contender and one K."""
    c = _contender(spec)
    await c.stream(spec["warm_url"], _ignore)
    row = await _held(c, spec["url"], int(spec["k"]), float(spec["timeout"]))
    await c.aclose()
    return row


async def burst(spec: dict[str, Any]) -> dict[str, Any]:
    """K streams at once at full speed, for one contender."""
    c = _contender(spec)
    await c.stream(spec["warm_url"], _ignore)
    row = await _burst(c, spec["url"], int(spec["k"]))
    await c.aclose()
    return row


async def long_stream(spec: dict[str, Any]) -> dict[str, Any]:
    """Memory of one long stream for one contender."""
    c = _contender(spec)
    await c.stream(spec["warm_url"], _ignore)
    gc.collect()
    before = rss_bytes()
    sampler = _Sampler(0.01)
    cpu0 = time.process_time()
    delivered = await c.stream(spec["url"], _ignore)
    cpu = time.process_time() - cpu0
    peak = await sampler.stop()
    gc.collect()
    after = rss_bytes()
    await c.aclose()
    return {
        "events": delivered,
        "us_per_event": round(cpu / max(delivered, 1) * 1e6, 2),
        "peak_growth_mib": round((peak - before) / 2**20, 2),
        "retained_mib": round((after - before) / 2**20, 2),
    }


def _contender(spec: dict[str, Any]) -> Contender:
    found = contenders(spec["api"], helper_cap=None, names=[spec["contender"]])
    if not found:
        raise SystemExit(f"unknown or unavailable contender {spec['contender']!r}")
    return found[0]


def main(argv: list[str]) -> None:
    raise_fd_limit()
    spec = json.loads(argv[1])
    figure = {"held": held, "burst": burst, "long": long_stream}[spec["figure"]]
    result = asyncio.run(figure(spec))
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main(sys.argv)
