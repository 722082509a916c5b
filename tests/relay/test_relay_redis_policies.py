"""The relay's policies across nodes, with two relays in this process on one real
``redis-server`` (each with a Redis log of its own, as two machines would have): the
unwatched policy counts viewers on every node (virtual time), and an owner that froze and
came back after the others ended its generation stops its upstream request.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable

import msgspec
import pytest
import pytest_asyncio
from reactivex.testing import TestScheduler

import oxide_rx as ox
from oxide_rx.relay import Relay, RelayPolicy, records
from oxide_rx.testing import Fault, MockServer, Scenario

pytest.importorskip("redis", reason="the redis package is not installed: pip install -e '.[test]'")
import redis.asyncio as aioredis

from oxide_rx.relay.redis_log import RedisLog

TEXT = "The quick brown fox jumps over the lazy dog. " * 3
CHAT = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Hi"}]}
FAST = {"heartbeat": 0.05, "owner_timeout": 0.25}


async def eventually(check: Callable[[], Awaitable[bool]], timeout: float = 10.0) -> None:
    async with asyncio.timeout(timeout):
        while not await check():
            await asyncio.sleep(0.005)


@pytest_asyncio.fixture
async def node_logs(redis_url: str, redis_prefix: str
                    ) -> AsyncIterator[tuple[RedisLog, RedisLog, aioredis.Redis]]:
    """Node A's log (on a client that outlives its heartbeats) and node B's."""
    async with aioredis.from_url(redis_url) as client, RedisLog.from_url(
        redis_url, prefix=redis_prefix, **FAST
    ) as log_b:
        log_a = RedisLog(client, prefix=redis_prefix, **FAST)
        try:
            yield log_a, log_b, client
        finally:
            await log_a.aclose()


async def test_the_owner_does_not_stop_what_another_node_watches(
    client: ox.OpenAI, mock: MockServer, node_logs: tuple[RedisLog, RedisLog, aioredis.Redis]
) -> None:
    log_a, log_b, _ = node_logs
    scheduler = TestScheduler()
    policy = RelayPolicy(unwatched_timeout=30)
    async with Relay(client, log=log_a, policy=policy, scheduler=scheduler, node="a") as a, \
            Relay(client, log=log_b, policy=policy, node="b") as b:
        mock.enqueue(Scenario.text(TEXT, fault=Fault.hold_after(4)))
        started = await a.start("chat", dict(CHAT))
        await mock.wait_for_held()
        async def armed() -> bool:
            return a.unwatched_timer_armed(started.id)

        async def watched_elsewhere() -> bool:
            return await log_a.watched(started.id)

        async def unwatched() -> bool:
            return not await log_a.watched(started.id)

        assert await armed()  # nobody watches on a
        async with b.viewer(started.id, "oxide"):
            await eventually(watched_elsewhere)  # b's flag is shared through Redis
            scheduler.advance_by(30)  # a's timer fires, asks, and finds b's viewer...
            assert not await armed()
            await eventually(armed)  # ... so it waits another 30 s
            assert mock.disconnects == 0
        await eventually(unwatched)
        scheduler.advance_by(30)  # nobody anywhere now
        end = await a.wait_end(started.id, 10)
        assert end is not None and end.status == "unwatched"
        await mock.wait_for_disconnects(1)


async def test_an_owner_that_comes_back_after_being_ended_stops_its_upstream_request(
    client: ox.OpenAI, mock: MockServer, node_logs: tuple[RedisLog, RedisLog, aioredis.Redis]
) -> None:
    log_a, log_b, _ = node_logs
    async with Relay(client, log=log_a, node="a") as a, Relay(client, log=log_b, node="b") as b:
        mock.enqueue(Scenario.text(TEXT, fault=Fault.hold_after(4) | Fault.pace(0.05)))
        started = await a.start("chat", dict(CHAT))
        await mock.wait_for_held()
        await log_a.aclose()  # a freezes: no heartbeats, but its process goes on
        end = await b.wait_end(started.id, 30)  # b notices, ends it with the partial
        assert end is not None and end.status == "failed" and end.error_type == "OwnerLost"
        mock.release_held()  # a wakes up: its next append finds the generation ended
        await mock.wait_for_disconnects(1, timeout=10)
        entries = [records.decode(e.data) for e in await log_b.read(started.id)]
        ends = [r for r in entries if isinstance(r, records.End)]
        assert ends == [end]  # a did not write a second end
        final = next(r for r in entries if isinstance(r, records.Final))
        partial = msgspec.json.decode(final.data)["choices"][0]["message"]["content"]
        text = "".join(r.delta for r in entries if isinstance(r, records.Text))
        assert partial == text and TEXT.startswith(partial)
