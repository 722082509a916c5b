"""A 20-turn agent loop over TLS on loopback: the Responses API over one WebSocket session
against the same session over HTTP SSE, in one run.

    python benchmarks/websocket.py [--turns 20] [--rounds 7] [--arguments 200]

Each turn is what an agent loop does: the model answers with a tool call (its arguments
streamed as ~4-character deltas), the client "runs" the tool and sends only its output as the
next turn's input, chained with ``previous_response_id``. Both modes use the same session API
(``client.responses.connect(transport=...)``), so only the transport differs: one WebSocket
(one TLS handshake, one JSON text frame per event) against one HTTPS request per turn on a
pooled keep-alive connection (SSE framing).

The mock server runs in its own process with a self-signed certificate made at run time by the
``openssl`` command; the client process trusts it through ``SSL_CERT_FILE``. Modes alternate
within each round after a warm-up; medians over rounds. Reported per mode: the client's CPU per
turn (``time.process_time``, the server excluded: the client overhead), the wall time per turn
and in total (connect included), and the WebSocket / SSE ratios.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
MODES = ("websocket", "sse")


# -- the server process ---------------------------------------------------------------------


async def _serve(cert: str, key: str, arguments: int) -> None:
    import ssl

    from oxide_rx.testing import MockServer, Scenario

    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    call = json.dumps({"query": "x" * max(0, arguments - 13)})
    scenario = Scenario.function_calls([("search", call)])
    async with MockServer(scenario=scenario, ssl=context) as server:
        print(server.base_url, flush=True)
        # Serve until the parent closes our stdin: no orphan server is left behind.
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.buffer.read)


# -- the client process ---------------------------------------------------------------------


async def _loop(base_url: str, mode: str, turns: int) -> dict[str, Any]:
    """One agent loop of ``turns`` turns; what it cost."""
    import oxide_rx as ox

    wall: list[float] = []
    cpu: list[float] = []
    events = 0
    async with ox.OpenAI(base_url=base_url, api_key="bench", max_retries=0) as client:
        started, started_cpu = time.perf_counter(), time.process_time()
        async with await client.responses.connect(
                transport="websocket" if mode == "websocket" else "sse", fallback="never",
                defaults={"model": "bench-model"}) as session:
            connected = time.perf_counter() - started
            next_input: Any = "Find the answer; call search as often as you need."
            for _ in range(turns):
                t0, c0 = time.perf_counter(), time.process_time()
                stream = await session.create_stream(input=next_input)
                calls: list[ox.ToolCallDone] = []
                stream.on(ox.ToolCallDone, calls.append)
                await stream.final_response()
                next_input = [{"type": "function_call_output", "call_id": c.call_id,
                               "output": "ok"} for c in calls]
                cpu.append(time.process_time() - c0)
                wall.append(time.perf_counter() - t0)
                events += stream.metrics.metrics().events
        total = time.perf_counter() - started
        total_cpu = time.process_time() - started_cpu
    return {"mode": mode, "turn_wall": wall, "turn_cpu": cpu, "total": total,
            "total_cpu": total_cpu, "connect": connected, "events": events}


async def _client(base_url: str, turns: int, rounds: int) -> None:
    results: list[dict[str, Any]] = []
    for mode in MODES:  # warm-up: imports, TLS contexts, the mock's first responses
        await _loop(base_url, mode, 2)
    for round_ in range(rounds):
        order = MODES if round_ % 2 == 0 else MODES[::-1]
        for mode in order:
            results.append(await _loop(base_url, mode, turns))
    print(json.dumps(results))


# -- the run --------------------------------------------------------------------------------


def _certificate(folder: Path) -> tuple[Path, Path]:
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-keyout", str(key), "-out", str(cert), "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True, timeout=60)
    return cert, key


def _summary(results: list[dict[str, Any]], turns: int) -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = {}
    for mode in MODES:
        runs = [r for r in results if r["mode"] == mode]
        out[mode] = {
            "cpu_us_per_turn": statistics.median(r["total_cpu"] / turns for r in runs) * 1e6,
            "wall_ms_per_turn": statistics.median(statistics.median(r["turn_wall"])
                                                  for r in runs) * 1e3,
            "total_s": statistics.median(r["total"] for r in runs),
            "connect_ms": statistics.median(r["connect"] for r in runs) * 1e3,
            "events_per_turn": runs[0]["events"] / turns,
        }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--arguments", type=int, default=200,
                        help="characters of tool-call arguments streamed per turn")
    parser.add_argument("--out", type=Path, help="also write the results (JSON) here")
    parser.add_argument("--serve", nargs=3, help=argparse.SUPPRESS)
    parser.add_argument("--client", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        asyncio.run(_serve(args.serve[0], args.serve[1], int(args.serve[2])))
        return
    if args.client:
        asyncio.run(_client(args.client[0], int(args.client[1]), int(args.client[2])))
        return
    with tempfile.TemporaryDirectory() as folder:
        cert, key = _certificate(Path(folder))
        server = subprocess.Popen(
            [sys.executable, __file__, "--serve", str(cert), str(key), str(args.arguments)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        try:
            assert server.stdout is not None
            base_url = server.stdout.readline().strip()
            # aiohttp reads the trust store when it is imported: a fresh process, told first.
            env = {**os.environ, "SSL_CERT_FILE": str(cert)}
            client = subprocess.run(
                [sys.executable, __file__, "--client", base_url, str(args.turns),
                 str(args.rounds)], env=env, capture_output=True, text=True, timeout=600)
            if client.returncode != 0:
                raise SystemExit(client.stderr[-3000:])
        finally:
            if server.stdin is not None:
                server.stdin.close()
            server.wait(timeout=10)
    results = json.loads(client.stdout)
    summary = _summary(results, args.turns)
    ws, sse = summary["websocket"], summary["sse"]
    print(f"{args.turns}-turn agent loop over TLS on loopback, {ws['events_per_turn']:.0f} events"
          f" per turn, median of {args.rounds} rounds\n")
    print("| | client CPU µs / turn | wall ms / turn | total s (connect included) |"
          " connect ms |")
    print("|---|---:|---:|---:|---:|")
    for mode in MODES:
        row = summary[mode]
        print(f"| {mode} | {row['cpu_us_per_turn']:.0f} | {row['wall_ms_per_turn']:.2f} |"
              f" {row['total_s']:.3f} | {row['connect_ms']:.1f} |")
    print(f"| websocket / sse | {ws['cpu_us_per_turn'] / sse['cpu_us_per_turn']:.2f} |"
          f" {ws['wall_ms_per_turn'] / sse['wall_ms_per_turn']:.2f} |"
          f" {ws['total_s'] / sse['total_s']:.2f} | |")
    if args.out is not None:
        args.out.write_text(json.dumps({"summary": summary, "runs": results}, indent=1))


if __name__ == "__main__":
    main()
