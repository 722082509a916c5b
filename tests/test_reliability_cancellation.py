"""Every way of stopping a stream aborts its request: the server sees the client leave, and no
task, pooled connection or subscription outlives the stream."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from reactivex import abc

import oxide_rx as ox
from oxide_rx.testing import Fault, MockServer, Scenario

MESSAGES = [{"role": "user", "content": "Say hi."}]
LONG = "z" * 400


def _acquired(client: ox.OpenAI) -> int:
    connector = client.session.connector
    assert connector is not None
    return len(connector._acquired)


def _tasks() -> set[asyncio.Task[Any]]:
    return {t for t in asyncio.all_tasks() if t is not asyncio.current_task()}


async def _settle(before: set[asyncio.Task[Any]]) -> set[asyncio.Task[Any]]:
    """Tasks beyond ``before`` still alive after a short grace period."""
    for _ in range(200):
        extra = {t for t in _tasks() - before if not t.done()}
        if not extra:
            return extra
        await asyncio.sleep(0.01)
    return extra


@asynccontextmanager
async def _stalled_stream() -> AsyncIterator[tuple[MockServer, ox.OpenAI, ox.ChatStream]]:
    """A stream that sends a few events, then holds the connection open."""
    async with MockServer() as server:
        server.enqueue(Scenario.text(LONG, fault=Fault.stall_after(3, max_seconds=20)))
        client = ox.OpenAI(base_url=server.base_url, api_key="sk-test", max_retries=0)
        async with client:
            stream = await client.chat.completions.create_stream(model="m", messages=MESSAGES)
            yield server, client, stream


async def _first_delta(stream: ox.ChatStream) -> abc.DisposableBase:
    got = asyncio.Event()
    subscription = stream.on(ox.ContentDelta, lambda e: got.set())
    stream.start()
    await asyncio.wait_for(got.wait(), 5)
    return subscription


async def _assert_released(server: MockServer, client: ox.OpenAI, before: set[Any]) -> None:
    await server.wait_for_disconnects(1, timeout=5)
    await server.wait_idle(timeout=5)
    assert server.open_streams == 0
    assert _acquired(client) == 0
    assert await _settle(before) == set()


async def test_aclose_aborts_the_request() -> None:
    before = _tasks()
    async with _stalled_stream() as (server, client, stream):
        await _first_delta(stream)
        await stream.aclose()
        assert stream.finished
        await _assert_released(server, client, before)


async def test_leaving_async_with_aborts_the_request() -> None:
    before = _tasks()
    async with _stalled_stream() as (server, client, stream):
        async with stream:
            async for event in stream:
                if isinstance(event, ox.ContentDelta):
                    break
        await _assert_released(server, client, before)


async def test_cancelling_the_consuming_task_aborts_the_request() -> None:
    before = _tasks()
    async with _stalled_stream() as (server, client, stream):
        seen = asyncio.Event()

        async def consume() -> None:
            async for event in stream:
                if isinstance(event, ox.ContentDelta):
                    seen.set()

        task = asyncio.create_task(consume())
        await asyncio.wait_for(seen.wait(), 5)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await _assert_released(server, client, before)
        assert stream.finished


async def test_cancelling_a_task_awaiting_the_final_completion_aborts_the_request() -> None:
    before = _tasks()
    async with _stalled_stream() as (server, client, stream):
        task = asyncio.create_task(stream.final_completion())
        await asyncio.sleep(0.1)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await _assert_released(server, client, before)


async def test_every_subscriber_disposing_aborts_the_request() -> None:
    before = _tasks()
    async with _stalled_stream() as (server, client, stream):
        rx_subscription = stream.events.subscribe(lambda e: None)
        callback = await _first_delta(stream)
        rx_subscription.dispose()
        await asyncio.sleep(0.05)
        assert server.disconnects == 0  # one subscriber is still listening
        callback.dispose()
        await _assert_released(server, client, before)
        assert isinstance(stream.error, ox.StreamTruncatedError)


async def test_breaking_out_of_async_for_aborts_the_request() -> None:
    before = _tasks()
    async with _stalled_stream() as (server, client, stream):
        async for event in stream:
            if isinstance(event, ox.ContentDelta):
                break
        gc.collect()  # the abandoned iterator is finalised by the loop's asyncgen hook
        await _assert_released(server, client, before)


async def test_aclose_before_start_releases_the_connection() -> None:
    before = _tasks()
    async with _stalled_stream() as (server, client, stream):
        await stream.aclose()
        await _assert_released(server, client, before)
        assert not stream.started


async def test_cancelling_a_non_streaming_call_closes_its_connection() -> None:
    before = _tasks()
    async with MockServer() as server:
        server.enqueue(Scenario.text("slow", fault=Fault.stall_after(0, max_seconds=20)))
        async with ox.OpenAI(base_url=server.base_url, api_key="sk-test") as client:
            task = asyncio.create_task(client.chat.completions.create(model="m", messages=MESSAGES))
            await asyncio.sleep(0.2)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            await _assert_released(server, client, before)


async def test_a_finished_stream_returns_its_connection_to_the_pool() -> None:
    async with MockServer() as server:
        async with ox.OpenAI(base_url=server.base_url, api_key="sk-test") as client:
            for _ in range(3):
                stream = await client.chat.completions.create_stream(model="m", messages=MESSAGES)
                await stream.final_completion()
                assert _acquired(client) == 0
            connector = client.session.connector
            assert connector is not None
            # Reused, not reopened: one idle keep-alive connection in the pool.
            assert sum(len(v) for v in connector._conns.values()) == 1
        assert server.disconnects == 0
