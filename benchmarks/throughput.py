"""Figure 1: client CPU per event and events per second, at several stream lengths.

For each stream length N the contenders run alternately (A B C ... A B C ...) for several
rounds, the order rotating every round so that no contender always follows the same one.
Each sample is one whole stream: ``time.process_time()`` around it (the server is another
process, so this is the client alone) divided by N, and N divided by the wall time.

>>> median([3.0, 1.0, 2.0])
2.0
"""

from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from contenders import Contender

__all__ = ["Result", "median", "run_throughput"]


def median(values: list[float]) -> float:
    """The median (0.0 for no values)."""
    return statistics.median(values) if values else 0.0


def _ignore(_: int | None) -> None:
    return None


@dataclass
class Result:
    """Every sample of one contender at one stream length."""

    api: str
    contender: str
    events: int
    cpu_s: list[float] = field(default_factory=list)
    wall_s: list[float] = field(default_factory=list)
    delivered: int = 0

    @property
    def us_per_event(self) -> float:
        return median(self.cpu_s) / self.events * 1e6

    @property
    def events_per_s(self) -> float:
        wall = median(self.wall_s)
        return self.events / wall if wall else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "api": self.api,
            "contender": self.contender,
            "events": self.events,
            "us_per_event": round(self.us_per_event, 3),
            "events_per_s": round(self.events_per_s),
            "cpu_s": [round(v, 6) for v in self.cpu_s],
            "wall_s": [round(v, 6) for v in self.wall_s],
            "delivered": self.delivered,
        }


async def _sample(contender: Contender, url: str) -> tuple[float, float, int]:
    gc.collect()  # garbage of the previous contender must not be charged to this one
    cpu0, wall0 = time.process_time(), time.perf_counter()
    delivered = await contender.stream(url, _ignore)
    return time.process_time() - cpu0, time.perf_counter() - wall0, delivered


async def run_throughput(
    players: list[Contender],
    urls: dict[int, str],
    rounds: dict[int, int],
    warm_url: str,
    log: Callable[[str], None] = print,
) -> list[Result]:
    """Run every contender at every stream length in ``urls``; ``rounds[n]`` rounds at ``n``."""
    for contender in players:
        await contender.stream(warm_url, _ignore)  # imports, pools, lazy schemas
    results: list[Result] = []
    for n, url in sorted(urls.items()):
        eligible = [c for c in players if c.cap is None or n <= c.cap]
        table = {c.name: Result(c.api, c.name, n) for c in eligible}
        for r in range(rounds[n]):
            shift = r % len(eligible)
            for contender in eligible[shift:] + eligible[:shift]:
                cpu, wall, delivered = await _sample(contender, url)
                result = table[contender.name]
                result.cpu_s.append(cpu)
                result.wall_s.append(wall)
                result.delivered = delivered
        for result in table.values():
            log(f"  {result.api:9} N={n:>7,} {result.contender:14} "
                f"{result.us_per_event:8.2f} us/event {result.events_per_s:>10,.0f} events/s")
        results += table.values()
    return results
