"""``ox.ops.smooth``: re-chunking and adaptive pacing, on virtual time (TestScheduler)."""

from __future__ import annotations

import asyncio
import itertools
import random
import re
import threading
from typing import Any

import pytest
from reactivex import operators as rx_ops
from reactivex.subject import Subject
from reactivex.testing import TestScheduler

import oxide_rx as ox
from oxide_rx._core.text import TextBuffer
from oxide_rx.testing import MockServer, Scenario

EPS = 1e-6  # the TestScheduler keeps time as datetimes: microsecond resolution
CAP = 0.25


class Source:
    """Builds source ContentDeltas as an accumulator would: one text buffer per text."""

    def __init__(self) -> None:
        self.buffers: dict[tuple[int, int | None], TextBuffer] = {}

    def delta(self, text: str, choice: int = 0, output_index: int | None = None) -> ox.ContentDelta:
        buffer = self.buffers.setdefault((choice, output_index), TextBuffer())
        buffer.append(text)
        return ox.ContentDelta(delta=text, snapshot=buffer.text(), choice=choice,
                               output_index=output_index)


def run(
    timeline: list[tuple[float, Any]],
    *,
    end: tuple[float, Exception | None] | None = None,
    chunking: Any = "word",
    max_latency: float = CAP,
) -> list[tuple[float, Any]]:
    """Push ``timeline`` (time, item) through smooth; returns (time, item) of what came out,
    with ``"completed"`` or the error last."""
    scheduler = TestScheduler()
    subject: Subject[Any] = Subject()
    out: list[tuple[float, Any]] = []
    subject.pipe(
        ox.ops.smooth(chunking, max_latency=max_latency, scheduler=scheduler)
    ).subscribe(
        lambda item: out.append((scheduler.clock, item)),
        lambda error: out.append((scheduler.clock, error)),
        lambda: out.append((scheduler.clock, "completed")),
    )
    for time, item in timeline:
        scheduler.schedule_absolute(time, lambda *_, item=item: subject.on_next(item))
    if end is not None:
        time, error = end

        def finish(*_: Any) -> None:
            if error is None:
                subject.on_completed()
            else:
                subject.on_error(error)

        scheduler.schedule_absolute(time, finish)
    scheduler.start()
    return out


def texts(out: list[tuple[float, Any]]) -> list[str]:
    return [item.delta for _, item in out if isinstance(item, ox.ContentDelta)]


def char_times(timeline: list[tuple[float, Any]], out: list[tuple[float, Any]]) -> list[float]:
    """For each character of the text: emission time minus arrival time."""
    arrived = [t for t, e in timeline if isinstance(e, ox.ContentDelta) for _ in e.delta]
    shown = [t for t, e in out if isinstance(e, ox.ContentDelta) for _ in e.delta]
    assert len(arrived) == len(shown)
    return [s - a for a, s in zip(arrived, shown, strict=True)]


def assert_correct_events(out: list[tuple[float, Any]]) -> None:
    """Every emitted delta's snapshot is the text so far of its choice, ending with it."""
    so_far: dict[tuple[int, int | None], str] = {}
    for _, event in out:
        if isinstance(event, ox.ContentDelta):
            key = (event.choice, event.output_index)
            so_far[key] = so_far.get(key, "") + event.delta
            assert event.snapshot == so_far[key]


def test_word_mode_cuts_words_and_keeps_the_text() -> None:
    src = Source()
    timeline = [(0.0, src.delta("The qu")), (0.1, src.delta("ick brown fox ju")),
                (0.3, src.delta("mps."))]
    out = run(timeline, end=(0.4, None))
    assert texts(out) == ["The ", "quick ", "brown ", "fox ", "jumps."]
    assert out[-1] == (0.4, "completed")
    assert_correct_events(out)
    assert max(char_times(timeline, out)) <= CAP + EPS


def test_line_mode_cuts_after_each_run_of_newlines() -> None:
    src = Source()
    timeline = [(0.0, src.delta("line one\nline t")), (0.05, src.delta("wo\n\nthird"))]
    out = run(timeline, end=(0.1, None), chunking="line")
    assert texts(out) == ["line one\n", "line two\n\n", "third"]
    assert_correct_events(out)


def test_pattern_mode_cuts_where_matches_end() -> None:
    src = Source()
    timeline = [(0.0, src.delta("One. Two! Thr")), (0.05, src.delta("ee? Four"))]
    out = run(timeline, end=(0.1, None), chunking=re.compile(r"[.!?]\s*"))
    assert texts(out) == ["One. ", "Two! ", "Three? ", "Four"]
    assert_correct_events(out)


def test_an_empty_match_does_not_loop_or_emit_empty_pieces() -> None:
    src = Source()
    out = run([(0.0, src.delta("ab cd"))], end=(1.0, None), chunking=r"\b")
    assert texts(out) == ["ab", " ", "cd"]


@pytest.mark.parametrize(
    ("text", "pieces"),
    [
        ("你好世界。", ["你", "好", "世", "界", "。"]),
        ("こんにちは、世界", ["こ", "ん", "に", "ち", "は", "、", "世", "界"]),
        ("안녕하세요 world", ["안", "녕", "하", "세", "요 ", "world"]),
        ("สวัสดีครับ", ["ส", "วั", "ส", "ดี", "ค", "รั", "บ"]),  # marks stay on their letter
        ("Rust是一种语言 ok", ["Rust", "是", "一", "种", "语", "言 ", "ok"]),
    ],
)
def test_word_mode_segments_text_without_spaces_by_character(text: str, pieces: list[str]) -> None:
    src = Source()
    out = run([(0.0, src.delta(text))], end=(5.0, None), max_latency=1.0)
    assert texts(out) == pieces
    assert_correct_events(out)


def test_cjk_text_flows_during_the_stream_not_only_at_the_end() -> None:
    src = Source()
    timeline = [(i * 0.05, src.delta(ch)) for i, ch in enumerate("这是一个很长的句子没有空格")]
    out = run(timeline, end=(10.0, None), max_latency=1.0)
    shown_before_end = [t for t, e in out if isinstance(e, ox.ContentDelta) and t < 1.0]
    assert len(shown_before_end) >= 12


def test_completion_flushes_everything_pending_at_once() -> None:
    src = Source()
    words = "".join(f"w{i} " for i in range(40)) + "tail"
    out = run([(0.0, src.delta(words))], end=(0.05, None), max_latency=10.0)
    at_end = [e for t, e in out if t == 0.05]
    assert at_end[-1] == "completed"
    assert len(at_end) == 2  # one joined delta with everything pending, then the end
    assert "".join(texts(out)) == words
    assert_correct_events(out)


def test_an_error_flushes_pending_text_then_fails() -> None:
    src = Source()
    boom = RuntimeError("boom")
    out = run([(0.0, src.delta("one two three unfinis"))], end=(0.01, boom), max_latency=10.0)
    assert "".join(texts(out)) == "one two three unfinis"
    assert out[-1] == (0.01, boom)
    assert all(t <= 0.01 for t, _ in out)


def test_the_latency_cap_holds_for_bursts_stalls_and_unfinished_words() -> None:
    rng = random.Random(16)
    src = Source()
    timeline: list[tuple[float, Any]] = []
    t = 0.0
    for _ in range(300):
        t += rng.choice([0.001, 0.02, 0.02, 0.05, 0.4, 1.5])
        size = rng.choice([1, 3, 4, 8, 40, 400])
        text = "".join(rng.choice("abcdef   \n你好") for _ in range(size))
        timeline.append((t, src.delta(text)))
    out = run(timeline, end=(t + 5.0, None))
    lags = char_times(timeline, out)
    assert max(lags) <= CAP + EPS
    assert min(lags) >= -EPS
    assert_correct_events(out)


def test_an_unfinished_word_goes_out_at_its_deadline() -> None:
    src = Source()
    out = run([(0.0, src.delta("Hello wor"))], end=(2.0, None))
    assert [(t, e.delta) for t, e in out if isinstance(e, ox.ContentDelta)] == [
        (0.0, "Hello "), (pytest.approx(CAP, abs=EPS), "wor")
    ]


def test_a_fast_stream_passes_through_without_added_delay() -> None:
    src = Source()
    timeline = [(i * 0.01, src.delta(f"w{i:02d} ")) for i in range(100)]
    out = run(timeline, end=(1.5, None))
    shown = [(t, e.delta) for t, e in out if isinstance(e, ox.ContentDelta)]
    assert shown == [(pytest.approx(t, abs=EPS), e.delta) for t, e in timeline]


def test_a_steady_stream_of_split_words_is_only_delayed_until_the_word_ends() -> None:
    src = Source()
    split_words = ["wo", "rd ", "ne", "xt "] * 20
    timeline = [(i * 0.01, src.delta(piece)) for i, piece in enumerate(split_words)]
    out = run(timeline, end=(2.0, None))
    shown = [t for t, e in out if isinstance(e, ox.ContentDelta)]
    completing = [t for t, e in timeline if e.delta.endswith(" ")]
    assert shown == pytest.approx(completing, abs=EPS)


def test_adaptive_pacing_spreads_a_burst_at_the_arrival_rate() -> None:
    src = Source()
    steady = [(i * 0.05, src.delta(f"w{i:02d} ")) for i in range(20)]  # 4 chars / 50 ms
    burst = (1.0, src.delta("aaa bbb ccc ddd eee "))
    out = run([*steady, burst], end=(3.0, None))
    times = [t for t, e in out if isinstance(e, ox.ContentDelta) and t >= 1.0]
    assert len(times) == 5 and times[0] == pytest.approx(1.0, abs=EPS)
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert max(gaps) - min(gaps) <= 2 * EPS  # evenly spaced
    assert 0.02 < gaps[0] < 0.05  # about the arrival pace (80 chars/s, read 25% faster)


def test_a_burst_bigger_than_the_cap_allows_is_spread_evenly_over_the_cap() -> None:
    src = Source()
    steady = [(i * 0.5, src.delta(f"s{i} ")) for i in range(5)]  # slow: 6 chars/s
    burst = (2.5, src.delta("".join(f"b{i:02d} " for i in range(20))))
    out = run([*steady, burst], end=(5.0, None))
    times = [t for t, e in out if isinstance(e, ox.ContentDelta) and t >= 2.5]
    assert len(times) == 20
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert max(gaps) - min(gaps) <= 2 * EPS
    assert times[-1] - 2.5 == pytest.approx(CAP, abs=EPS)


def test_a_huge_burst_is_shown_in_ticks_within_the_cap() -> None:
    src = Source()
    timeline = [(0.0, src.delta("".join(f"w{i} " for i in range(5000))))]
    out = run(timeline, end=(5.0, None))
    assert max(char_times(timeline, out)) <= CAP + EPS
    assert len({t for t, _ in out}) <= 40  # not one timer per word


def test_other_events_wait_for_the_text_before_them_and_keep_their_order() -> None:
    src = Source()
    marker = ox.Usage(usage=None)
    timeline = [(0.0, "before"), (0.0, src.delta("Hel")), (0.0, marker),
                (0.1, src.delta("lo world")), (0.2, src.delta(" again "))]
    out = run(timeline, end=(1.0, None))
    items = [e if not isinstance(e, ox.ContentDelta) else e.delta for _, e in out]
    assert items == ["before", "Hello ", marker, "world ", "again ", "completed"]
    assert out[0][0] == 0.0  # nothing pending: passes through at once


def test_content_done_releases_the_last_word_without_waiting_for_its_deadline() -> None:
    src = Source()
    done = ox.ContentDone(content="Hello world")
    timeline = [(0.0, src.delta("Hello wor")), (0.01, src.delta("ld")), (0.02, done)]
    out = run(timeline, end=(1.0, None))
    items = [(t, e if not isinstance(e, ox.ContentDelta) else e.delta) for t, e in out]
    assert [item for _, item in items] == ["Hello ", "world", done, "completed"]
    assert all(t < 0.1 for t, item in items if item != "completed")


def test_choices_and_output_parts_keep_their_own_snapshots() -> None:
    src = Source()
    timeline = [(i * 0.01, src.delta(f"c{i % 2} word{i} ", choice=i % 2)) for i in range(10)]
    timeline.append((0.2, src.delta("part one ", output_index=3)))
    out = run(timeline, end=(1.0, None))
    assert_correct_events(out)
    deltas = [e for _, e in out if isinstance(e, ox.ContentDelta)]
    assert "".join(e.delta for e in deltas if e.choice == 1) == src.buffers[(1, None)].text()
    assert deltas[-1].output_index == 3 and deltas[-1].snapshot == "part one "


def test_snapshots_continue_text_that_came_before_the_subscription() -> None:
    late = ox.ContentDelta(delta="New words ", snapshot="Earlier text. New words ")
    out = run([(0.0, late)], end=(1.0, None))
    assert [e.snapshot for _, e in out if isinstance(e, ox.ContentDelta)] == [
        "Earlier text. New ", "Earlier text. New words "
    ]


def test_max_latency_must_not_be_negative() -> None:
    with pytest.raises(ValueError):
        ox.ops.smooth(max_latency=-1)


async def test_runs_on_the_asyncio_loop_by_default_and_keeps_a_real_answer() -> None:
    threads: set[str] = set()
    async with MockServer() as server, ox.OpenAI(base_url=server.base_url, api_key="k") as client:
        server.enqueue(Scenario.text("Smooth text flows evenly across the screen, word by word."))
        stream = await client.chat.completions.create_stream(model="m", messages=[])
        pieces: list[str] = []
        stream.events.pipe(
            ox.ops.of_type(ox.ContentDelta), ox.ops.smooth(), rx_ops.map(lambda e: e.delta)
        ).subscribe(lambda piece: (pieces.append(piece),
                                   threads.add(threading.current_thread().name)))
        await asyncio.wait_for(stream.until_done(), 10)
    assert "".join(pieces) == stream.current_content()
    assert all(p.endswith(" ") for p in pieces[:-1])
    assert threads == {threading.main_thread().name}
