"""The public Rx operators and sources, on real schedulers and a real socket."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import reactivex
from reactivex import operators as rx_ops
from reactivex.scheduler.eventloop import AsyncIOScheduler

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


async def test_sample_ui_emits_first_at_once_paces_the_rest_and_always_the_last() -> None:
    loop = asyncio.get_running_loop()
    subject: reactivex.subject.Subject[int] = reactivex.subject.Subject()
    got: list[tuple[int, float]] = []
    done = asyncio.Event()
    start = loop.time()
    subject.pipe(ox.ops.sample_ui(0.05)).subscribe(
        lambda v: got.append((v, loop.time() - start)), on_completed=done.set
    )
    for value in range(30):  # 30 values, one every 5 ms: 150 ms of steady "tokens"
        subject.on_next(value)
        await asyncio.sleep(0.005)
    subject.on_completed()
    await asyncio.wait_for(done.wait(), 2)
    values = [v for v, _ in got]
    assert values[0] == 0 and got[0][1] < 0.02
    assert values[-1] == 29
    assert 3 <= len(values) <= 8  # paced: not every value, but updates during the stream
    # Between paced updates at least one interval; only the final flush may come sooner.
    gaps = [b - a for (_, a), (_, b) in itertools.pairwise(got[:-1])]
    assert all(gap >= 0.045 for gap in gaps)


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
                for value in range(1000):
                    yield value
                    await asyncio.sleep(0.001)
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
    await asyncio.sleep(0.02)
    assert calls == 2
    assert second == [0, 1, 2]
    assert 1 in closed


async def test_a_user_built_pipeline_from_aiohttp_streams_a_real_response() -> None:
    async with MockServer() as server:
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


def test_sample_ui_delivers_the_pending_value_before_an_error() -> None:
    subject: reactivex.subject.Subject[int] = reactivex.subject.Subject()
    got: list[Any] = []

    async def run() -> None:
        subject.pipe(ox.ops.sample_ui(10.0)).subscribe(got.append, got.append)
        subject.on_next(1)
        subject.on_next(2)
        subject.on_error(ValueError("boom"))

    asyncio.run(run())
    assert got[:2] == [1, 2] and isinstance(got[2], ValueError)
