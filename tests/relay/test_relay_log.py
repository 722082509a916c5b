"""The generation log: ids, resume, blocking tail, bounds, expiry, stop.

The tests that take the ``log`` fixture are the contract of :class:`GenerationLog`: any
implementation adds its factory to ``LOGS`` and must pass them (the in-process log, and the
Redis Streams log on a real ``redis-server``). The others test :class:`MemoryLog`'s own bounds
and clock; ``test_relay_redis_log.py`` tests what only Redis has (liveness, TTLs).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
import pytest_asyncio

from oxide_rx.relay import (
    GenerationLog,
    GenerationNotFound,
    InvalidEventId,
    LogLimits,
    MemoryLog,
    RelayLimitError,
)
from oxide_rx.relay.log import ENTRY_OVERHEAD


@contextlib.asynccontextmanager
async def memory_log(request: pytest.FixtureRequest, limits: LogLimits | None
                     ) -> AsyncIterator[GenerationLog]:
    yield MemoryLog(limits)


@contextlib.asynccontextmanager
async def redis_log(request: pytest.FixtureRequest, limits: LogLimits | None
                    ) -> AsyncIterator[GenerationLog]:
    from oxide_rx.relay.redis_log import RedisLog

    url, prefix = request.getfixturevalue("redis_url"), request.getfixturevalue("redis_prefix")
    async with RedisLog.from_url(url, prefix=prefix, limits=limits) as log:
        yield log


LOGS: dict[str, Callable[[pytest.FixtureRequest, LogLimits | None], Any]] = {
    "memory": memory_log, "redis": redis_log,
}


@pytest_asyncio.fixture(params=sorted(LOGS))
async def log(request: pytest.FixtureRequest) -> AsyncIterator[GenerationLog]:
    async with LOGS[request.param](request, None) as made:
        yield made


MakeLog = Callable[[LogLimits], Awaitable[GenerationLog]]


@pytest_asyncio.fixture(params=sorted(LOGS))
async def make_log(request: pytest.FixtureRequest) -> AsyncIterator[MakeLog]:
    """Makes logs of one kind with the limits given (closed after the test)."""
    async with contextlib.AsyncExitStack() as stack:
        async def make(limits: LogLimits) -> GenerationLog:
            made: GenerationLog = await stack.enter_async_context(
                LOGS[request.param](request, limits))
            return made

        yield make


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


async def test_memory_log_implements_the_interface() -> None:
    assert isinstance(MemoryLog(), GenerationLog)


async def test_create_is_once_then_join(log: GenerationLog) -> None:
    assert await log.create("g", owner="a")
    assert not await log.create("g", owner="b")
    assert await log.owner("g") == "a"


async def test_append_returns_ids_and_read_resumes_after_one(log: GenerationLog) -> None:
    await log.create("g", owner="a")
    ids = await log.append("g", [b"x", b"y", b"z"])
    assert len(set(ids)) == 3
    assert [e.data for e in await log.read("g")] == [b"x", b"y", b"z"]
    assert [e.data for e in await log.read("g", after=ids[0])] == [b"y", b"z"]
    assert await log.read("g", after=ids[2]) == []


async def test_read_is_paged_by_count(log: GenerationLog) -> None:
    await log.create("g", owner="a")
    await log.append("g", [bytes([n]) for n in range(10)])
    first = await log.read("g", count=4)
    rest = await log.read("g", after=first[-1].id)
    assert [e.data for e in first + rest] == [bytes([n]) for n in range(10)]


async def test_unknown_ids_are_refused(log: GenerationLog) -> None:
    await log.create("g", owner="a")
    await log.append("g", [b"x"])
    for bad in ("nope", "-1", "2", "01", ""):
        with pytest.raises(InvalidEventId):
            await log.read("g", after=bad)
    with pytest.raises(GenerationNotFound):
        await log.read("other")


async def test_blocking_read_wakes_on_append(log: GenerationLog) -> None:
    await log.create("g", owner="a")
    reader = asyncio.create_task(log.read("g", block=30))
    await asyncio.sleep(0)
    assert not reader.done()
    await log.append("g", [b"late"])
    async with asyncio.timeout(5):
        assert [e.data for e in await reader] == [b"late"]


async def test_blocking_read_gives_up_after_block_seconds(log: GenerationLog) -> None:
    await log.create("g", owner="a")
    assert await log.read("g", block=0.01) == []


async def test_end_adds_the_last_entry_and_refuses_more(log: GenerationLog) -> None:
    await log.create("g", owner="a")
    await log.append("g", [b"x"])
    last = await log.end("g", [b"end"], retention=60)
    assert (await log.read("g"))[-1].id == last
    with pytest.raises(Exception, match="ended"):
        await log.append("g", [b"y"])
    # A reader at the end of an ended log does not wait.
    assert await log.read("g", after=last, block=30) == []


async def test_per_generation_bounds_raise_a_typed_error(make_log: MakeLog) -> None:
    log = await make_log(LogLimits(entries_per_generation=3))
    await log.create("g", owner="a")
    await log.append("g", [b"1", b"2", b"3"])
    with pytest.raises(RelayLimitError) as caught:
        await log.append("g", [b"4"])
    assert caught.value.limit == "entries_per_generation"
    # The end is never refused: the partial answer is closed properly, nothing was lost.
    last = await log.end("g", [b"partial", b"end"], retention=60)
    entries = await log.read("g")
    assert [e.data for e in entries] == [b"1", b"2", b"3", b"partial", b"end"]
    assert entries[-1].id == last

    log = await make_log(LogLimits(bytes_per_generation=2 * ENTRY_OVERHEAD + 10))
    await log.create("h", owner="a")
    await log.append("h", [b"12345"])
    with pytest.raises(RelayLimitError, match="bytes") as caught:
        await log.append("h", [b"1234567890"])
    assert caught.value.limit == "bytes_per_generation"
    assert [e.data for e in await log.read("h")] == [b"12345"]  # the refused batch: none of it


async def test_total_bound_evicts_ended_generations_first() -> None:
    clock = Clock()
    log = MemoryLog(LogLimits(bytes_total=3 * (ENTRY_OVERHEAD + 100)), clock=clock)
    await log.create("old", owner="a")
    await log.append("old", [b"x" * 100])
    await log.end("old", [b"x" * 100], retention=600)
    await log.create("new", owner="a")
    await log.append("new", [b"y" * 100])
    await log.append("new", [b"y" * 100])  # needs room: the ended generation goes
    assert await log.ids() == ["new"]
    with pytest.raises(RelayLimitError) as caught:
        await log.append("new", [b"y" * 200])  # nothing left to evict
    assert caught.value.limit == "bytes_total"


async def test_generation_count_bound() -> None:
    log = MemoryLog(LogLimits(generations=1))
    await log.create("a", owner="n")
    with pytest.raises(RelayLimitError) as caught:
        await log.create("b", owner="n")
    assert caught.value.limit == "generations"


async def test_ended_generations_expire_after_retention() -> None:
    clock = Clock()
    log = MemoryLog(clock=clock)
    await log.create("g", owner="a")
    await log.end("g", [b"end"], retention=10)
    clock.now = 9.9
    assert await log.ids() == ["g"]
    clock.now = 10.0
    assert await log.ids() == []
    assert log.size == 0
    with pytest.raises(GenerationNotFound):
        await log.read("g")


async def test_stop_requests_reach_the_owner(log: GenerationLog) -> None:
    await log.create("g", owner="a")
    assert not await log.wait_stop("g", 0.01)
    waiter = asyncio.create_task(log.wait_stop("g", 30))
    await log.request_stop("g")
    async with asyncio.timeout(5):
        assert await waiter


async def test_requests_for_unknown_generations_are_typed(log: GenerationLog) -> None:
    for call in (log.append("nope", [b"x"]), log.end("nope", [b"x"], retention=1),
                 log.request_stop("nope"), log.wait_stop("nope", 0.01),
                 log.set_alias("chat", "nope"),
                 log.end_orphan("nope", [b"x"], after=None, retention=1)):
        with pytest.raises(GenerationNotFound):
            await call
    assert await log.owner("nope") is None
    assert not await log.watched("nope")
    await log.set_watching("nope", "a", True)  # nothing to watch: ignored, not an error
    assert not await log.watched("nope")


async def test_ending_twice_keeps_the_first_end(log: GenerationLog) -> None:
    await log.create("g", owner="a")
    first = await log.end("g", [b"end"], retention=60)
    assert await log.end("g", [b"again"], retention=60) == first
    assert [e.data for e in await log.read("g")] == [b"end"]


async def test_watchers_are_shared_per_node(log: GenerationLog) -> None:
    await log.create("g", owner="a")
    assert not await log.watched("g")
    await log.set_watching("g", "b", True)
    await log.set_watching("g", "c", True)
    assert await log.watched("g")
    await log.set_watching("g", "b", False)
    assert await log.watched("g")
    await log.set_watching("g", "c", False)
    assert not await log.watched("g")


async def test_an_alias_names_a_generation(log: GenerationLog) -> None:
    await log.create("g", owner="a")
    assert await log.alias("chat-1") is None
    await log.set_alias("chat-1", "g")
    assert await log.alias("chat-1") == "g"
    await log.create("h", owner="a")
    await log.set_alias("chat-1", "h")  # the chat's next message
    assert await log.alias("chat-1") == "h"
    for bad in ("", "x" * 257):
        with pytest.raises(ValueError):
            await log.set_alias(bad, "g")


async def test_a_live_owner_is_never_ended_for(log: GenerationLog) -> None:
    await log.create("g", owner="a")
    ids = await log.append("g", [b"x"])
    assert await log.end_orphan("g", [b"end"], after=ids[-1], retention=60) is None
    assert [e.data for e in await log.read("g")] == [b"x"]
    await log.append("g", [b"y"])  # still the owner's to write
