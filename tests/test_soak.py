"""Soak: a thousand streams cancelled at random points leak nothing, and a thousand concurrent
streams all complete correctly. Marked ``slow`` (they run by default; ``-m "not slow"`` skips).

Leaks are looked for where the user would meet them: tasks still running on the client's loop
(the mock server runs on a thread of its own, so every task left on the test's loop is the
client's), memory, and connections no longer usable (a full pool's worth of streams must open
at once afterwards, and reuse what the pool holds: the server counts the connections).
"""

from __future__ import annotations

import asyncio
import gc
import random
import resource
from typing import Any

import pytest
from support import ServerThread, other_tasks, rss_mib, tasks_left, wait_until

import oxide_rx as ox
from oxide_rx.testing import Fault, MockServer, Scenario

pytestmark = pytest.mark.slow

MESSAGES = [{"role": "user", "content": "Tell me about soak tests."}]
SEED = 20261124
STREAMS = 1000
WARM_UP = 250
EVENTS = 30
METHODS = ("aclose", "cancel_task", "dispose", "leave_async_with")
PARALLEL = 50


def _ensure_file_limit(needed: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < needed:
        target = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        if target < needed:
            pytest.skip(f"needs {needed} file descriptors, the hard limit is {hard}")


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


async def _open_at_once(server: MockServer, client: ox.OpenAI, n: int) -> list[ox.ChatStream]:
    """``n`` streams open together, each holding its connection (the server stalls them) until
    closed: ``n`` connections in use at once."""
    server.enqueue(*[Scenario.text("held", fault=Fault.stall_after(1, max_seconds=30))] * n)
    create = client.chat.completions.create_stream
    return await asyncio.wait_for(
        asyncio.gather(*(create(model="m", messages=MESSAGES) for _ in range(n))), 20
    )


async def test_a_thousand_randomly_cancelled_streams_leak_nothing() -> None:
    rng = random.Random(SEED)
    plan = [(rng.choice(METHODS), rng.randint(0, EVENTS + 5)) for _ in range(STREAMS)]
    scenario = Scenario.synthetic(events=EVENTS, delta="soak", interval=0.001)
    before = other_tasks()
    with ServerThread(scenario=scenario) as server:
        # A pool as large as the batch's parallelism: a connection a cancelled stream kept
        # would leave the pool short, and the streams opened at the end could not all open.
        async with ox.OpenAI(
            base_url=server.base_url, api_key="sk-test", max_connections=PARALLEL
        ) as client:
            await _run_batch(client, plan[:WARM_UP], parallel=PARALLEL)
            server.requests.clear()  # the mock's own log of requests is not the client's memory
            gc.collect()
            warm_rss = rss_mib()
            await _run_batch(client, plan[WARM_UP:], parallel=PARALLEL)

            await wait_until(lambda: server.open_streams == 0, 10, "the server idle")
            assert await tasks_left(before, timeout=10) == set()
            server.requests.clear()
            gc.collect()
            growth = rss_mib() - warm_rss

            assert server.open_streams == 0
            assert server.disconnects > STREAMS // 2  # most were cut mid-stream
            # Every connection is closed or back in the pool: a full pool's worth at once.
            held = await _open_at_once(server, client, PARALLEL)
            for stream in held:
                await stream.aclose()
            # And the pool still works after all that.
            stream = await client.chat.completions.create_stream(model="m", messages=MESSAGES)
            content = (await stream.final_completion()).choices[0].message.content
            assert content == "soak" * EVENTS
    assert growth < 10, f"RSS grew {growth:.1f} MiB over {STREAMS - WARM_UP} streams"


async def test_a_thousand_concurrent_streams_all_complete_correctly(
    server: MockServer, client: ox.OpenAI
) -> None:
    _ensure_file_limit(4 * STREAMS)
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
    assert results == [expected] * STREAMS
    assert server.disconnects == 0
    # Every finished stream handed its connection back: as many streams as there are
    # connections open, opened at once, all reuse one and the server accepts none.
    pooled, accepted = server.open_connections, server.accepted_connections
    held = await _open_at_once(server, client, pooled)
    assert server.accepted_connections == accepted
    for stream in held:
        await stream.aclose()
