"""Every way of stopping a stream aborts its request: the server sees the client leave and its
connection close, and no task or subscription outlives the stream."""

from __future__ import annotations

import asyncio
import gc
from typing import Any

import pytest
from reactivex import abc
from support import ClientFactory, other_tasks, tasks_left, wait_until

import oxide_rx as ox
from oxide_rx.testing import Fault, MockServer, Scenario

MESSAGES = [{"role": "user", "content": "Say hi."}]
LONG = "z" * 400


@pytest.fixture
async def before() -> set[asyncio.Task[Any]]:
    """The tasks alive before the test's request: none of its stream or connection."""
    return other_tasks()


@pytest.fixture
async def stalled(
    server: MockServer, make_client: ClientFactory, before: set[Any]
) -> ox.ChatStream:
    """A stream that sends a few events, then holds the connection open (made after
    ``before``, so that its tasks count as the test's)."""
    server.enqueue(Scenario.text(LONG, fault=Fault.stall_after(3, max_seconds=20)))
    client = make_client(max_retries=0)
    return await client.chat.completions.create_stream(model="m", messages=MESSAGES)


async def _first_delta(stream: ox.ChatStream) -> abc.DisposableBase:
    got = asyncio.Event()
    subscription = stream.on(ox.ContentDelta, lambda e: got.set())
    stream.start()
    await asyncio.wait_for(got.wait(), 5)
    return subscription


async def _assert_released(server: MockServer, before: set[Any]) -> None:
    await server.wait_for_disconnects(1, timeout=5)
    await server.wait_idle(timeout=5)
    assert server.open_streams == 0
    await server.wait_for_open_connections(0)  # closed, not kept: the body was unfinished
    assert await tasks_left(before) == set()


async def test_aclose_aborts_the_request(
    server: MockServer, stalled: ox.ChatStream, before: set[Any]
) -> None:
    await _first_delta(stalled)
    await stalled.aclose()
    assert stalled.finished
    await _assert_released(server, before)


async def test_leaving_async_with_aborts_the_request(
    server: MockServer, stalled: ox.ChatStream, before: set[Any]
) -> None:
    async with stalled:
        async for event in stalled:
            if isinstance(event, ox.ContentDelta):
                break
    await _assert_released(server, before)


async def test_cancelling_the_consuming_task_aborts_the_request(
    server: MockServer, stalled: ox.ChatStream, before: set[Any]
) -> None:
    seen = asyncio.Event()

    async def consume() -> None:
        async for event in stalled:
            if isinstance(event, ox.ContentDelta):
                seen.set()

    task = asyncio.create_task(consume())
    await asyncio.wait_for(seen.wait(), 5)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await _assert_released(server, before)
    assert stalled.finished


async def test_cancelling_a_task_awaiting_the_final_completion_aborts_the_request(
    server: MockServer, stalled: ox.ChatStream, before: set[Any]
) -> None:
    task = asyncio.create_task(stalled.final_completion())
    # The task is awaiting a stream in flight (no other subscriber: it is the only watcher).
    await wait_until(stalled.current_content, what="the first deltas")
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await _assert_released(server, before)


async def test_every_subscriber_disposing_aborts_the_request(
    server: MockServer, make_client: ClientFactory, before: set[Any]
) -> None:
    # Events keep coming (for ten seconds), so "the request goes on" can be seen happen.
    server.enqueue(Scenario.synthetic(events=1000, interval=0.01))
    client = make_client(max_retries=0)
    stream = await client.chat.completions.create_stream(model="m", messages=MESSAGES)
    rx_subscription = stream.events.subscribe(lambda e: None)
    deltas: list[ox.ContentDelta] = []
    callback = stream.on(ox.ContentDelta, deltas.append)
    stream.start()
    await wait_until(lambda: deltas, what="a first delta")
    rx_subscription.dispose()
    # One subscriber is still listening: it keeps getting events, the server keeps writing.
    seen = len(deltas)
    await wait_until(lambda: len(deltas) >= seen + 3, what="deltas after the first dispose")
    assert not stream.finished
    assert server.disconnects == 0
    assert server.open_streams == 1
    callback.dispose()
    await _assert_released(server, before)
    assert isinstance(stream.error, ox.StreamTruncatedError)


async def test_breaking_out_of_async_for_aborts_the_request(
    server: MockServer, stalled: ox.ChatStream, before: set[Any]
) -> None:
    async for event in stalled:
        if isinstance(event, ox.ContentDelta):
            break
    gc.collect()  # the abandoned iterator is finalised by the loop's asyncgen hook
    await _assert_released(server, before)


async def test_aclose_before_start_releases_the_connection(
    server: MockServer, stalled: ox.ChatStream, before: set[Any]
) -> None:
    await stalled.aclose()
    await _assert_released(server, before)
    assert not stalled.started


async def test_cancelling_a_non_streaming_call_closes_its_connection(
    server: MockServer, client: ox.OpenAI, before: set[Any]
) -> None:
    server.enqueue(Scenario.text("slow", fault=Fault.stall_after(0, max_seconds=20)))
    task = asyncio.create_task(client.chat.completions.create(model="m", messages=MESSAGES))
    # The call is under way: the server is answering it, and will never finish.
    await wait_until(lambda: server.open_streams == 1, what="the server answering the call")
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await _assert_released(server, before)


async def test_a_finished_stream_returns_its_connection_to_the_pool(
    server: MockServer, client: ox.OpenAI
) -> None:
    for _ in range(3):
        stream = await client.chat.completions.create_stream(model="m", messages=MESSAGES)
        await stream.final_completion()
        # Reused, not reopened: every stream so far ran on the one connection.
        assert server.accepted_connections == 1
    # The third stream's connection is back in the pool too: the next request reuses it.
    await client.chat.completions.create(model="m", messages=MESSAGES)
    assert server.accepted_connections == 1
    assert server.open_connections == 1  # one idle keep-alive connection in the pool
    await client.aclose()
    await server.wait_for_open_connections(0)
    assert server.disconnects == 0
