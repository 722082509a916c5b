"""Soak: a thousand streams cancelled at random points leak nothing, and a thousand concurrent
streams all complete correctly. Marked ``slow`` (they run by default; ``-m "not slow"`` skips).
"""

from __future__ import annotations

import asyncio
import gc
import random
import resource
from typing import Any

import pytest

import oxide_rx as ox
from oxide_rx.testing import MockServer, Scenario

pytestmark = pytest.mark.slow

MESSAGES = [{"role": "user", "content": "Tell me about soak tests."}]
SEED = 20261124
STREAMS = 1000
WARM_UP = 250
EVENTS = 30
METHODS = ("aclose", "cancel_task", "dispose", "leave_async_with")


def _rss_mib() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS in /proc/self/status")


def _tasks() -> set[asyncio.Task[Any]]:
    return {t for t in asyncio.all_tasks() if t is not asyncio.current_task()}


def _is_server_task(task: asyncio.Task[Any]) -> bool:
    """The mock server's per-connection handler (alive while a keep-alive socket is pooled)."""
    name: str = getattr(task.get_coro(), "__qualname__", "")
    return name == "RequestHandler.start"


def _acquired(client: ox.OpenAI) -> int:
    connector = client.session.connector
    assert connector is not None
    return len(connector._acquired)


def _ensure_file_limit(needed: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < needed:
        target = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        if target < needed:
            pytest.skip(f"needs {needed} file descriptors, the hard limit is {hard}")


async def _wait_until(predicate: Any, timeout: float = 10.0) -> None:
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.01)


async def _cancel_one(client: ox.OpenAI, method: str, after: int) -> None:
    """Open a stream and stop it with ``method`` once ``after`` deltas arrived (or it ended)."""
    stream = await client.chat.completions.create_stream(model="m", messages=MESSAGES)
    reached = asyncio.get_running_loop().create_future()
    count = 0

    def on_delta(_: Any) -> None:
        nonlocal count
        count += 1
        if count >= after and not reached.done():
            reached.set_result(None)

    def on_end(*_: Any) -> None:
        if not reached.done():
            reached.set_result(None)

    if after == 0:
        reached.set_result(None)
    if method == "cancel_task":

        async def consume() -> None:
            async for event in stream:
                if isinstance(event, ox.ContentDelta):
                    on_delta(event)
            on_end()

        task = asyncio.create_task(consume())
        await asyncio.wait_for(asyncio.shield(reached), 10)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    elif method == "leave_async_with":
        async with stream:
            if after:
                async for event in stream:
                    if isinstance(event, ox.ContentDelta):
                        on_delta(event)
                        if reached.done():
                            break
    else:
        subscriptions = [
            stream.on(ox.ContentDelta, on_delta),
            stream.events.subscribe(on_error=on_end, on_completed=on_end),
        ]
        stream.start()
        await asyncio.wait_for(reached, 10)
        if method == "aclose":
            await stream.aclose()
        else:
            for subscription in subscriptions:
                subscription.dispose()


async def _run_batch(client: ox.OpenAI, plan: list[tuple[str, int]], parallel: int) -> None:
    gate = asyncio.Semaphore(parallel)

    async def guarded(method: str, after: int) -> None:
        async with gate:
            await _cancel_one(client, method, after)

    await asyncio.gather(*(guarded(method, after) for method, after in plan))


async def test_a_thousand_randomly_cancelled_streams_leak_nothing() -> None:
    rng = random.Random(SEED)
    plan = [(rng.choice(METHODS), rng.randint(0, EVENTS + 5)) for _ in range(STREAMS)]
    scenario = Scenario.synthetic(events=EVENTS, delta="soak", interval=0.001)
    before = _tasks()
    async with (
        MockServer(scenario=scenario) as server,
        ox.OpenAI(base_url=server.base_url, api_key="sk-test") as client,
    ):
        await _run_batch(client, plan[:WARM_UP], parallel=50)
        server.requests.clear()  # the mock's own log of requests is not the client's memory
        gc.collect()
        warm_rss = _rss_mib()
        await _run_batch(client, plan[WARM_UP:], parallel=50)

        await server.wait_idle(timeout=10)
        await _wait_until(lambda: _acquired(client) == 0)
        await _wait_until(
            lambda: all(t.done() or _is_server_task(t) for t in _tasks() - before)
        )
        server.requests.clear()
        gc.collect()
        growth = _rss_mib() - warm_rss

        assert server.open_streams == 0
        assert server.disconnects > STREAMS // 2  # most were cut mid-stream
        # The pool still works after all that.
        stream = await client.chat.completions.create_stream(model="m", messages=MESSAGES)
        assert (await stream.final_completion()).choices[0].message.content == "soak" * EVENTS
    assert growth < 10, f"RSS grew {growth:.1f} MiB over {STREAMS - WARM_UP} streams"


async def test_a_thousand_concurrent_streams_all_complete_correctly() -> None:
    _ensure_file_limit(4 * STREAMS)
    async with (
        MockServer() as server,
        ox.OpenAI(base_url=server.base_url, api_key="sk-test") as client,
    ):
        first = await client.chat.completions.create_stream(model="m", messages=MESSAGES)
        expected = (await first.final_completion()).choices[0].message.content
        assert expected

        async def one() -> str | None:
            stream = await client.chat.completions.create_stream(model="m", messages=MESSAGES)
            deltas: list[str] = []
            stream.on(ox.ContentDelta, lambda e: deltas.append(e.delta))
            completion = await stream.final_completion()
            assert "".join(deltas) == completion.choices[0].message.content
            return completion.choices[0].message.content

        results = await asyncio.wait_for(asyncio.gather(*(one() for _ in range(STREAMS))), 50)
        await server.wait_idle(timeout=10)
        assert _acquired(client) == 0
    assert results == [expected] * STREAMS
    assert server.disconnects == 0
