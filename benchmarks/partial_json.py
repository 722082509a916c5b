"""Partial JSON per delta: oxide_rx's incremental parser against re-parsing the snapshot with jiter.

A tool call's arguments stream in 4-character deltas and the partial value is read after every
one (what a UI showing the arguments as they arrive does). Two ways, in the same run:

- **ours**: ``PartialJSONParser.feed(delta)`` then ``parser.value``;
- **jiter**: what the official ``openai`` package (and oxide_rx's ``parse_partial_json``, today)
  does: ``jiter.from_json(snapshot.encode(), partial_mode="trailing-strings")`` on the
  whole text so far, after every delta.

``python benchmarks/partial_json.py [--long-string]`` prints µs per delta for arguments of 3,
12, 50 and 200 KB: the median over repeats of the process CPU time (``time.process_time``, so
that other processes on a shared machine count less) of a whole run of deltas, divided by their
number. Over the whole document, and over its last 3 KB alone: the same kind of text in every
size, so growth with size shows there unmixed. ``--long-string`` adds arguments that are one
long string (a file a tool call writes): there each read of the value copies the string so far,
as documented, so the cost per delta grows with that string.

Through a real stream's events (``ToolCallDelta.parsed_arguments``, beside the official
package): ``benchmarks/parsed_arguments.py``.

jiter costs O(snapshot) per delta, so it is not run at every position: it is timed at up to
``--samples`` evenly spaced delta positions (every position for 3 KB), a few calls at each, and
the mean over the sample estimates the mean over all positions.
"""

from __future__ import annotations

import argparse
import gc
import importlib.metadata
import json
import pickle
import random
import statistics
import sys
import time
from collections.abc import Callable

import jiter

from oxide_rx._core.partial_json import PartialJSONParser

SIZES_KB = (3, 12, 50, 200)
DELTA = 4
TAIL = 3 * 1024
SAMPLE_DELTAS = 40_000
COLUMNS = ("ours", "ours_tail", "feed_only", "snapshot", "jiter", "jiter_tail")


def arguments(size: int, seed: int = 7) -> str:
    """Tool-call arguments of about ``size`` characters: a title, a medium text field, and an
    array of records with short strings and numbers."""
    rng = random.Random(seed)
    summary = " ".join(
        rng.choice(["the", "weather", "in", "Paris", "is", "mild,", '"quoted"', "café", "\n"])
        for _ in range(120)
    )
    rows: list[dict[str, object]] = []
    head = {"title": "Quarterly report", "summary": summary, "rows": rows}
    text = json.dumps(head, ensure_ascii=False)
    length = len(text)
    while length < size:
        row = {
            "id": len(rows),
            "name": rng.choice(["Ada", "Grace", "Linus", "Guido", "Zoë"]) + f" {len(rows)}",
            "score": round(rng.uniform(-1000, 1000), 3),
            "tags": rng.sample(["red", "green", "blue", "urgent", "ok"], 2),
            "active": rng.random() < 0.5,
        }
        rows.append(row)
        length += len(json.dumps(row, ensure_ascii=False)) + 2
    return json.dumps(head, ensure_ascii=False)


def code_arguments(size: int, seed: int = 7) -> str:
    """Arguments that are mostly one string of about ``size`` characters (code to write)."""
    rng = random.Random(seed)
    lines = ["def f(x):", '    return "a\\tb"', "    # comment: café", "print(f(1))", ""]
    code = "\n".join(rng.choice(lines) for _ in range(size // 14))
    return json.dumps({"path": "main.py", "code": code[:size]}, ensure_ascii=False)


def deltas_of(text: str) -> list[str]:
    return [text[start : start + DELTA] for start in range(0, len(text), DELTA)]


def run_deltas(parser: PartialJSONParser, deltas: list[str], read: str) -> float:
    """CPU seconds to feed ``deltas``, reading after each one as ``read`` says."""
    feed = parser.feed
    if read == "value":
        start = time.process_time()
        for delta in deltas:
            feed(delta)
            parser.value  # noqa: B018 - the read is what is measured
        return time.process_time() - start
    if read == "snapshot":
        snapshot = parser.snapshot
        start = time.process_time()
        for delta in deltas:
            feed(delta)
            snapshot()
        return time.process_time() - start
    start = time.process_time()
    for delta in deltas:
        feed(delta)
    return time.process_time() - start


def prepared(deltas: list[str], skip: int) -> tuple[PartialJSONParser, list[str]]:
    """A parser that has had ``deltas[:skip]``, and the deltas left to time."""
    before = PartialJSONParser()
    for delta in deltas[:skip]:
        before.feed(delta)
    return before, deltas[skip:]


def sample_ours(before: PartialJSONParser, timed: list[str], read: str) -> float:
    """µs per delta of feeding ``timed`` to a copy of ``before``, reading as ``read`` says.

    One sample feeds at least ``SAMPLE_DELTAS`` deltas (the timed run again, from fresh copies
    of ``before``), so a small document is not timed over a millisecond only.
    """
    rounds = -(-SAMPLE_DELTAS // len(timed))
    state = pickle.dumps(before)
    elapsed = 0.0
    gc.collect()
    for _ in range(rounds):
        parser = pickle.loads(state)
        elapsed += run_deltas(parser, timed, read)
        assert parser.complete and parser.error is None
    return elapsed / (rounds * len(timed)) * 1e6


def time_jiter(text: str, positions: list[int], calls: int) -> float:
    """Mean over ``positions`` (ends of deltas) of the µs of one re-parse there (each position
    timed over ``calls`` calls in a row)."""
    from_json: Callable[..., object] = jiter.from_json
    costs = []
    gc.collect()
    for end in positions:
        start = time.process_time()
        for _ in range(calls):
            from_json(text[:end].encode(), partial_mode="trailing-strings")
        costs.append((time.process_time() - start) / calls * 1e6)
    return statistics.fmean(costs)


def sample(ends: list[int], limit: int) -> list[int]:
    if len(ends) <= limit:
        return ends
    step = len(ends) / limit
    return [ends[int(k * step)] for k in range(limit)]


def measure(make: Callable[[int], str], args: argparse.Namespace) -> None:
    """Time every column for each size of the documents ``make`` writes; print the table."""
    texts = {size: make(size * 1024) for size in SIZES_KB}
    cases: dict[tuple[int, str], tuple[PartialJSONParser, list[str], str]] = {}
    # (size, column) -> (a parser before the timed deltas, the timed deltas, the read)
    for size, text in texts.items():
        deltas = deltas_of(text)
        whole = prepared(deltas, 0)
        cases[size, "ours"] = (*whole, "value")
        cases[size, "ours_tail"] = (*prepared(deltas, len(deltas) - TAIL // DELTA), "value")
        cases[size, "feed_only"] = (*whole, "none")
        cases[size, "snapshot"] = (*whole, "snapshot")
    # Sizes and columns take turns within each repeat, so a busy moment on a shared machine
    # spreads over all of them instead of landing on one.
    samples: dict[tuple[int, str], list[float]] = {case: [] for case in cases}
    for _ in range(args.repeats):
        for case, (before, timed, read) in cases.items():
            samples[case].append(sample_ours(before, timed, read))
    rows: list[tuple[str, int, dict[str, float]]] = []
    for size, text in texts.items():
        deltas = deltas_of(text)
        ends = [min(len(text), (k + 1) * DELTA) for k in range(len(deltas))]
        tail = ends[len(deltas) - TAIL // DELTA :]
        row = {column: statistics.median(samples[size, column]) for column in COLUMNS[:4]}
        row["jiter"] = time_jiter(text, sample(ends, args.samples), args.calls)
        row["jiter_tail"] = time_jiter(text, sample(tail, args.samples), args.calls)
        rows.append((f"{len(text) / 1024:.1f} KB", len(deltas), row))

    header = (
        "| arguments | deltas | ours: feed + value | ours, last 3 KB | ours: feed only"
        " | ours: feed + snapshot() | jiter re-parse | jiter, last 3 KB | jiter / ours |"
    )
    print()
    print(header)
    print("|---" * 9 + "|")
    for size_text, count, row in rows:
        print(
            f"| {size_text} | {count} | {row['ours']:.2f} | {row['ours_tail']:.2f}"
            f" | {row['feed_only']:.2f} | {row['snapshot']:.2f} | {row['jiter']:.1f}"
            f" | {row['jiter_tail']:.1f} | {row['jiter'] / row['ours']:.0f}x |"
        )
    first, last = rows[0][2], rows[-1][2]

    def ratio(column: str) -> float:
        return last[column] / first[column]

    print()
    print("µs per delta. Ratio 200 KB / 3 KB, per delta:")
    print(f"  ours, feed + value, whole document: {ratio('ours'):.2f}x")
    print(f"  ours, feed + value, last 3 KB:      {ratio('ours_tail'):.2f}x")
    print(f"  jiter re-parse, whole document:     {ratio('jiter'):.1f}x")


def main() -> None:
    options = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    options.add_argument("--repeats", type=int, default=7, help="runs of ours per size (median)")
    options.add_argument("--samples", type=int, default=300, help="jiter positions per size")
    options.add_argument("--calls", type=int, default=3, help="jiter calls per position")
    options.add_argument(
        "--long-string", action="store_true", help="also the one-long-string shape (slower)"
    )
    args = options.parse_args()

    versions = f"python {sys.version.split()[0]}, jiter {importlib.metadata.version('jiter')}"
    print(f"{versions}; {DELTA}-character deltas")
    print(
        f"ours: median of {args.repeats} runs; jiter: mean over up to {args.samples} evenly"
        f" spaced delta positions (every position when fewer), {args.calls} calls at each"
    )
    print("\nRecords: a title, a medium text field, an array of records")
    measure(arguments, args)
    if args.long_string:
        print("\nOne long string (a file written by a tool call): reading the value copies it")
        measure(code_arguments, args)


if __name__ == "__main__":
    main()
