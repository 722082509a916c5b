"""The relay with 1, 10, 100 and 1,000 SSE viewers of one generation, on loopback: the
in-process log, and the Redis log with the viewers on another node.

    python benchmarks/relay.py [--viewers 1,10,100,1000] [--events 300] [--interval 0.02]
                               [--no-redis]

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

**Redis rows** (when ``redis-server`` and the ``redis`` package are here; a server is spawned
on a free port, nothing saved): this process is node A, the owner (upstream in, ``XADD``
out); node B is a fourth process, a relay on the same Redis that serves all the viewers
(``XREAD BLOCK`` in, SSE out). Latency is upstream event -> viewer *on the other node*; its
p50/p99 minus the in-process row's with as many viewers is what Redis adds per event. The
CPU columns are node B's (``/proc/<pid>/stat``): the cost per viewer on a node that owns
nothing, i.e. how many viewers per node a core serves.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime
import importlib.util
import json
import os
import resource
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from latency import percentile
from machine import load_average, machine_facts
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


async def _serve(relay: Relay) -> tuple[web.AppRunner, str]:
    runner = web.AppRunner(relay_app(relay), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0, backlog=4096).start()
    return runner, f"http://127.0.0.1:{runner.addresses[0][1]}/"


def _cpu_times(pid: int | None) -> tuple[float, float]:
    """(user, system) CPU seconds of this process, or of process ``pid`` (Linux /proc)."""
    if pid is None:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return usage.ru_utime, usage.ru_stime
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    tick = os.sysconf("SC_CLK_TCK")
    return int(fields[11]) / tick, int(fields[12]) / tick


async def _run(base_url: str, viewers: int, redis_url: str | None = None) -> dict[str, Any]:
    policy = RelayPolicy(max_viewer_lag=1_000_000)
    key = f"bench-{secrets.token_hex(4)}"
    async with contextlib.AsyncExitStack() as stack:
        client = await stack.enter_async_context(ox.OpenAI(base_url=base_url, api_key="bench"))
        log = None
        if redis_url is not None:
            from oxide_rx.relay.redis_log import RedisLog

            log = await stack.enter_async_context(RedisLog.from_url(redis_url))
        relay = await stack.enter_async_context(Relay(client, policy=policy, log=log, node="a"))
        runner, url = await _serve(relay)
        stack.push_async_callback(runner.cleanup)
        node_b = None
        if redis_url is not None:  # the viewers' node: a relay process of its own
            node_b = await asyncio.create_subprocess_exec(
                sys.executable, __file__, "--node-process", redis_url,
                stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE)
            assert node_b.stdout is not None
            url = (await node_b.stdout.readline()).decode().strip()
        # The upstream answers only after a delay long enough for every viewer to attach
        # (the generation's log exists from the start), so all of them see it live.
        # Viewers on another node attach through Redis (a few round trips each): more time.
        delay = 3.0 + viewers / (100 if node_b is None else 25)
        params = {"model": "m", "messages": [{"role": "user", "content": "Hi"}],
                  "extra_headers": {"X-Mock-Fault": f"headers_delay={delay}"}}
        starting = asyncio.create_task(relay.start("chat", params, key=key))
        process = await asyncio.create_subprocess_exec(
            sys.executable, __file__, "--viewer-process",
            f"{url}generations/{key}/events", str(viewers),
            stdout=asyncio.subprocess.PIPE,
        )
        async with aiohttp.ClientSession() as http:
            while await _attached(relay, http, url, key, node_b is not None) < viewers:
                if process.returncode is not None or starting.done():
                    raise RuntimeError("viewers did not attach before the generation started")
                await asyncio.sleep(0.005 if node_b is None else 0.1)  # polls cost node B
        started = await starting
        measured = None if node_b is None else node_b.pid
        attached_ns, (user0, system0) = time.monotonic_ns(), _cpu_times(measured)
        end = await relay.wait_end(started.id, 600)
        stdout, _ = await process.communicate()  # node B may still be writing: wait for it
        (user1, system1), end_ns = _cpu_times(measured), time.monotonic_ns()
        user, system = user1 - user0, system1 - system0
        cpu = user + system
        assert end is not None and end.status == "completed", end
        stamps = await _stamps(relay, started.id)
        if node_b is not None:
            assert node_b.stdin is not None
            node_b.stdin.close()
            await node_b.wait()
    viewer_side = json.loads(stdout)
    arrivals: list[list[tuple[str, int]]] = viewer_side["arrivals"]
    latencies = [(ns - stamps[entry]) / 1000 for viewer in arrivals for entry, ns in viewer
                 if stamps.get(entry, 0) > attached_ns]
    live_events = sum(1 for stamp in stamps.values() if stamp > attached_ns)
    return {
        "log": "memory" if redis_url is None else "redis",
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


async def _attached(relay: Relay, http: aiohttp.ClientSession, url: str, key: str,
                    remote: bool) -> int:
    """Viewers attached: on this node, or (Redis) on node B, asked over HTTP."""
    if not remote:
        return relay.viewers(key)
    async with http.get(f"{url}generations/{key}") as response:
        return int((await response.json())["viewers"]) if response.status == 200 else 0


async def _node(redis_url: str) -> None:
    """Node B: a relay on the Redis log serving viewers until stdin closes."""
    raise_fd_limit()
    from oxide_rx.relay.redis_log import RedisLog

    policy = RelayPolicy(max_viewer_lag=1_000_000)
    async with RedisLog.from_url(redis_url) as log, ox.OpenAI(
        base_url="http://127.0.0.1:9/v1", api_key="unused"  # node B never goes upstream
    ) as client, Relay(client, log=log, policy=policy, node="b") as relay:
        runner, url = await _serve(relay)
        print(url, flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
        await runner.cleanup()


@contextlib.contextmanager
def _redis_server() -> Iterator[str | None]:
    """A throwaway ``redis-server`` on a free port (None when it or redis-py is missing)."""
    binary = shutil.which("redis-server")
    if binary is None or importlib.util.find_spec("redis") is None:
        yield None
        return
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--save",
                                "", "--appendonly", "no"], stdout=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError), socket.create_connection(
                    ("127.0.0.1", port), timeout=1) as connection:
                connection.sendall(b"PING\r\n")
                if connection.recv(16).startswith(b"+PONG"):
                    break
            time.sleep(0.01)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=10)


def _markdown(rows: list[dict[str, Any]], direct: list[float], args: argparse.Namespace,
              facts: dict[str, Any]) -> str:
    lines = [
        f"# Relay viewers: {datetime.date.today().isoformat()}", "",
        f"`python benchmarks/relay.py --viewers {args.viewers} --events {args.events} "
        f"--interval {args.interval}`; {facts.get('cpu')}, {facts.get('cores_usable')} "
        f"usable cores, Python {facts.get('python')}, load average before the run "
        f"{args.load_before} (other work shares these cores).", "",
        "`memory`: one node, the in-process log. `redis`: the owner in one process, every "
        "viewer on another node (CPU columns: that node's).", "",
        "| log | viewers | events relayed live | relay CPU µs / event / viewer (user + system) | "
        "relay CPU s | viewer process CPU s | generation s | latency p50 µs | latency p99 µs |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
        f"| direct (no relay) | - | {len(direct)} | - | - | - | - | "
        f"{percentile(direct, 50):.0f} | {percentile(direct, 99):.0f} |",
    ]
    for row in rows:
        lines.append(
            f"| {row['log']} | {row['viewers']} | {row['events']} "
            f"| {row['cpu_us_per_event_viewer']} "
            f"({row['user_us_per_event_viewer']} + {row['system_us_per_event_viewer']}) "
            f"| {row['cpu_s']} | {row['viewer_process_cpu_s']} | {row['generation_s']} "
            f"| {row['latency_p50_us']:.0f} | {row['latency_p99_us']:.0f} |")
    added = _added_by_redis(rows)
    if added:
        lines += ["", "Added by Redis (redis row minus memory row with as many viewers):", "",
                  "| viewers | latency p50 µs | latency p99 µs |", "|---:|---:|---:|"]
        lines += [f"| {v} | {p50:+.0f} | {p99:+.0f} |" for v, p50, p99 in added]
    return "\n".join(lines) + "\n"


def _added_by_redis(rows: list[dict[str, Any]]) -> list[tuple[int, float, float]]:
    memory = {r["viewers"]: r for r in rows if r["log"] == "memory"}
    return [(r["viewers"], r["latency_p50_us"] - memory[r["viewers"]]["latency_p50_us"],
             r["latency_p99_us"] - memory[r["viewers"]]["latency_p99_us"])
            for r in rows if r["log"] == "redis" and r["viewers"] in memory]


async def _main(args: argparse.Namespace) -> None:
    raise_fd_limit()
    args.load_before = load_average()
    profile = Profile(events=args.events, interval=args.interval, stamp=True)
    server = start_server({"relay": profile}, stderr=subprocess.DEVNULL)
    try:
        base_url = server.urls["relay"]
        direct = await _direct(base_url)
        rows = []
        with _redis_server() as redis_url:
            if redis_url is None and not args.no_redis:
                print("no redis-server or redis package here: in-process rows only",
                      file=sys.stderr)
            logs = [None] if redis_url is None or args.no_redis else [None, redis_url]
            for viewers in (int(v) for v in args.viewers.split(",")):
                for log in logs:
                    row = await _run(base_url, viewers, log)
                    rows.append(row)
                    print(json.dumps(row), flush=True)
    finally:
        server.stop()
    facts = machine_facts()
    table = _markdown(rows, direct, args, facts)
    print(table)
    if args.save:
        RESULTS.mkdir(exist_ok=True)
        # Runs with Redis rows are saved apart: the in-process-only results stay as they were.
        kind = "relay-redis" if any(row["log"] == "redis" for row in rows) else "relay"
        stem = RESULTS / f"{kind}-{datetime.date.today().isoformat()}"
        stem.with_suffix(".md").write_text(table)
        stem.with_suffix(".json").write_text(json.dumps(
            {"rows": rows, "direct_p50_us": percentile(direct, 50),
             "direct_p99_us": percentile(direct, 99), "args": vars(args), "machine": facts},
            indent=2))


def main(argv: list[str]) -> None:
    if argv[:1] == ["--viewer-process"]:
        asyncio.run(_viewers(argv[1], int(argv[2])))
        return
    if argv[:1] == ["--node-process"]:
        asyncio.run(_node(argv[1]))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--viewers", default="1,10,100,1000")
    parser.add_argument("--events", type=int, default=300)
    parser.add_argument("--interval", type=float, default=0.02)
    parser.add_argument("--no-redis", action="store_true",
                        help="in-process rows only, even where redis-server is installed")
    parser.add_argument("--save", action="store_true", help="write benchmarks/results/relay-*")
    asyncio.run(_main(parser.parse_args(argv)))


if __name__ == "__main__":
    main(sys.argv[1:])
