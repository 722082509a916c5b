"""Stream metrics: the sans-IO recorder (plain numbers, no clock) and the Metrics event."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import msgspec
import pytest

import oxide_rx as ox
from oxide_rx import Metrics, StreamMetrics
from oxide_rx.testing import Fault, MockServer, Scenario


def test_time_to_first_token_counts_from_the_start_to_the_first_output() -> None:
    m = StreamMetrics()
    m.start(100.0)
    m.event(100.2)  # a role-only chunk is not output
    assert m.time_to_first_token is None
    m.output(100.5)
    m.output(100.6)
    assert m.time_to_first_token == pytest.approx(0.5)


def test_rate_counts_deltas_until_usage_arrives_then_tokens() -> None:
    m = StreamMetrics()
    m.start(0.0)
    for i in range(5):
        m.output(1.0 + i * 0.25)  # 5 deltas over 1 s of generation
    m.end(2.0)
    assert (m.rate_unit, m.tokens_per_second) == ("deltas", pytest.approx(5.0))
    m.usage(20)
    assert (m.rate_unit, m.tokens_per_second) == ("tokens", pytest.approx(20.0))
    assert m.output_tokens == 20 and m.output_deltas == 5


def test_rate_is_live_while_the_stream_runs_and_none_without_a_window() -> None:
    m = StreamMetrics()
    m.start(0.0)
    assert m.rate(now=1.0) is None
    m.output(1.0)
    assert m.tokens_per_second is None  # one instant: no window yet
    m.output(1.5)
    assert m.rate(now=2.0) == pytest.approx(2.0)
    assert m.total_time(now=2.0) == 2.0


def test_gaps_over_the_threshold_are_stalls_waiting_for_the_first_is_not() -> None:
    m = StreamMetrics(stall_threshold=1.0)
    m.start(0.0)
    m.output(5.0)  # slow first token: TTFT, not a stall
    m.output(5.1)
    m.output(7.5)  # 2.4 s gap
    m.event(7.6)
    m.event(8.7)  # 1.1 s gap
    m.end(8.8)
    assert m.stalls == 2
    assert m.longest_gap == pytest.approx(2.4)


def test_a_stall_before_an_abort_counts() -> None:
    m = StreamMetrics(stall_threshold=0.5)
    m.start(0.0)
    m.output(0.1)
    m.end(3.0)
    m.end(9.0)  # the first end wins
    assert (m.stalls, m.longest_gap, m.total_time()) == (1, pytest.approx(2.9), 3.0)


def test_metrics_freezes_the_figures_into_an_event() -> None:
    m = StreamMetrics(stall_threshold=2.0)
    m.start(0.0)
    m.output(0.5)
    m.output(1.5)
    m.usage(4)
    m.end(1.5)
    frozen = m.metrics()
    assert frozen == Metrics(
        time_to_first_token=0.5, tokens_per_second=4.0, rate_unit="tokens", output_tokens=4,
        output_deltas=2, events=2, stalls=0, longest_gap=1.0, stall_threshold=2.0,
        total_time=1.5,
    )
    assert repr(frozen).startswith("Metrics(time_to_first_token=0.5, tokens_per_second=4.0")
    assert frozen.to_dict()["output_tokens"] == 4
    with pytest.raises(AttributeError):
        frozen.stalls = 3  # type: ignore[misc]


def test_metrics_is_a_keyword_only_frozen_struct_outside_the_gc() -> None:
    assert Metrics() == Metrics(time_to_first_token=None)
    assert Metrics(stalls=1) != Metrics(stalls=2)
    with pytest.raises(TypeError):
        Metrics(0.5)  # type: ignore[misc]
    assert msgspec.structs.asdict(Metrics(events=3))["events"] == 3
    assert not __import__("gc").is_tracked(Metrics(events=3))


def test_an_owner_that_attached_late_measures_from_the_first_event() -> None:
    m = StreamMetrics()
    m.event(10.0)
    m.output(10.5)
    assert m.time_to_first_token == pytest.approx(0.5)


# -- stream.metrics: what every stream records, and its Metrics event -------------------------

async def test_a_chat_stream_records_its_metrics_and_ends_with_a_metrics_event() -> None:
    async with MockServer() as server, ox.OpenAI(base_url=server.base_url, api_key="k") as client:
        server.enqueue(Scenario.text("Metrics for a short answer, counted in tokens."))
        stream = await client.chat.completions.create_stream(
            model="m", messages=[], stream_options={"include_usage": True}
        )
        seen: list[ox.Metrics] = []
        order: list[str] = []
        stream.on(ox.Metrics, seen.append)
        stream.events.subscribe(lambda e: order.append(type(e).__name__),
                                on_completed=lambda: order.append("completed"))
        completion = await asyncio.wait_for(stream.final_completion(), 10)
    assert stream.metrics.finished
    assert seen == [stream.metrics.metrics()]
    assert order[-2:] == ["Metrics", "completed"]  # the last event, right before the end
    frozen = seen[0]
    assert completion.usage is not None
    assert frozen.output_tokens == completion.usage.completion_tokens
    assert frozen.rate_unit == "tokens"
    assert frozen.time_to_first_token is not None and frozen.time_to_first_token > 0
    assert frozen.time_to_first_token <= frozen.total_time
    # Counted per network read: every payload is an event ([DONE] too); from the read with
    # the first output on, they are output deltas.
    assert frozen.events == len([name for name in order if name == "Chunk"]) + 1
    assert 0 < frozen.output_deltas <= frozen.events


async def test_a_responses_stream_counts_output_tokens() -> None:
    async with MockServer() as server, ox.OpenAI(base_url=server.base_url, api_key="k") as client:
        server.enqueue(Scenario.tool_calls([("get_weather", {"city": "Oslo"})]))
        stream = await client.responses.create_stream(model="m", input="Weather?")
        response = await asyncio.wait_for(stream.final_response(), 10)
    assert response.usage is not None
    assert stream.metrics.output_tokens == response.usage.output_tokens
    assert stream.metrics.time_to_first_token is not None  # tool arguments count as output


async def _until(predicate: Callable[[], bool], timeout: float = 10.0) -> None:
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.005)


async def test_an_aborted_stream_records_the_stall_before_it() -> None:
    loop = asyncio.get_running_loop()
    async with MockServer() as server, ox.OpenAI(base_url=server.base_url, api_key="k") as client:
        server.enqueue(Scenario.text("x" * 200, fault=Fault.stall_after(3)))
        stream = await client.chat.completions.create_stream(model="m", messages=[])
        stream.metrics.stall_threshold = 0.05
        seen: list[float] = []
        stream.on(ox.ContentDelta, lambda _: seen.append(loop.time()))
        stream.start()
        # The server holds the connection after three events: wait until the gap is a stall.
        await _until(lambda: bool(seen) and loop.time() - seen[-1] > 0.1)
        await stream.aclose()
    assert stream.metrics.finished
    assert stream.metrics.stalls == 1
    assert stream.metrics.longest_gap > 0.1


def test_reads_count_their_events_and_gaps_between_reads() -> None:
    m = StreamMetrics(stall_threshold=1.0)
    m.start(0.0)
    m.read(0.1, 2, output=False)
    m.read(0.2, 3, output=True)
    m.read(0.3, 10, output=True)
    m.read(1.8, 5, output=True)  # a 1.5 s gap: one stall
    m.end(1.9)
    assert (m.time_to_first_token, m.stalls, m.longest_gap) == (0.2, 1, pytest.approx(1.5))
    frozen = m.metrics()
    assert (frozen.events, frozen.output_deltas, frozen.rate_unit) == (20, 18, "deltas")
    assert frozen.tokens_per_second == pytest.approx(18 / 1.7)
