"""What only the Redis log has: owners in other processes (heartbeats, a lost owner, a stale
owner coming back), expiry, Redis's own bounds, and a password that never shows. The
interface itself is tested on every log in ``test_relay_log.py``.

A node's death is the end of its heartbeats: :meth:`RedisLog.aclose` on a log whose client
stays open stops them (and drops its node key) while the "dead" owner can still write, which
is what a node that froze and came back looks like.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from redis_support import RedisServer, free_port, redis_server

from oxide_rx.relay import (
    GenerationNotFound,
    InvalidEventId,
    OwnerLost,
    RelayError,
    RelayLimitError,
)

pytest.importorskip("redis", reason="the redis package is not installed: pip install -e '.[test]'")
import redis.asyncio as aioredis

from oxide_rx.relay.redis_log import LogUnavailable, RedisLog

FAST = {"heartbeat": 0.05, "owner_timeout": 0.25}


@pytest_asyncio.fixture
async def redis(redis_url: str) -> AsyncIterator[aioredis.Redis]:
    async with aioredis.from_url(redis_url) as client:
        yield client


@pytest_asyncio.fixture
async def reader(redis_url: str, redis_prefix: str) -> AsyncIterator[RedisLog]:
    """Node B's log."""
    async with RedisLog.from_url(redis_url, prefix=redis_prefix, **FAST) as log:
        yield log


@pytest_asyncio.fixture
async def owner(redis_url: str, redis_prefix: str) -> AsyncIterator[RedisLog]:
    """Node A's log, on a client of its own that outlives the log's heartbeats."""
    async with aioredis.from_url(redis_url) as client:
        log = RedisLog(client, prefix=redis_prefix, **FAST)
        try:
            yield log
        finally:
            await log.aclose()


async def test_a_blocking_read_raises_owner_lost_once_the_owner_stops_beating(
    owner: RedisLog, reader: RedisLog
) -> None:
    assert await owner.create("g", owner="a")
    ids = await owner.append("g", [b"x"])
    # Alive: a read blocking longer than the owner timeout just times out.
    assert await reader.read("g", after=ids[-1], block=2 * reader.owner_timeout) == []
    await owner.aclose()  # no more heartbeats: node a is gone
    async with asyncio.timeout(10):  # a hang guard; it comes within owner_timeout + heartbeat
        with pytest.raises(OwnerLost) as lost:
            await reader.read("g", after=ids[-1], block=30)
    assert lost.value.owner == "a"
    # A reader ends it for the owner; every reader then gets that end.
    last = await reader.end_orphan("g", [b"partial", b"end"], after=ids[-1], retention=60)
    assert last is not None
    assert [e.data for e in await reader.read("g", after=ids[-1], block=30)] == [
        b"partial", b"end"]
    # Only once: a second reader that noticed too does nothing.
    assert await reader.end_orphan("g", [b"again"], after=last, retention=60) is None


async def test_heartbeats_keep_a_live_owner_alive(
    owner: RedisLog, reader: RedisLog, redis: aioredis.Redis, redis_prefix: str
) -> None:
    assert await owner.create("g", owner="a")
    ttl = await redis.pttl(f"{redis_prefix}node:a")
    assert 0 < ttl <= owner.owner_timeout * 1000
    beats = owner.beats
    waiting = asyncio.create_task(reader.read("g", block=60))

    async def beats_past_timeouts() -> None:
        # Enough beats that the key would have expired three times over without them.
        while owner.beats < beats + 3 * owner.owner_timeout / owner.heartbeat:
            await asyncio.sleep(owner.heartbeat / 2)

    async with asyncio.timeout(30):
        await beats_past_timeouts()
    assert not waiting.done()  # still waiting for entries: no OwnerLost
    await owner.append("g", [b"late"])
    async with asyncio.timeout(10):
        assert [e.data for e in await waiting] == [b"late"]


async def test_an_orphan_end_waits_for_what_the_reader_has_not_seen(
    owner: RedisLog, reader: RedisLog
) -> None:
    await owner.create("g", owner="a")
    first = await owner.append("g", [b"1"])
    await owner.append("g", [b"2"])
    await owner.aclose()
    # The reader read up to "1" only: ending now would leave "2" out of its partial.
    assert await reader.end_orphan("g", [b"end"], after=first[-1], retention=60) is None
    entries = await reader.read("g")
    assert await reader.end_orphan("g", [b"end"], after=entries[-1].id, retention=60)


async def test_a_stale_owner_that_comes_back_cannot_write_after_the_orphan_end(
    owner: RedisLog, reader: RedisLog
) -> None:
    await owner.create("g", owner="a")
    ids = await owner.append("g", [b"x"])
    await owner.aclose()
    assert await reader.end_orphan("g", [b"end"], after=ids[-1], retention=60)
    with pytest.raises(RelayError, match="ended"):
        await owner.append("g", [b"too late"])
    # Its own end returns the end already written (its generation is over either way).
    assert await owner.end("g", [b"mine"], retention=60) == (await reader.read("g"))[-1].id


async def test_entry_ids_from_one_node_resume_on_another(
    owner: RedisLog, reader: RedisLog
) -> None:
    await owner.create("g", owner="a")
    ids = await owner.append("g", [b"1", b"2", b"3"])
    assert [e.id for e in await reader.read("g")] == ids
    assert [e.data for e in await reader.read("g", after=ids[0])] == [b"2", b"3"]
    for forged in ("0-1", "1-0", ids[0] + "0", ids[0].replace("-", "-0")):
        with pytest.raises(InvalidEventId):
            await reader.read("g", after=forged)


async def test_ended_generations_expire_after_their_retention(
    owner: RedisLog, redis: aioredis.Redis, redis_prefix: str
) -> None:
    await owner.create("g", owner="a")
    await owner.append("g", [b"x"])
    await owner.request_stop("g")
    await owner.set_watching("g", "b", True)
    keys = [f"{redis_prefix}{{g}}:{name}" for name in ("log", "meta", "stop", "watchers")]
    for key in keys:  # running: the idle TTL, never persistent
        assert 0 < await redis.pttl(key) <= owner.idle_ttl * 1000
    await owner.end("g", [b"end"], retention=0.3)
    for key in keys:
        assert 0 < await redis.pttl(key) <= 300
    async with asyncio.timeout(10):
        while await redis.exists(*keys):
            await asyncio.sleep(0.02)
    with pytest.raises(GenerationNotFound):
        await owner.read("g")
    # The index (the one key without a TTL) forgets it as new generations come...
    await owner.create("h", owner="a")
    assert await redis.zrange(f"{redis_prefix}generations", 0, -1) == [b"h"]
    assert await owner.ids() == ["h"]  # ... and when listing


async def test_a_full_redis_is_a_typed_limit_not_a_crash(redis_prefix: str) -> None:
    with redis_server("--maxmemory", "2mb", "--maxmemory-policy", "noeviction") as small:
        async with RedisLog.from_url(small.url, prefix=redis_prefix) as log:
            await log.create("g", owner="a")
            with pytest.raises(RelayLimitError) as full:
                for _ in range(100):
                    await log.append("g", [b"x" * 100_000])
            assert full.value.limit == "bytes_total"
            await log.end("g", [b"end"], retention=60)  # still closed properly


async def test_a_password_never_shows(
    redis_prefix: str, caplog: pytest.LogCaptureFixture
) -> None:
    password = "p4ss-NEVER-shown"
    with redis_server(password=password) as server:
        assert isinstance(server, RedisServer)
        async with RedisLog.from_url(server.url, prefix=redis_prefix) as log:
            assert await log.create("g", owner="a")  # the password works
            assert password not in repr(log) and "***" in repr(log)
        wrong = server.url.replace(password, "wrong-" + password)
        with caplog.at_level(logging.DEBUG):
            async with RedisLog.from_url(wrong, prefix=redis_prefix) as log:
                with pytest.raises(LogUnavailable) as refused:
                    await log.create("g", owner="a")
    error = refused.value
    shown = [str(error), repr(error), repr(error.__cause__), repr(error.__context__),
             caplog.text]
    assert not any(password in text for text in shown)


async def test_an_unreachable_redis_is_a_typed_error(redis_prefix: str) -> None:
    async with RedisLog.from_url(f"redis://127.0.0.1:{free_port()}/0",
                                 prefix=redis_prefix) as log:
        async with asyncio.timeout(30):
            with pytest.raises(LogUnavailable, match=r"Redis at redis://127\.0\.0\.1"):
                await log.create("g", owner="a")


def test_settings_that_would_kill_live_owners_are_refused() -> None:
    with pytest.raises(ValueError, match="owner_timeout"):
        RedisLog.from_url("redis://127.0.0.1:1/0", heartbeat=1.0, owner_timeout=1.5)
    with pytest.raises(ValueError, match="Not a Redis URL"):
        RedisLog.from_url("http://user:secret@example/0")


async def test_more_waiting_readers_than_connections_all_get_their_entries(
    redis_url: str, redis_prefix: str
) -> None:
    async with RedisLog.from_url(redis_url, prefix=redis_prefix, max_connections=4,
                                 **FAST) as log:
        await log.create("g", owner="a")
        readers = [asyncio.create_task(log.read("g", block=30)) for _ in range(40)]
        await log.append("g", [b"for everyone"])
        async with asyncio.timeout(30):
            got = await asyncio.gather(*readers)
    assert all([e.data for e in entries] == [b"for everyone"] for entries in got)
