"""Two relay processes on one real ``redis-server``, both relaying the project's mock server:
any node serves any viewer, resumes by ``Last-Event-ID`` on the other node, stops what the
other node owns; a node killed mid-generation ends its viewers elsewhere with a typed end;
keys expire after the generation ends.

Nodes A and B are ``oxide-rx serve --redis ...`` where the defaults fit, and the app factory
(``tests/relay/relay_node.py``) where a test needs short heartbeats or a short retention.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import aiohttp
import msgspec
import pytest
import pytest_asyncio
from conftest import SECRET
from redis_support import RelayNode, cli_args, node_args, spawn_node
from relay_support import collect, sse_events

from oxide_rx.relay import records
from oxide_rx.relay.orphans import LOST_MESSAGE
from oxide_rx.sse import ServerSentEvent
from oxide_rx.testing import Fault, MockServer, Scenario

pytest.importorskip("redis", reason="the redis package is not installed: pip install -e '.[test]'")
from oxide_rx.relay.redis_log import RedisLog

TEXT = "Streams are hot: one request, many viewers. Each viewer sees every token once. " * 2
REDIS_ID = re.compile(r"\d+-\d+")
# The short timings of the app-factory nodes: a dead owner is noticed within 1.2 s.
FAST = {"heartbeat": 0.2, "owner_timeout": 1.0}


async def eventually(check: Callable[[], Awaitable[bool]], timeout: float = 15.0,
                     what: str = "") -> None:
    """Wait until ``await check()`` holds; ``TimeoutError`` naming ``what`` otherwise."""
    try:
        async with asyncio.timeout(timeout):
            while not await check():
                await asyncio.sleep(0.01)
    except TimeoutError:
        raise TimeoutError(f"not reached within {timeout} s: {what}") from None


@pytest_asyncio.fixture
async def cli_nodes(mock: MockServer, redis_url: str) -> AsyncIterator[tuple[RelayNode, ...]]:
    """Nodes A and B: ``oxide-rx serve --redis URL --port 0 --base-url MOCK``, twice."""
    nodes = await asyncio.gather(*[
        spawn_node(name, cli_args(redis_url, mock.base_url), api_key=SECRET) for name in "ab"])
    try:
        yield tuple(nodes)
    finally:
        await asyncio.gather(*[node.stop() for node in nodes])


@pytest_asyncio.fixture
async def fast_nodes(mock: MockServer, redis_url: str, redis_prefix: str
                     ) -> AsyncIterator[tuple[RelayNode, ...]]:
    """Nodes A and B from the app factory: heartbeat 0.2 s, owner timeout 1 s, retention 2 s."""
    nodes = await asyncio.gather(*[
        spawn_node(name, node_args(redis_url, mock.base_url, name, prefix=redis_prefix,
                                   retention=2.0, **FAST), api_key=SECRET)
        for name in "ab"])
    try:
        yield tuple(nodes)
    finally:
        await asyncio.gather(*[node.stop() for node in nodes])


@pytest_asyncio.fixture
async def redis_log(redis_url: str, redis_prefix: str) -> AsyncIterator[RedisLog]:
    """The fast nodes' log, read from the test (records, keys)."""
    async with RedisLog.from_url(redis_url, prefix=redis_prefix, **FAST) as log:
        yield log


async def start(http: aiohttp.ClientSession, node: RelayNode, prompt: str = "Hi") -> str:
    async with http.post(node.url + "generations", json={"prompt": prompt}) as response:
        assert response.status == 201, await response.text()
        generation_id: str = (await response.json())["id"]
        return generation_id


async def info(http: aiohttp.ClientSession, node: RelayNode, generation_id: str
               ) -> dict[str, Any]:
    async with http.get(f"{node.url}generations/{generation_id}") as response:
        assert response.status == 200, await response.text()
        body: dict[str, Any] = await response.json()
        return body


async def watch(http: aiohttp.ClientSession, node: RelayNode, generation_id: str,
                protocol: str = "events", last_event_id: str | None = None
                ) -> list[ServerSentEvent]:
    headers = {"Last-Event-ID": last_event_id} if last_event_id else {}
    async with http.get(f"{node.url}generations/{generation_id}/{protocol}",
                        headers=headers) as response:
        assert response.status == 200, await response.text()
        return await collect(response)


async def viewers_on(http: aiohttp.ClientSession, node: RelayNode, generation_id: str,
                     n: int) -> None:
    async def check() -> bool:
        return (await info(http, node, generation_id))["viewers"] == n

    await eventually(check, what=f"{n} viewers of {generation_id} on node {node.name}")


def text_of(events: list[ServerSentEvent]) -> str:
    return "".join(msgspec.json.decode(e.data)["delta"] for e in events
                   if e.event == "ContentDelta")


def end_of(events: list[ServerSentEvent]) -> dict[str, Any]:
    ends = [e for e in events if e.event == "end"]
    assert len(ends) == 1 and ends[0] is events[-1]
    end: dict[str, Any] = msgspec.json.decode(ends[0].data)
    return end


async def final_text(log: RedisLog, generation_id: str) -> str:
    """The content of the generation's ``Final`` record (the partial when it stopped)."""
    final = None
    for entry in await log.read(generation_id):
        record = records.decode(entry.data)
        if isinstance(record, records.Final):
            final = msgspec.json.decode(record.data)
    assert final is not None
    content: str = final["choices"][0]["message"]["content"] or ""
    return content


# --- any node serves any viewer ----------------------------------------------------------


async def test_a_viewer_on_b_watches_a_generation_of_a(
    cli_nodes: tuple[RelayNode, ...], mock: MockServer, http: aiohttp.ClientSession
) -> None:
    a, b = cli_nodes
    mock.enqueue(Scenario.text(TEXT, fault=Fault.hold_after(4)))
    generation = await start(http, a)
    await mock.wait_for_held()
    viewer = asyncio.create_task(watch(http, b, generation))
    await viewers_on(http, b, generation, 1)
    mock.release_held()
    events = await viewer
    assert events[0].event == "generation"
    assert text_of(events) == TEXT
    assert end_of(events)["status"] == "completed"
    ids = [e.id for e in events]
    assert all(REDIS_ID.fullmatch(i or "") for i in ids) and len(set(ids)) == len(ids)
    assert len(mock.model_requests()) == 1


async def test_a_viewer_killed_mid_stream_resumes_on_the_other_node_exactly_once(
    cli_nodes: tuple[RelayNode, ...], mock: MockServer, http: aiohttp.ClientSession
) -> None:
    a, b = cli_nodes
    mock.enqueue(Scenario.text(TEXT, fault=Fault.hold_after(8)))
    generation = await start(http, a)
    await mock.wait_for_held()
    seen: list[ServerSentEvent] = []
    # The first viewer reads from A until the held stream, then its connection dies.
    async with aiohttp.ClientSession() as doomed, doomed.get(
        f"{a.url}generations/{generation}/events"
    ) as response:
        async for event in sse_events(response):
            seen.append(event)
            if sum(e.event == "ContentDelta" for e in seen) >= 3:
                break
    resumed = asyncio.create_task(watch(http, b, generation, last_event_id=seen[-1].id))
    await viewers_on(http, b, generation, 1)
    mock.release_held()
    rest = await resumed
    whole = await watch(http, a, generation)  # the whole generation, for reference
    assert [(e.id, e.event, e.data) for e in seen + rest] == [
        (e.id, e.event, e.data) for e in whole]
    assert text_of(seen + rest) == TEXT
    assert end_of(rest)["status"] == "completed"
    assert len(mock.model_requests()) == 1


async def test_a_stop_sent_to_b_cancels_the_upstream_request_of_a(
    cli_nodes: tuple[RelayNode, ...], mock: MockServer, http: aiohttp.ClientSession,
    redis_url: str,
) -> None:
    a, b = cli_nodes
    mock.enqueue(Scenario.text(TEXT, fault=Fault.hold_after(6)))
    generation = await start(http, a)
    await mock.wait_for_held()
    async with http.post(f"{b.url}generations/{generation}/stop") as response:
        assert response.status == 200, await response.text()
        assert (await response.json())["status"] == "stopped"
    await mock.wait_for_disconnects(1)  # A closed its upstream request
    events = await watch(http, b, generation)  # the partial stays readable, anywhere
    assert end_of(events)["status"] == "stopped"
    async with RedisLog.from_url(redis_url) as log:  # the CLI nodes' default prefix
        partial = await final_text(log, generation)
    assert text_of(events) == partial and partial and TEXT.startswith(partial)
    assert partial != TEXT


async def test_use_chat_resumes_on_the_other_node(
    cli_nodes: tuple[RelayNode, ...], mock: MockServer, http: aiohttp.ClientSession
) -> None:
    a, b = cli_nodes
    mock.enqueue(Scenario.text(TEXT, fault=Fault.hold_after(4)))
    body = {"id": "chat-42", "messages": [
        {"id": "m1", "role": "user", "parts": [{"type": "text", "text": "Hi"}]}]}

    async def ui_text(response: aiohttp.ClientResponse) -> str:
        assert response.status == 200, await response.text()
        chunks = [msgspec.json.decode(e.data) for e in await collect(response)
                  if e.data != "[DONE]"]
        assert chunks[-1]["type"] == "finish"
        return "".join(c["delta"] for c in chunks if c["type"] == "text-delta")

    async def post() -> str:
        async with http.post(a.url + "api/chat", json=body) as response:
            return await ui_text(response)

    first = asyncio.create_task(post())
    await mock.wait_for_held()
    resumed = None

    async def resumable() -> bool:  # once node A has named the generation after the chat
        nonlocal resumed
        resumed = await http.get(b.url + "api/chat/chat-42/stream")
        if resumed.status == 204:
            resumed.release()
            return False
        return True

    await eventually(resumable, what="chat-42 resumable on node b")
    assert resumed is not None
    mock.release_held()
    async with resumed:
        assert await ui_text(resumed) == TEXT
    assert await first == TEXT
    async with http.get(b.url + "api/chat/unknown-chat/stream") as nothing:
        assert nothing.status == 204
    assert len(mock.model_requests()) == 1


# --- a node dies -------------------------------------------------------------------------


async def test_node_a_killed_mid_generation_ends_viewers_on_b_with_the_partial(
    fast_nodes: tuple[RelayNode, ...], mock: MockServer, http: aiohttp.ClientSession,
    redis_log: RedisLog,
) -> None:
    a, b = fast_nodes
    mock.enqueue(Scenario.text(TEXT, fault=Fault.hold_after(6)))
    generation = await start(http, a)
    await mock.wait_for_held()
    typed = asyncio.create_task(watch(http, b, generation))
    ui = asyncio.create_task(watch(http, b, generation, "ui"))
    await viewers_on(http, b, generation, 2)
    await a.kill()
    await mock.wait_for_disconnects(1)  # the dead node's upstream request is gone too
    async with asyncio.timeout(30):  # a hang guard: the end comes after ~1.2 s
        events, ui_events = await typed, await ui
    end = end_of(events)
    assert end["status"] == "failed" and end["error_type"] == "OwnerLost"
    assert end["message"] == LOST_MESSAGE
    partial = await final_text(redis_log, generation)
    assert text_of(events) == partial and partial and TEXT.startswith(partial)
    chunks = [msgspec.json.decode(e.data) for e in ui_events if e.data != "[DONE]"]
    assert {"type": "error", "errorText": LOST_MESSAGE} in chunks
    assert "".join(c["delta"] for c in chunks if c["type"] == "text-delta") == partial
    # The end is in the log: a viewer arriving later gets the same one at once.
    assert end_of(await watch(http, b, generation)) == end
    assert (await info(http, b, generation))["status"] == "failed"


async def test_keys_expire_after_the_generation_ends(
    fast_nodes: tuple[RelayNode, ...], mock: MockServer, http: aiohttp.ClientSession,
    redis_log: RedisLog, redis_prefix: str, redis_url: str,
) -> None:
    import redis.asyncio as aioredis

    a, b = fast_nodes
    mock.enqueue(Scenario.text(TEXT, fault=Fault.hold_after(4)))
    generation = await start(http, a)
    await mock.wait_for_held()
    async with aioredis.from_url(redis_url) as redis:
        async def ttls() -> dict[str, int]:
            """PTTL of each key of the generation (-1: never expires), but those gone since
            the scan (-2: an emptied watcher set, deleted by Redis)."""
            keys = [k async for k in redis.scan_iter(match=f"{redis_prefix}{{{generation}}}*")]
            found = {k.decode(): await redis.pttl(k) for k in keys}
            return {k: ttl for k, ttl in found.items() if ttl != -2}

        running = await ttls()
        assert {k.rsplit(":", 1)[1] for k in running} >= {"log", "meta"}
        # Even a running generation's keys expire (after an idle hour): a crash leaks nothing.
        assert all(0 < ttl <= 3_600_000 for ttl in running.values()), running
        viewer = asyncio.create_task(watch(http, b, generation))
        await viewers_on(http, b, generation, 1)
        mock.release_held()
        assert end_of(await viewer)["status"] == "completed"
        ended = await ttls()
        assert {k.rsplit(":", 1)[1] for k in ended} >= {"log", "meta"}
        assert all(0 < ttl <= 2_000 for ttl in ended.values()), ended  # the retention

        async def gone() -> bool:
            return not await ttls()

        await eventually(gone, what="the generation's keys expired")
    async with http.get(f"{b.url}generations/{generation}/events") as response:
        assert response.status == 404
    assert generation not in await redis_log.ids()
