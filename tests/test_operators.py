"""The public Rx operators and sources: time-based ones on virtual time (``TestScheduler``,
one tick per second of ``interval``), the others on real schedulers and a real socket."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

import aiohttp
import reactivex
from reactivex import abc
from reactivex import operators as rx_ops
from reactivex.scheduler.eventloop import AsyncIOScheduler
from reactivex.testing import ReactiveTest, TestScheduler
from support import wait_until

import oxide_rx as ox
from oxide_rx.sse import ServerSentEvent
from oxide_rx.testing import MockServer, Scenario
from oxide_rx.types.chat import ChatCompletionChunk


def _collect(observable: reactivex.Observable[Any]) -> tuple[list[Any], list[Exception], list[str]]:
    items: list[Any] = []
    errors: list[Exception] = []
    done: list[str] = []
    observable.subscribe(items.append, errors.append, lambda: done.append("done"))
    return items, errors, done


def _sse(*datas: str) -> reactivex.Observable[ServerSentEvent]:
    return reactivex.from_iterable([ServerSentEvent(data=d) for d in datas])


on_next = ReactiveTest.on_next
on_error = ReactiveTest.on_error
on_completed = ReactiveTest.on_completed
subscribe = ReactiveTest.subscribe

CHUNK = '{"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"%s"},"finish_reason":null}]}'  # noqa: E501


def test_parse_sse_splits_events_across_reads() -> None:
    reads = [b"data: a\n", b"\ndata: b\r", b"\n\r\ndata: never finished"]
    items, errors, done = _collect(reactivex.from_iterable(reads).pipe(ox.ops.parse_sse()))
    assert [e.data for e in items] == ["a", "b"]
    assert not errors and done


def test_parse_sse_limit_fails_with_sse_error() -> None:
    reads = [b"data: " + b"x" * 2000 + b"\n\n"]
    _, errors, _ = _collect(reactivex.from_iterable(reads).pipe(ox.ops.parse_sse(1024)))
    assert [type(e) for e in errors] == [ox.SSEError]


def test_decode_completes_at_done_and_ignores_what_follows() -> None:
    source = _sse(CHUNK % "Hi", "[DONE]", CHUNK % "late")
    items, errors, done = _collect(source.pipe(ox.ops.decode(ChatCompletionChunk)))
    assert [c.choices[0].delta.content for c in items] == ["Hi"]
    assert not errors and done == ["done"]


def test_decode_without_done_is_a_truncation() -> None:
    _, errors, _ = _collect(_sse(CHUNK % "Hi").pipe(ox.ops.decode(ChatCompletionChunk)))
    assert [type(e) for e in errors] == [ox.StreamTruncatedError]


def test_decode_turns_an_error_payload_into_a_typed_api_error() -> None:
    payload = '{"error": {"message": "The server had an error", "type": "server_error"}}'
    items, errors, _ = _collect(
        _sse(CHUNK % "Hi", payload).pipe(ox.ops.decode(ChatCompletionChunk))
    )
    assert len(items) == 1
    assert isinstance(errors[0], ox.APIError)
    assert errors[0].message == "The server had an error"
    assert errors[0].type == "server_error"


def test_decode_malformed_json_is_a_decode_error_with_a_short_excerpt() -> None:
    bad = '{"id": "c1", "choices": [' + "x" * 5000
    _, errors, _ = _collect(_sse(bad).pipe(ox.ops.decode(ChatCompletionChunk)))
    assert isinstance(errors[0], ox.DecodeError)
    assert len(str(errors[0])) < 400


def test_accumulate_chat_emits_helper_events_and_keeps_the_snapshot() -> None:
    accumulator = ox.ChatCompletionAccumulator()
    finish = CHUNK.replace('{"content":"%s"}', "{}").replace('"finish_reason":null',
                                                               '"finish_reason":"stop"')
    source = _sse(CHUNK % "Hel", CHUNK % "lo", finish, "[DONE]")
    items, errors, done = _collect(
        source.pipe(ox.ops.decode(ChatCompletionChunk), ox.ops.accumulate_chat(accumulator))
    )
    assert [e.snapshot for e in items if isinstance(e, ox.ContentDelta)] == ["Hel", "Hello"]
    assert [e.finish_reason for e in items if isinstance(e, ox.Done)] == ["stop"]
    assert accumulator.completion().choices[0].message.content == "Hello"
    assert done and not errors


def test_of_type_keeps_only_the_given_classes() -> None:
    source = reactivex.from_iterable([1, "a", 2.5, "b", None])
    items, _, _ = _collect(source.pipe(ox.ops.of_type(str)))
    assert items == ["a", "b"]
    items, _, _ = _collect(source.pipe(ox.ops.of_type(int, float)))
    assert items == [1, 2.5]


# --- sample_ui on virtual time: TestScheduler subscribes at tick 200 ---------------------------


class _Timers(abc.SchedulerBase):
    """The test scheduler's clock for ``sample_ui``'s timers, noting when each timer runs."""

    to_seconds = TestScheduler.to_seconds
    to_datetime = TestScheduler.to_datetime
    to_timedelta = TestScheduler.to_timedelta

    def __init__(self, clock: TestScheduler) -> None:
        self.clock = clock
        self.ran: list[float] = []

    @property
    def now(self) -> datetime:
        return self.clock.now

    def _noted(self, action: abc.ScheduledAction[Any]) -> abc.ScheduledAction[Any]:
        def run(scheduler: abc.SchedulerBase, state: Any = None) -> abc.DisposableBase | None:
            self.ran.append(self.clock.clock)
            return action(scheduler, state)

        return run

    def schedule(
        self, action: abc.ScheduledAction[Any], state: Any = None
    ) -> abc.DisposableBase:
        return self.clock.schedule(self._noted(action), state)

    def schedule_relative(
        self, duetime: Any, action: abc.ScheduledAction[Any], state: Any = None
    ) -> abc.DisposableBase:
        return self.clock.schedule_relative(duetime, self._noted(action), state)

    def schedule_absolute(
        self, duetime: Any, action: abc.ScheduledAction[Any], state: Any = None
    ) -> abc.DisposableBase:
        return self.clock.schedule_absolute(duetime, self._noted(action), state)


def _sample(
    *messages: Any, interval: float = 50.0, disposed: float = 1000.0
) -> tuple[list[Any], list[Any], list[float]]:
    """What ``sample_ui(interval)`` emits for a hot source sending ``messages`` (virtual ticks),
    the source's subscriptions, and the ticks at which the operator's timers ran."""
    scheduler = TestScheduler()
    timers = _Timers(scheduler)
    source = scheduler.create_hot_observable(*messages)
    results = scheduler.start(
        lambda: source.pipe(ox.ops.sample_ui(interval, scheduler=timers)), disposed=disposed
    )
    return results.messages, source.subscriptions, timers.ran


def test_sample_ui_emits_the_first_item_at_once() -> None:
    messages, _, _ = _sample(on_next(210, "a"))
    assert messages == [on_next(210, "a")]


def test_sample_ui_paces_a_steady_stream_to_the_latest_every_interval() -> None:
    # 30 items 7 ticks apart (the "tokens"), an interval of 50: the first at once, then the
    # latest at each interval's end, and the last one the moment the source completes.
    tokens = [on_next(201 + 7 * value, value) for value in range(30)]
    messages, _, timer_runs = _sample(*tokens, on_completed(406))
    assert messages == [
        on_next(201, 0),
        on_next(251, 7),
        on_next(301, 14),
        on_next(351, 21),
        on_next(401, 28),
        on_next(406, 29),
        on_completed(406),
    ]
    assert timer_runs == [251, 301, 351, 401]  # the timer ends with the source


def test_sample_ui_emits_at_once_again_after_a_quiet_interval() -> None:
    messages, _, _ = _sample(on_next(210, "a"), on_next(300, "b"), on_next(310, "c"))
    # "b" comes after an interval without items (the tick at 260 had nothing to send).
    assert messages == [on_next(210, "a"), on_next(300, "b"), on_next(350, "c")]


def test_sample_ui_completes_at_once_without_repeating_the_last_item() -> None:
    messages, _, _ = _sample(on_next(210, "a"), on_completed(300))
    assert messages == [on_next(210, "a"), on_completed(300)]


def test_sample_ui_delivers_the_pending_item_before_an_error() -> None:
    error = ValueError("boom")
    messages, _, _ = _sample(on_next(210, 1), on_next(220, 2), on_error(230, error))
    assert messages == [on_next(210, 1), on_next(230, 2), on_error(230, error)]


def test_sample_ui_sends_nothing_after_dispose() -> None:
    messages, subscriptions, timer_runs = _sample(
        on_next(210, "a"), on_next(220, "pending"), on_next(240, "late"), on_completed(250),
        disposed=230,
    )
    # "pending" was due at tick 260, after the subscriber left: it is never sent, and the
    # timer that would have sent it is cancelled rather than left to run.
    assert messages == [on_next(210, "a")]
    assert subscriptions == [subscribe(200, 230)]
    assert timer_runs == []


async def test_sample_ui_runs_on_the_asyncio_scheduler_when_given_none() -> None:
    scheduler_seen: list[Any] = []
    source = reactivex.interval(0.001, scheduler=AsyncIOScheduler(asyncio.get_running_loop()))
    finished = asyncio.Event()
    source.pipe(rx_ops.take(20), ox.ops.sample_ui(0.005)).subscribe(
        lambda _: scheduler_seen.append(asyncio.get_running_loop()),
        on_completed=finished.set,
    )
    await asyncio.wait_for(finished.wait(), 2)
    assert scheduler_seen and all(loop is asyncio.get_running_loop() for loop in scheduler_seen)


async def test_from_async_iterable_calls_the_factory_per_subscription_and_closes_on_dispose() -> (
    None
):
    closed: list[int] = []
    calls = 0

    def factory() -> AsyncIterator[int]:
        nonlocal calls
        calls += 1
        number = calls

        async def gen() -> AsyncIterator[int]:
            try:
                for value in itertools.count():  # endless: only dispose can close it
                    yield value
                    await asyncio.sleep(0.001)  # a slow producer, as a network source is
            finally:
                closed.append(number)

        return gen()

    source = ox.from_async_iterable(factory)
    first: list[int] = []
    subscription = source.subscribe(first.append)
    second: list[int] = []
    finished = asyncio.Event()
    source.pipe(rx_ops.take(3)).subscribe(second.append, on_completed=finished.set)
    await asyncio.wait_for(finished.wait(), 2)
    subscription.dispose()
    await wait_until(lambda: 1 in closed, what="the first generator closed")
    assert calls == 2
    assert second == [0, 1, 2]
    assert 1 in closed


async def test_a_user_built_pipeline_from_aiohttp_streams_a_real_response(
    server: MockServer
) -> None:
    server.enqueue(Scenario.text("Built by hand"))
    timeout = aiohttp.ClientTimeout(total=10)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        response = await session.post(
            f"{server.base_url}/chat/completions",
            json={"model": "m", "messages": [], "stream": True},
        )
        finished = asyncio.Event()
        deltas: list[str] = []
        ox.from_aiohttp(response).pipe(
            ox.ops.parse_sse(),
            ox.ops.decode(ChatCompletionChunk),
            ox.ops.accumulate_chat(),
            ox.ops.of_type(ox.ContentDelta),
        ).subscribe(lambda e: deltas.append(e.delta), on_completed=finished.set)
        await asyncio.wait_for(finished.wait(), 5)
    assert "".join(deltas) == "Built by hand"
