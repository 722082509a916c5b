"""The relay with 1, 10, 100 and 1,000 SSE viewers of one generation, on loopback.

    python benchmarks/relay.py [--viewers 1,10,100,1000] [--events 300] [--interval 0.02]

Three processes, so that each CPU figure counts one side only:

- the mock server (``benchmarks/server.py``) streams ``--events`` content deltas, one every
  ``--interval`` seconds (a model's pace), each stamped with ``time.monotonic_ns()`` at send;
- this process runs the relay (``oxide_rx.relay``: log, one encoder per protocol, fan-out,
  aiohttp) and measures its own CPU time (``time.process_time``);
- a viewer process opens N connections to ``/generations/{id}/events`` (oxide_rx's typed SSE)
  and notes when each ``ContentDelta`` frame arrives.

Measured from the moment all N viewers are attached to the end of the generation:

- **CPU per event per viewer**: relay CPU time (user + system, ``getrusage``) / (events
  relayed x viewers). The relay's fixed cost per event (upstream read and decode, log append,
  one encode per protocol) is included, spread over the viewers; the system part is mostly
  one socket write per viewer per event (events a model paces apart are not batched);
- **latency upstream event -> viewer**: the viewer's arrival time minus the mock's send stamp
  of the chunk the frame came from (``CLOCK_MONOTONIC`` is one clock for all processes on
  Linux). It includes the mock's write, two loopback hops and the relay; p50 and p99 over
  every (event, viewer) pair. The ``direct`` row is one client reading the mock itself.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import json
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from latency import percentile
from machine import machine_facts
from server import Profile, raise_fd_limit, start_server

import oxide_rx as ox
from oxide_rx.relay import Relay, RelayPolicy, records, relay_app

RESULTS = Path(__file__).resolve().parent / "results"
STAMP = b'"x_stamp":'
DELTA = b"event: ContentDelta\nid: "


# --- the viewer process -------------------------------------------------------------------


async def _view(session: aiohttp.ClientSession, url: str) -> list[tuple[str, int]]:
    """One viewer: (entry id, arrival ns) of every ContentDelta frame."""
    arrivals: list[tuple[str, int]] = []
    buffer = b""
    async with session.get(url) as response:
        async for chunk in response.content.iter_any():
            now = time.monotonic_ns()
            if not buffer and chunk.endswith(b"\n\n") and chunk.count(b"\n\n") == 1:
                frames = [chunk]  # the common case: one whole frame per read
            else:
                buffer += chunk
                *frames, buffer = buffer.split(b"\n\n")
            for frame in frames:
                if frame.startswith(DELTA):
                    arrivals.append((frame[len(DELTA):frame.index(b"\n", len(DELTA))].decode(),
                                     now))
    return arrivals


async def _viewers(url: str, count: int) -> None:
    raise_fd_limit()
    before = resource.getrusage(resource.RUSAGE_SELF)
    connector = aiohttp.TCPConnector(limit=0)
    timeout = aiohttp.ClientTimeout(total=600)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        results = await asyncio.gather(*[_view(session, url) for _ in range(count)])
    usage = resource.getrusage(resource.RUSAGE_SELF)
    cpu = usage.ru_utime + usage.ru_stime - before.ru_utime - before.ru_stime
    sys.stdout.write(json.dumps({"arrivals": results, "cpu_s": cpu}))


# --- the relay process --------------------------------------------------------------------


async def _stamps(relay: Relay, generation_id: str) -> dict[str, int]:
    """Entry id of each text record -> send stamp of the upstream chunk it came from."""
    stamps: dict[str, int] = {}
    last_stamp = 0
    cursor = None
    while entries := await relay.log.read(generation_id, cursor):
        for entry in entries:
            record = records.decode(entry.data)
            if isinstance(record, records.Wire) and STAMP in record.data:
                start = record.data.index(STAMP) + len(STAMP)
                end = record.data.index(b",", start)
                last_stamp = int(record.data[start:end])
            elif isinstance(record, records.Text):
                stamps[entry.id] = last_stamp
        cursor = entries[-1].id
    return stamps


async def _direct(base_url: str) -> list[float]:
    """Latency of one plain client reading the mock itself (the floor: write, loopback, read)."""
    latencies: list[float] = []
    body = {"model": "m", "stream": True, "messages": [{"role": "user", "content": "Hi"}]}
    buffer = b""
    async with aiohttp.ClientSession() as session, session.post(
        base_url + "/chat/completions", json=body
    ) as response:
        async for chunk in response.content.iter_any():
            now = time.monotonic_ns()
            buffer += chunk
            *frames, buffer = buffer.split(b"\n\n")
            for frame in frames:
                if STAMP in frame:
                    start = frame.index(STAMP) + len(STAMP)
                    stamp = int(frame[start:frame.index(b",", start)])
                    latencies.append((now - stamp) / 1000)
    return latencies


async def _run(base_url: str, viewers: int) -> dict[str, Any]:
    policy = RelayPolicy(max_viewer_lag=1_000_000)
    async with ox.OpenAI(base_url=base_url, api_key="bench") as client, Relay(
        client, policy=policy
    ) as relay:
        runner = web.AppRunner(relay_app(relay), access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0, backlog=4096)
        await site.start()
        url = f"http://127.0.0.1:{runner.addresses[0][1]}/"
        # The upstream answers only after a delay long enough for every viewer to attach
        # (the generation's log exists from the start), so all of them see it live.
        delay = 3.0 + viewers / 100
        params = {"model": "m", "messages": [{"role": "user", "content": "Hi"}],
                  "extra_headers": {"X-Mock-Fault": f"headers_delay={delay}"}}
        starting = asyncio.create_task(relay.start("chat", params, key="bench"))
        process = await asyncio.create_subprocess_exec(
            sys.executable, __file__, "--viewer-process",
            f"{url}generations/bench/events", str(viewers),
            stdout=asyncio.subprocess.PIPE,
        )
        while relay.viewers("bench") < viewers:
            if process.returncode is not None or starting.done():
                raise RuntimeError("viewers did not attach before the generation started")
            await asyncio.sleep(0.005)
        started = await starting
        attached_ns, usage0 = time.monotonic_ns(), resource.getrusage(resource.RUSAGE_SELF)
        end = await relay.wait_end(started.id, 600)
        usage1, end_ns = resource.getrusage(resource.RUSAGE_SELF), time.monotonic_ns()
        user = usage1.ru_utime - usage0.ru_utime
        system = usage1.ru_stime - usage0.ru_stime
        cpu = user + system
        stdout, _ = await process.communicate()
        assert end is not None and end.status == "completed", end
        stamps = await _stamps(relay, started.id)
        await runner.cleanup()
    viewer_side = json.loads(stdout)
    arrivals: list[list[tuple[str, int]]] = viewer_side["arrivals"]
    latencies = [(ns - stamps[entry]) / 1000 for viewer in arrivals for entry, ns in viewer
                 if stamps.get(entry, 0) > attached_ns]
    live_events = sum(1 for stamp in stamps.values() if stamp > attached_ns)
    return {
        "viewers": viewers,
        "events": live_events,
        "delivered": len(latencies),
        "cpu_s": round(cpu, 3),
        "cpu_us_per_event_viewer": round(cpu * 1e6 / max(1, live_events * viewers), 2),
        "user_us_per_event_viewer": round(user * 1e6 / max(1, live_events * viewers), 2),
        "system_us_per_event_viewer": round(system * 1e6 / max(1, live_events * viewers), 2),
        "viewer_process_cpu_s": round(viewer_side["cpu_s"], 3),
        "generation_s": round((end_ns - attached_ns) / 1e9, 3),
        "latency_p50_us": round(percentile(latencies, 50), 1),
        "latency_p99_us": round(percentile(latencies, 99), 1),
    }


def _markdown(rows: list[dict[str, Any]], direct: list[float], args: argparse.Namespace,
              facts: dict[str, Any]) -> str:
    lines = [
        f"# Relay viewers: {datetime.date.today().isoformat()}", "",
        f"`python benchmarks/relay.py --viewers {args.viewers} --events {args.events} "
        f"--interval {args.interval}`; {facts.get('cpu')}, {facts.get('cores_usable')} "
        f"usable cores, Python {facts.get('python')}.", "",
        "| viewers | events relayed live | relay CPU µs / event / viewer (user + system) | "
        "relay CPU s | viewer process CPU s | generation s | latency p50 µs | latency p99 µs |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
        f"| direct (no relay) | {len(direct)} | - | - | - | - | {percentile(direct, 50):.0f} | "
        f"{percentile(direct, 99):.0f} |",
    ]
    for row in rows:
        lines.append(
            f"| {row['viewers']} | {row['events']} | {row['cpu_us_per_event_viewer']} "
            f"({row['user_us_per_event_viewer']} + {row['system_us_per_event_viewer']}) "
            f"| {row['cpu_s']} | {row['viewer_process_cpu_s']} | {row['generation_s']} "
            f"| {row['latency_p50_us']:.0f} | {row['latency_p99_us']:.0f} |")
    return "\n".join(lines) + "\n"


async def _main(args: argparse.Namespace) -> None:
    raise_fd_limit()
    profile = Profile(events=args.events, interval=args.interval, stamp=True)
    server = start_server({"relay": profile}, stderr=subprocess.DEVNULL)
    try:
        base_url = server.urls["relay"]
        direct = await _direct(base_url)
        rows = []
        for viewers in (int(v) for v in args.viewers.split(",")):
            row = await _run(base_url, viewers)
            rows.append(row)
            print(json.dumps(row), flush=True)
    finally:
        server.stop()
    facts = machine_facts()
    table = _markdown(rows, direct, args, facts)
    print(table)
    if args.save:
        RESULTS.mkdir(exist_ok=True)
        stem = RESULTS / f"relay-{datetime.date.today().isoformat()}"
        stem.with_suffix(".md").write_text(table)
        stem.with_suffix(".json").write_text(json.dumps(
            {"rows": rows, "direct_p50_us": percentile(direct, 50),
             "direct_p99_us": percentile(direct, 99), "args": vars(args), "machine": facts},
            indent=2))


def main(argv: list[str]) -> None:
    if argv[:1] == ["--viewer-process"]:
        asyncio.run(_viewers(argv[1], int(argv[2])))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--viewers", default="1,10,100,1000")
    parser.add_argument("--events", type=int, default=300)
    parser.add_argument("--interval", type=float, default=0.02)
    parser.add_argument("--save", action="store_true", help="write benchmarks/results/relay-*")
    asyncio.run(_main(parser.parse_args(argv)))


if __name__ == "__main__":
    main(sys.argv[1:])
