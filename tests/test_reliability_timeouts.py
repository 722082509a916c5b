"""Deadlines: connect, response headers, idle between events; none on a whole stream (issue 4)."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time
from collections.abc import Iterator
from typing import Any

import pytest

import oxide_rx as ox
from oxide_rx.testing import Fault, MockServer, Scenario

MESSAGES = [{"role": "user", "content": "Say hi."}]


def _client(server: MockServer, **kw: Any) -> ox.OpenAI:
    return ox.OpenAI(base_url=server.base_url, api_key="sk-test", max_retries=0, **kw)


@contextlib.contextmanager
def _unaccepted_port() -> Iterator[int]:
    """A loopback port whose listen queue is full: a new connect never completes.

    The socket listens with a backlog of 0 and is never accepted from; a few raw connects
    fill its queue, after which the kernel drops further SYNs.
    """
    server = socket.socket()
    fillers: list[socket.socket] = []
    try:
        server.bind(("127.0.0.1", 0))
        server.listen(0)
        port = server.getsockname()[1]
        for _ in range(4):
            filler = socket.socket()
            filler.setblocking(False)
            with contextlib.suppress(BlockingIOError):
                filler.connect(("127.0.0.1", port))
            fillers.append(filler)
        yield port
    finally:
        for filler in fillers:
            filler.close()
        server.close()


async def test_connect_timeout_raises_api_timeout_error() -> None:
    with _unaccepted_port() as port:
        await asyncio.sleep(0.05)  # let the fillers' handshakes land in the queue
        client = ox.OpenAI(
            base_url=f"http://127.0.0.1:{port}/v1",
            api_key="sk-test",
            max_retries=0,
            timeout=ox.Timeout(connect=0.2),
        )
        async with client:
            started = time.monotonic()
            with pytest.raises(ox.APITimeoutError):
                await client.chat.completions.create_stream(model="m", messages=MESSAGES)
            elapsed = time.monotonic() - started
    assert 0.15 <= elapsed < 2.0


async def test_connect_timeouts_are_retried() -> None:
    with _unaccepted_port() as port:
        await asyncio.sleep(0.05)
        client = ox.OpenAI(
            base_url=f"http://127.0.0.1:{port}/v1",
            api_key="sk-test",
            max_retries=1,
            timeout=ox.Timeout(connect=0.1),
        )
        async with client:
            with pytest.raises(ox.APITimeoutError) as info:
                await client.chat.completions.create_stream(model="m", messages=MESSAGES)
    assert info.value.retries == 1


async def test_slow_response_headers_raise_api_timeout_error() -> None:
    async with MockServer() as server, _client(server, timeout=ox.Timeout(headers=0.2)) as client:
        server.enqueue(Scenario.text("late", fault=Fault.delay_headers(3.0)))
        started = time.monotonic()
        with pytest.raises(ox.APITimeoutError):
            await client.chat.completions.create_stream(model="m", messages=MESSAGES)
        assert time.monotonic() - started < 2.0


async def test_a_stalled_stream_times_out_keeping_its_partial() -> None:
    async with MockServer() as server, _client(server, timeout=ox.Timeout(idle=0.2)) as client:
        server.enqueue(Scenario.text("abcdefghijkl", fault=Fault.stall_after(3)))
        stream = await client.chat.completions.create_stream(model="m", messages=MESSAGES)
        deltas: list[str] = []
        stream.on(ox.ContentDelta, lambda e: deltas.append(e.delta))
        started = time.monotonic()
        with pytest.raises(ox.APITimeoutError) as info:
            await stream.final_completion()
        assert 0.15 <= time.monotonic() - started < 2.0
        await server.wait_for_disconnects(1, timeout=5)
        await stream.aclose()
    assert deltas
    assert stream.current_content() == "".join(deltas)
    assert info.value.partial.choices[0].message.content == "".join(deltas)


async def test_keepalive_comments_do_not_count_as_progress() -> None:
    async with MockServer() as server, _client(server, timeout=ox.Timeout(idle=0.3)) as client:
        server.enqueue(Scenario.text("never", fault=Fault.keepalive_only(0.05, max_seconds=10)))
        stream = await client.chat.completions.create_stream(model="m", messages=MESSAGES)
        started = time.monotonic()
        with pytest.raises(ox.APITimeoutError):
            await stream.final_completion()
        assert time.monotonic() - started < 3.0
        await server.wait_for_disconnects(1, timeout=5)
        await stream.aclose()


async def test_per_request_idle_timeout_overrides_the_client() -> None:
    async with MockServer() as server, _client(server) as client:
        server.enqueue(Scenario.text("abcdefgh", fault=Fault.stall_after(2)))
        stream = await client.chat.completions.create_stream(
            model="m", messages=MESSAGES, timeout=ox.Timeout(idle=0.2)
        )
        with pytest.raises(ox.APITimeoutError):
            await asyncio.wait_for(stream.final_completion(), 5)
        await stream.aclose()


async def test_per_request_idle_timeout_applies_to_the_responses_api() -> None:
    async with MockServer() as server, _client(server) as client:
        server.enqueue(Scenario.text("abcdefgh", fault=Fault.stall_after(4)))
        stream = await client.responses.create_stream(
            model="m", input="hi", timeout=ox.Timeout(idle=0.2)
        )
        with pytest.raises(ox.APITimeoutError):
            await asyncio.wait_for(stream.final_response(), 5)
        await stream.aclose()


async def test_a_slow_stream_with_events_flowing_has_no_total_deadline() -> None:
    async with MockServer() as server, _client(server, timeout=ox.Timeout(idle=0.4)) as client:
        server.enqueue(Scenario.synthetic(events=8, delta="ab", interval=0.12))
        stream = await client.chat.completions.create_stream(model="m", messages=MESSAGES)
        started = time.monotonic()
        completion = await stream.final_completion()
        elapsed = time.monotonic() - started
    assert elapsed > 0.4  # longer than the idle deadline, yet it completed
    assert completion.choices[0].message.content == "ab" * 8


async def test_a_trickled_stream_longer_than_the_idle_deadline_completes() -> None:
    # One byte per write, 1 ms apart: each ~300-byte event takes ~0.3 s, the body > 1.5 s.
    async with MockServer() as server, _client(server, timeout=ox.Timeout(idle=1.5)) as client:
        server.enqueue(Scenario.text("tick tock tick", fault=Fault.trickle(0.001)))
        stream = await client.chat.completions.create_stream(model="m", messages=MESSAGES)
        started = time.monotonic()
        completion = await asyncio.wait_for(stream.final_completion(), 30)
        elapsed = time.monotonic() - started
    assert completion.choices[0].message.content == "tick tock tick"
    assert elapsed > 1.5


async def test_non_streaming_idle_timeout_raises_api_timeout_error() -> None:
    async with MockServer() as server, _client(server, timeout=ox.Timeout(idle=0.2)) as client:
        server.enqueue(Scenario.text("slow", fault=Fault.stall_after(0)))
        with pytest.raises(ox.APITimeoutError):
            await asyncio.wait_for(client.chat.completions.create(model="m", messages=MESSAGES), 5)


def test_the_default_timeout_has_no_total_deadline() -> None:
    timeout = ox.OpenAI(api_key="sk-test").timeout
    assert timeout.total is None
    assert timeout.idle is not None
    assert timeout.connect is not None
