"""Run every benchmark of issue 6 and write ``benchmarks/results/<date>.{json,md,png}``.

    python benchmarks/run.py            # the full run (about 6-9 minutes on 2 cores)
    python benchmarks/run.py --quick    # a smoke run (under 2 minutes), writes <date>-quick.*

The mock server runs in its own process (``server.py``); figures 1 and 2 run in this process
with contenders alternating; figures 3 and 4 run each contender in a fresh process
(``workers.py``). ``--only`` picks figures, ``--contenders`` picks contenders (by name), e.g.
to re-measure the compat facade alone once it lands::

    python benchmarks/run.py --only throughput,latency \\
        --contenders "floor,native,compat raw,compat helper,openai raw,openai helper"
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import json
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from contenders import COMPAT_ERROR, contenders
from latency import run_latency
from machine import load_average, machine_facts
from report import evaluate_targets, render_markdown, render_png
from server import Profile, ServerProcess, raise_fd_limit, start_server
from shapes import run_shapes
from throughput import run_throughput

HERE = Path(__file__).resolve().parent
FIGURES = ("throughput", "shapes", "latency", "held", "burst", "long")
CHUNK_BYTES = 16_384
"""Throughput streams are written in 16 KiB socket writes (the mock's ``chunking=16384``), so
that client reads carry many events whatever the relative speed of client and server; with one
write per event a fast client reads one event per wake-up and a slow one batches, which would
measure the race instead of the client (figures 2 and 3 do use one write per event)."""


@dataclass(frozen=True)
class Plan:
    """How much of everything one mode measures."""

    rounds: dict[int, int]
    """Stream length N -> rounds (each round runs every contender once)."""
    helper_cap: int
    latency_events: int
    latency_rounds: int
    ks: tuple[int, ...]
    official_ks: tuple[int, ...]
    """The K at which the official client is also measured (it is slow at large K)."""
    burst_events: int
    long_events: int
    shape_rounds: int = 7
    long_contenders: tuple[str, ...] = ("floor", "native", "fanout", "compat raw",
                                        "compat helper", "openai raw")
    notes: list[str] = field(default_factory=list)


FULL = Plan(
    rounds={1_000: 7, 10_000: 5, 100_000: 3},
    helper_cap=10_000,
    latency_events=500,
    latency_rounds=3,
    ks=(1_000, 10_000),
    official_ks=(1_000,),
    burst_events=10,
    long_events=100_000,
)
QUICK = Plan(
    rounds={1_000: 3, 10_000: 2},
    helper_cap=1_000,
    latency_events=200,
    latency_rounds=1,
    ks=(500,),
    official_ks=(500,),
    burst_events=10,
    long_events=10_000,
    shape_rounds=3,
)


def log(message: str) -> None:
    print(message, flush=True)


def _profiles(plan: Plan) -> dict[str, Profile]:
    profiles = {f"n{n}": Profile(events=n, chunking=CHUNK_BYTES) for n in plan.rounds}
    profiles["long"] = Profile(events=plan.long_events, chunking=CHUNK_BYTES)
    profiles["warm"] = Profile(events=20, chunking=CHUNK_BYTES)
    profiles["n2000"] = Profile(events=2_000, chunking=CHUNK_BYTES)
    profiles["n1000"] = Profile(events=1_000, chunking=CHUNK_BYTES)
    profiles["whole1000"] = Profile(events=1_000, chunking="whole")
    profiles["trickle"] = Profile(events=plan.latency_events, interval=0.001, stamp=True)
    # Held streams: one delta a second for a minute, so that 10,000 of them can all be open
    # at once (opening them takes seconds) while each is idle almost all the time.
    profiles["held"] = Profile(events=60, interval=1.0)
    profiles["burst"] = Profile(events=plan.burst_events)
    return profiles


async def _in_process(args: argparse.Namespace, plan: Plan, server: ServerProcess,
                      out: dict[str, Any]) -> None:
    names = args.contenders
    for api in args.apis:
        players = contenders(api, helper_cap=plan.helper_cap, names=names)
        try:
            if "throughput" in args.only:
                log(f"[1] {api}: CPU per event, contenders alternating")
                urls = {n: server.urls[f"n{n}"] for n in plan.rounds}
                results = await run_throughput(players, urls, plan.rounds, server.urls["warm"],
                                               log)
                out["throughput"] += [r.as_dict() for r in results]
            if "shapes" in args.only:
                log(f"[1b] {api}: stream shapes (10 x 2,000 at once, 1,000, first read)")
                urls = {name: server.urls[name] for name in ("n2000", "n1000", "whole1000")}
                out["shapes"] += await run_shapes(players, urls, plan.shape_rounds, log)
            if "latency" in args.only:
                log(f"[2] {api}: send stamp -> delivery at 1 event/ms")
                out["latency"] += await run_latency(players, server.urls["trickle"],
                                                    plan.latency_rounds, log)
        finally:
            for contender in players:
                await contender.aclose()


def _worker(spec: dict[str, Any], timeout: float) -> dict[str, Any]:
    """Run one ``workers.py`` measurement in a fresh process; its JSON row (or an error)."""
    try:
        done = subprocess.run([sys.executable, str(HERE / "workers.py"), json.dumps(spec)],
                              capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"error": f"worker timed out after {timeout:.0f} s"}
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        return {"error": f"worker exit {done.returncode}: {done.stderr.strip()[-400:]}"}
    row: dict[str, Any] = json.loads(lines[-1])
    return row


def _available(names: list[str] | None, wanted: list[str]) -> list[str]:
    usable = {c.name for c in contenders("chat", names=names)}
    return [n for n in wanted if n in usable]


def _subprocess_figures(args: argparse.Namespace, plan: Plan, server: ServerProcess,
                        out: dict[str, Any]) -> None:
    base = {"warm_url": server.urls["warm"], "timeout": 90}
    for k in plan.ks:
        wanted = ["floor", "native", "compat raw"]
        if k in plan.official_ks:
            wanted.append("openai raw")
        for name in _available(args.contenders, wanted):
            for figure in ("held", "burst"):
                if figure not in args.only:
                    continue
                spec = {**base, "figure": figure, "api": "chat", "contender": name, "k": k,
                        "url": server.urls[figure]}
                row = _worker(spec, timeout=240)
                if figure == "held" and "open_s" in row:
                    row["all_open_s"] = row.pop("open_s")
                out[figure].append({"api": "chat", "contender": name, "k": k, **row})
                log(f"[3] {figure} K={k:,} {name}: {row}")
                # Cancelled held streams are noticed by the server on its next write (<= 1 s);
                # let it close them before the next phase opens thousands of sockets again.
                time.sleep(1.5 if figure == "held" else 0.2)
    if "long" in args.only:
        for api in args.apis:
            for name in _available(args.contenders, list(plan.long_contenders)):
                spec = {**base, "figure": "long", "api": api, "contender": name,
                        "url": server.urls["long"]}
                row = _worker(spec, timeout=240)
                out["long"].append({"api": api, "contender": name, **row})
                log(f"[4] long {api} {name}: {row}")


def _row_key(row: dict[str, Any]) -> tuple[Any, ...]:
    return (row.get("api"), row.get("contender"), row.get("events"), row.get("k"),
            row.get("shape"))


ORDER = ("floor", "native", "fanout", "compat raw", "compat helper", "openai raw", "openai helper")


def _row_order(row: dict[str, Any]) -> tuple[Any, ...]:
    name = row.get("contender")
    rank = ORDER.index(name) if name in ORDER else len(ORDER)
    return (row.get("api") or "", row.get("k") or row.get("events") or 0, rank)


def merge(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """A partial run merged into an earlier full one: its rows replace the same rows of
    ``old`` (same api, contender and N or K), every other row of ``old`` is kept."""
    merged = dict(old)
    for figure in FIGURES:
        fresh = {_row_key(r): r for r in new.get(figure, [])}
        kept = [r for r in old.get(figure, []) if _row_key(r) not in fresh]
        merged[figure] = sorted(kept + list(fresh.values()), key=_row_order)
    merged["merged_runs"] = [*old.get("merged_runs", []),
                             {"command": new["command"], "machine": new["machine"],
                              "duration_s": new.get("duration_s")}]
    merged["compat_note"] = new["compat_note"]
    merged["notes"] = new["notes"]
    return merged


def _notes(plan: Plan) -> list[str]:
    notes = [
        f"Figure 1 streams are written by the server in {CHUNK_BYTES // 1024} KiB socket "
        "writes; per-event cost = median client process CPU time of a whole stream "
        "(request included) / N.",
        f"The official `.stream()` helper is capped at N={plan.helper_cap:,} events per stream "
        "(it costs ~0.2 ms per event; longer streams would dominate the run time).",
        "Figure 3 runs the chat API only, in a fresh process per contender and phase; the "
        f"official client only at K={', '.join(f'{k:,}' for k in plan.official_ks)}.",
        "Figure 2 reads oxide_rx's stamps from its SSE decoder output (typed events drop "
        "unknown keys); see benchmarks/latency.py.",
    ]
    if COMPAT_ERROR is not None:
        notes.append(f"compat contenders skipped: {COMPAT_ERROR}. Re-run once it lands.")
    return notes


def main(argv: list[str] | None = None) -> Path:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--quick", action="store_true", help="smoke run, under 2 minutes")
    parser.add_argument("--only", default=",".join(FIGURES),
                        help=f"comma-separated figures from {', '.join(FIGURES)}")
    parser.add_argument("--apis", default="chat,responses")
    parser.add_argument("--contenders", default=None, help="comma-separated contender names")
    parser.add_argument("--out", type=Path, default=HERE / "results")
    args = parser.parse_args(argv)
    out_dir: Path = args.out
    args.only = args.only.split(",")
    args.apis = args.apis.split(",")
    args.contenders = args.contenders.split(",") if args.contenders else None
    plan = QUICK if args.quick else FULL
    raise_fd_limit()
    started = time.monotonic()
    date = datetime.date.today().isoformat()
    out: dict[str, Any] = {
        "date": date,
        "mode": "quick" if args.quick else "full",
        "command": "python benchmarks/run.py" + (" " + " ".join(argv or sys.argv[1:])).rstrip(),
        "apis": args.apis,
        "machine": machine_facts(),
        "plan": {"rounds": plan.rounds, "helper_cap": plan.helper_cap,
                 "latency_events": plan.latency_events, "ks": plan.ks,
                 "burst_events": plan.burst_events, "long_events": plan.long_events,
                 "chunk_bytes": CHUNK_BYTES},
        "compat_note": COMPAT_ERROR,
        "notes": _notes(plan),
        **{figure: [] for figure in FIGURES},
    }
    log(f"oxide_rx benchmarks ({out['mode']}): {out['machine']['cpu']}, "
        f"load {out['machine']['load_average_start']}")
    with tempfile.NamedTemporaryFile("w+", prefix="oxide-rx-bench-server-", suffix=".log") as err:
        server = start_server(_profiles(plan), stderr=err)
        try:
            asyncio.run(_in_process(args, plan, server, out))
            _subprocess_figures(args, plan, server, out)
        finally:
            server.stop()
    out["duration_s"] = round(time.monotonic() - started, 1)
    out["load_average_end"] = load_average()
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = out_dir / (date + ("-quick" if args.quick else ""))
    partial = set(args.only) != set(FIGURES) or args.contenders is not None
    if partial and stem.with_suffix(".json").exists():
        out = merge(json.loads(stem.with_suffix(".json").read_text()), out)
        log(f"merged into the existing {stem}.json (re-measured rows replaced)")
    out["targets"] = evaluate_targets(out)
    stem.with_suffix(".json").write_text(json.dumps(out, indent=1) + "\n")
    stem.with_suffix(".md").write_text(render_markdown(out))
    chart = render_png(out, stem.with_suffix(".png"))
    log(f"\nwrote {stem}.json, .md{', .png' if chart else ' (no matplotlib: no chart)'} "
        f"in {time.monotonic() - started:.0f} s")
    for target in out["targets"]:
        log(f"  {target['verdict']:6} {target['target']}: {target['value']} ({target['goal']})")
    return stem


if __name__ == "__main__":
    main()
