"""Figure 1b: the stream shapes where the fixed and first-read costs show.

- ``10x2000``: ten streams of 2,000 events at once (a busy server: reads carry many events);
- ``1000``: one 1,000-event stream at a time (per-stream costs weigh on short streams);
- ``first-read``: a 1,000-event stream the server writes in one go, so the client's first
  network read holds most of it (the SSE decoder's first-read path).

Contenders alternate as in figure 1; each sample is the client CPU of the whole shape divided
by the events it delivered.
"""

from __future__ import annotations

import asyncio
import gc
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from contenders import Contender
from throughput import median

__all__ = ["SHAPES", "Shape", "run_shapes"]


@dataclass(frozen=True)
class Shape:
    name: str
    profile: str
    """The server profile (benchmarks/run.py) that serves it."""
    streams: int
    events: int


SHAPES = (
    Shape("10x2000", "n2000", streams=10, events=2_000),
    Shape("1000", "n1000", streams=1, events=1_000),
    Shape("first-read", "whole1000", streams=1, events=1_000),
)


def _ignore(_: int | None) -> None:
    return None


@dataclass
class ShapeResult:
    api: str
    contender: str
    shape: str
    events: int
    cpu_s: list[float] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        per_event = median(self.cpu_s) / self.events * 1e6 if self.cpu_s else None
        return {"api": self.api, "contender": self.contender, "shape": self.shape,
                "events": self.events, "us_per_event": per_event and round(per_event, 3),
                "cpu_s": [round(v, 6) for v in self.cpu_s]}


async def _sample(contender: Contender, url: str, streams: int) -> float:
    gc.collect()
    cpu0 = time.process_time()
    await asyncio.gather(*(contender.stream(url, _ignore) for _ in range(streams)))
    return time.process_time() - cpu0


async def run_shapes(
    players: list[Contender], urls: dict[str, str], rounds: int,
    log: Callable[[str], None] = print,
) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for shape in SHAPES:
        eligible = [c for c in players if c.cap is None or shape.events <= c.cap]
        table = {c.name: ShapeResult(c.api, c.name, shape.name, shape.streams * shape.events)
                 for c in eligible}
        for r in range(rounds):
            shift = r % len(eligible)
            for contender in eligible[shift:] + eligible[:shift]:
                table[contender.name].cpu_s.append(
                    await _sample(contender, urls[shape.profile], shape.streams))
        floor = table.get("floor")
        for result in table.values():
            row = result.as_dict()
            if floor is not None and floor.cpu_s and result.cpu_s:
                row["x_floor"] = round(median(result.cpu_s) / median(floor.cpu_s), 2)
            rows.append(row)
            log(f"  {result.api:9} {shape.name:10} {result.contender:14} "
                f"{row['us_per_event']:8.2f} us/event  x floor {row.get('x_floor')}")
    return rows
