"""Reading ``parsed_arguments`` on every delta, through a real stream: oxide_rx beside the
official ``openai`` package, in the same run.

A mock server in another process (so the client process's CPU time is the client's alone)
streams tool calls whose arguments are 3, 12, 50 or 200 KB of JSON each (the records of
``benchmarks/partial_json.py``: a title, a text field, an array of records) in 4-character
deltas, written in 16 KiB socket writes. Every stream carries about 200 KB of arguments (67
calls of 3 KB, 17 of 12 KB, 4 of 50 KB, one of 200 KB), so the per-request costs weigh the
same in every row. Per delta, client CPU (``time.process_time``) of the whole stream divided
by the number of argument deltas:

- **ours, no read**: ``create_stream`` with one ``on(ToolCallDelta)`` callback that reads
  nothing (the stream's own cost);
- **ours, parsed_arguments**: the callback reads ``event.parsed_arguments`` (plain JSON, as
  of the event, parsed incrementally);
- **ours, typed**: the same with the tool's argument type registered (``tool_types``): a
  partial Struct per read;
- **official**: ``AsyncOpenAI().chat.completions.stream(...)`` with the tool strict (so its
  helper parses the arguments), reading ``event.parsed_arguments`` on every
  ``tool_calls.function.arguments.delta`` event (its stream state re-parses the arguments so
  far with jiter on every chunk, read or not).

``python benchmarks/parsed_arguments.py [--repeats 5] [--official-max-kb 200]`` prints a
Markdown table and the ratio of the 200 KB per-delta cost to the 3 KB one. Ours: median of
``--repeats`` streams; official: one stream per size (about 30 s each here), none above
``--official-max-kb``.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.metadata
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

import msgspec

sys.path.insert(0, str(Path(__file__).resolve().parent))
from partial_json import DELTA, arguments

SIZES_KB = (3, 12, 50, 200)
TOOL = "write_report"
MESSAGES = [{"role": "user", "content": "Write the report."}]


class Row(msgspec.Struct):
    id: int
    name: str
    score: float
    tags: list[str]
    active: bool


class WriteReportArguments(msgspec.Struct):
    title: str
    summary: str
    rows: list[Row]


def copies(size: int) -> int:
    """Calls per stream for documents of ``size`` KB: about 200 KB of arguments in all."""
    return max(1, round(SIZES_KB[-1] / size))


def serve(sizes: list[int]) -> None:
    """The server process: one mock server per size; prints their URLs, serves until stdin
    closes."""
    from oxide_rx.testing import Fault, MockServer, Scenario

    async def main() -> None:
        servers = []
        urls = {}
        for size in sizes:
            calls = [(TOOL, arguments(size * 1024))] * copies(size)
            scenario = Scenario.tool_calls(calls, fault=Fault.chunking(16384))
            server = MockServer(scenario=scenario)
            await server.start()
            servers.append(server)
            urls[size] = server.base_url
        print(json.dumps(urls), flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
        for server in servers:
            await server.close()

    asyncio.run(main())


async def ours(url: str, read: str) -> float:
    """Client CPU seconds for one stream, reading as ``read`` says."""
    import oxide_rx as ox

    types = {TOOL: WriteReportArguments} if read == "typed" else None
    async with ox.OpenAI(api_key="bench", base_url=url) as client:
        start = time.process_time()
        stream = await client.chat.completions.create_stream(
            model="m", messages=MESSAGES, tool_types=types)
        if read == "none":
            stream.on(ox.ToolCallDelta, lambda event: None)
        else:
            stream.on(ox.ToolCallDelta, lambda event: event.parsed_arguments)
        await stream.until_done()
        return time.process_time() - start


async def official(url: str) -> float:
    import openai

    tool = {"type": "function", "function": {
        "name": TOOL, "strict": True,
        "parameters": {"type": "object", "properties": {}, "additionalProperties": True}}}
    client = openai.AsyncOpenAI(api_key="bench", base_url=url, max_retries=0)
    async with client:
        start = time.process_time()
        async with client.chat.completions.stream(
            model="m", messages=MESSAGES, tools=[tool]  # type: ignore[list-item]
        ) as stream:
            async for event in stream:
                if event.type == "tool_calls.function.arguments.delta":
                    event.parsed_arguments  # noqa: B018 - the read is what is measured
        return time.process_time() - start


async def measure(urls: dict[int, str], args: argparse.Namespace) -> None:
    deltas = {size: copies(size) * -(-len(arguments(size * 1024)) // DELTA)
              for size in SIZES_KB}
    columns = ("none", "value", "typed")
    samples: dict[tuple[int, str], list[float]] = {}
    for size in SIZES_KB:  # a warm-up stream per size and column
        for column in columns:
            await ours(urls[size], column)
    for _ in range(args.repeats):  # sizes and columns take turns within each repeat
        for size in SIZES_KB:
            for column in columns:
                seconds = await ours(urls[size], column)
                samples.setdefault((size, column), []).append(seconds / deltas[size] * 1e6)
    rows = {}
    for size in SIZES_KB:
        row = {column: statistics.median(samples[size, column]) for column in columns}
        if size <= args.official_max_kb:
            row["official"] = await official(urls[size]) / deltas[size] * 1e6
        rows[size] = row

    version = importlib.metadata.version
    versions = (f"python {sys.version.split()[0]}, oxide_rx {version('oxide_rx')}, "
                f"openai {version('openai')}")
    print(f"{versions}; about 200 KB of arguments per stream, {DELTA}-character deltas,"
          " 16 KiB writes")
    print(f"ours: median of {args.repeats} streams; official: one stream\n")
    print("| arguments per call | deltas per stream | ours, no read | ours, parsed_arguments"
          " | ours, typed | official, parsed_arguments | official / ours |")
    print("|---" * 7 + "|")
    for size, row in rows.items():
        theirs = row.get("official")
        shown = "-" if theirs is None else f"{theirs:.1f}"
        ratio = "-" if theirs is None else f"{theirs / row['value']:.0f}x"
        print(f"| {size} KB x {copies(size)} | {deltas[size]} | {row['none']:.2f}"
              f" | {row['value']:.2f} | {row['typed']:.2f} | {shown} | {ratio} |")
    first, last = rows[SIZES_KB[0]], rows[SIZES_KB[-1]]
    print("\nµs of client CPU per argument delta. Ratio 200 KB / 3 KB, per delta:")
    for column, label in (("none", "no read"), ("value", "parsed_arguments"),
                          ("typed", "typed")):
        print(f"  ours, {label}: {last[column] / first[column]:.2f}x")
    if "official" in last and "official" in first:
        print(f"  official: {last['official'] / first['official']:.1f}x")


def main() -> None:
    options = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    options.add_argument("--repeats", type=int, default=5)
    options.add_argument("--official-max-kb", type=int, default=200)
    options.add_argument("--serve", help=argparse.SUPPRESS)
    args = options.parse_args()
    if args.serve:
        serve([int(size) for size in args.serve.split(",")])
        return
    process = subprocess.Popen(
        [sys.executable, __file__, "--serve", ",".join(map(str, SIZES_KB))],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        urls = {int(size): url for size, url in json.loads(process.stdout.readline()).items()}
        asyncio.run(measure(urls, args))
    finally:
        if process.stdin is not None:
            process.stdin.close()
        process.wait(30)


if __name__ == "__main__":
    main()
