"""Where the microseconds and the bytes of the oxide_rx native contender go.

    python benchmarks/profile_native.py cpu [--api chat|responses] [--events 100000]
                                            [--contender native|"compat raw"|...]
    python benchmarks/profile_native.py memory [--streams 500]

``cpu``: one stream of ``--contender`` (default ``native``) under ``cProfile`` (after a
warm-up stream); prints the functions with
the most *own* time, in µs per event. cProfile's hooks inflate every call by a similar
amount, so read the shares, not the absolute sum (compare with figure 1 of ``run.py``).

``memory``: ``tracemalloc`` while ``--streams`` chat streams are open and idle; prints the
bytes per stream by the innermost ``oxide_rx`` frame of each allocation (``aiohttp/asyncio``
when the library is not on the stack: the price of any aiohttp stream) and by allocation site.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import cProfile
import gc
import pstats
import tracemalloc
from typing import Any

from contenders import contenders
from server import Profile, start_server

CHUNK_BYTES = 16_384


def _ignore(_: int | None) -> None:
    return None


async def _cpu(urls: dict[str, str], api: str, contender: str, events: int, top: int) -> None:
    native = contenders(api, names=[contender])[0]
    await native.stream(urls["long"], _ignore)
    profiler = cProfile.Profile()
    profiler.enable()
    await native.stream(urls["long"], _ignore)
    profiler.disable()
    await native.aclose()
    stats = pstats.Stats(profiler)
    table: Any = stats.stats  # type: ignore[attr-defined]
    total = sum(row[2] for row in table.values())
    rows = sorted(table.items(), key=lambda item: item[1][2], reverse=True)
    print(f"{contender}, {api}: {events:,} events, "
          f"{total / events * 1e6:.2f} µs/event under cProfile")
    print(f"{'own µs/ev':>10} {'calls/ev':>9}  function")
    for (filename, line, name), (_, calls, own, _cum, _) in rows[:top]:
        where = filename.split("site-packages/")[-1].split("/work/main/")[-1]
        print(f"{own / events * 1e6:10.3f} {calls / events:9.2f}  {name} ({where}:{line})")


def _innermost_library_frame(trace: tracemalloc.Traceback) -> str:
    for frame in reversed(trace):
        if "/oxide_rx/" in frame.filename:
            return f"{frame.filename.split('/oxide_rx/')[-1]}:{frame.lineno}"
    return "aiohttp/asyncio (no oxide_rx frame)"


async def _memory(urls: dict[str, str], streams: int, top: int) -> None:
    native = contenders("chat", names=["native"])[0]
    await native.stream(urls["warm"], _ignore)
    gc.collect()
    tracemalloc.start(25)
    before = tracemalloc.take_snapshot()
    opened = 0
    everyone = asyncio.get_running_loop().create_future()

    async def one() -> None:
        seen = False

        def sink(_: int | None) -> None:
            nonlocal seen, opened
            if not seen:
                seen = True
                opened += 1
                if opened == streams:
                    everyone.set_result(None)

        await native.stream(urls["held"], sink)

    tasks = [asyncio.ensure_future(one()) for _ in range(streams)]
    await asyncio.wait_for(everyone, 60)
    gc.collect()
    diff = tracemalloc.take_snapshot().compare_to(before, "traceback")
    tracemalloc.stop()
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    await native.aclose()
    by_frame: collections.Counter[str] = collections.Counter()
    by_site: collections.Counter[str] = collections.Counter()
    for stat in diff:
        by_frame[_innermost_library_frame(stat.traceback)] += stat.size_diff
        site = stat.traceback[-1]
        where = site.filename.split("site-packages/")[-1].split("/lib/python3")[-1]
        by_site[f"{where}:{site.lineno}"] += stat.size_diff
    total = sum(by_frame.values())
    print(f"{total / streams / 1024:.2f} KiB traced per open idle stream ({streams} streams)")
    print("by innermost oxide_rx frame (bytes per stream):")
    for key, size in by_frame.most_common(top):
        print(f"  {size / streams:8.0f}  {key}")
    print("by allocation site (bytes per stream):")
    for key, size in by_site.most_common(top):
        print(f"  {size / streams:8.0f}  {key}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("what", choices=["cpu", "memory"])
    parser.add_argument("--api", default="chat", choices=["chat", "responses"])
    parser.add_argument("--contender", default="native")
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--streams", type=int, default=500)
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args()
    server = start_server({
        "long": Profile(events=args.events, chunking=CHUNK_BYTES),
        "warm": Profile(events=20, chunking=CHUNK_BYTES),
        "held": Profile(events=60, interval=1.0),
    })
    try:
        if args.what == "cpu":
            asyncio.run(_cpu(server.urls, args.api, args.contender, args.events, args.top))
        else:
            asyncio.run(_memory(server.urls, args.streams, args.top))
    finally:
        server.stop()


if __name__ == "__main__":
    main()
