"""SSEDecoder against the shared conformance set (../shared/conformance/sse, see its README.md).

`cases.jsonl` holds event-level cases transcribed from other projects' test suites, `lines.jsonl`
line-splitter cases. The 4 cases marked `whatwg_conformant: false` expect a library-specific
behaviour; the decoder follows WHATWG there, and the tests say so explicitly.
"""

from __future__ import annotations

import csv
import itertools
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from support import CONFORMANCE, needs_shared

from oxide_rx.sse import ServerSentEvent, SSEDecoder, _LineSplitter

pytestmark = needs_shared

Case = dict[str, Any]
Row = dict[str, Any]


def _load(name: str) -> list[Case]:
    path = CONFORMANCE / name
    if not path.is_file():
        return []
    lines = path.read_text("utf-8").splitlines()
    cases: list[Case] = [json.loads(line) for line in lines if line.strip()]
    return cases


CASES = _load("cases.jsonl")
CASES_BY_NAME = {case["name"]: case for case in CASES}
CONFORMANT = [case for case in CASES if case["whatwg_conformant"]]
DIVERGENT = [case for case in CASES if not case["whatwg_conformant"]]
LINE_CASES = _load("lines.jsonl")

# What WHATWG HTML §9.2.6 gives for the 4 library-specific cases, on their asserted fields.
WHATWG_OUTCOME: dict[str, list[Row]] = {
    # A block with an empty data buffer dispatches nothing, whatever `event` says.
    "openai-python/event missing data": [],
    "openai-python/multiple events without data": [],
    # Dispatch step 1 commits the id of the data-less block, so the next event carries "2".
    "okhttp/idIgnoredFromEmptyEvent": [
        {"event": "message", "data": "first event", "id": "1"},
        {"event": "message", "data": "second event", "id": "2"},
    ],
    # A retry-only block only changes the reconnection time (checked separately).
    "httpx-sse/retry-only block": [],
}


def _name(case: Case) -> str:
    return str(case["name"])


def chunks_of(case: Case) -> list[bytes]:
    """The case's reads as bytes; `input_chunks_hex` is authoritative where present."""
    if "input_chunks_hex" in case:
        return [bytes.fromhex(chunk) for chunk in case["input_chunks_hex"]]
    return [chunk.encode("utf-8") for chunk in case["input_chunks"]]


def decode(chunks: list[bytes]) -> list[ServerSentEvent]:
    decoder = SSEDecoder()
    events = [event for chunk in chunks for event in decoder.feed(chunk)]
    return events + decoder.finish()


def expected_rows(case: Case) -> list[Row]:
    """The expected events on the asserted fields, null normalised to "message" / ""."""
    rows: list[Row] = []
    carried_id = ""
    for event in case["expected"]:
        event_id = event["id"] or ""
        if case["id_semantics"] == "per-block":
            # Per-block expectations report only an id set in the event's own block; WHATWG
            # carries the previous one over, which is what the decoder reports.
            event_id = event_id or carried_id
            carried_id = event_id
        full = {
            "event": event["event"] or "message",
            "data": event["data"],
            "id": event_id,
            "retry": event["retry"],
        }
        rows.append({field: full[field] for field in case["asserted"]})
    return rows


def observed_rows(case: Case, events: list[ServerSentEvent]) -> list[Row]:
    """Our events on the case's asserted fields; only a prefix when the count is not exact."""
    rows = [{field: getattr(event, field) for field in case["asserted"]} for event in events]
    return rows if case["count_exact"] else rows[: len(case["expected"])]


def split_at(body: bytes, cuts: list[int]) -> list[bytes]:
    bounds = [0, *sorted(cuts), len(body)]
    return [body[start:end] for start, end in itertools.pairwise(bounds)]


@pytest.mark.parametrize("case", CONFORMANT, ids=_name)
def test_conformant_case(case: Case) -> None:
    assert observed_rows(case, decode(chunks_of(case))) == expected_rows(case)


@pytest.mark.parametrize("case", CONFORMANT, ids=_name)
def test_conformant_case_one_byte_reads_and_empty_reads(case: Case) -> None:
    body = b"".join(chunks_of(case))
    reads = [piece for i in range(len(body)) for piece in (b"", body[i : i + 1])]
    assert decode([*reads, b""]) == decode(chunks_of(case))


@pytest.mark.parametrize("case", CONFORMANT, ids=_name)
@settings(max_examples=12, deadline=None)
@given(data=st.data())
def test_conformant_case_any_chunking(case: Case, data: st.DataObject) -> None:
    body = b"".join(chunks_of(case))
    cuts = data.draw(st.lists(st.integers(0, len(body)), max_size=32), label="cuts")
    assert decode(split_at(body, cuts)) == decode(chunks_of(case))


@pytest.mark.parametrize("case", DIVERGENT, ids=_name)
def test_divergent_case_follows_whatwg_not_the_source(case: Case) -> None:
    observed = observed_rows(case, decode(chunks_of(case)))
    assert observed != expected_rows(case)
    whatwg = [
        {field: row[field] for field in case["asserted"]} for row in WHATWG_OUTCOME[_name(case)]
    ]
    assert observed == whatwg


def test_the_divergent_cases_are_the_four_known_ones() -> None:
    assert {_name(case) for case in DIVERGENT} == set(WHATWG_OUTCOME)


def test_retry_only_block_sets_reconnection_time_without_an_event() -> None:
    decoder = SSEDecoder()
    case = CASES_BY_NAME["httpx-sse/retry-only block"]
    events = [event for chunk in chunks_of(case) for event in decoder.feed(chunk)]
    assert (events, decoder.retry) == ([], 10000)


def test_every_case_that_official_sdk_decoders_fail_passes_here() -> None:
    with (CONFORMANCE / "python_sdk_decoder_failures.tsv").open(encoding="utf-8", newline="") as f:
        names = {row["case_name"] for row in csv.DictReader(f, delimiter="\t")}
    assert len(names) == 18
    failing = []
    for name in sorted(names):
        case = CASES_BY_NAME[name]
        observed = observed_rows(case, decode(chunks_of(case)))
        if case["whatwg_conformant"]:
            wanted = expected_rows(case)
        else:
            wanted = [{f: row[f] for f in case["asserted"]} for row in WHATWG_OUTCOME[name]]
        if observed != wanted:
            failing.append(name)
    assert failing == []


@pytest.mark.parametrize("case", LINE_CASES, ids=_name)
def test_line_splitter_case(case: Case) -> None:
    splitter = _LineSplitter(max_line=1 << 20)
    lines = [line for chunk in chunks_of(case) for line in splitter.split(chunk)]
    if case["flush"]:
        lines += splitter.flush()
    assert [line.decode("utf-8", "replace") for line in lines] == case["expected_lines"]
