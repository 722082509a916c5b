"""Deadlines: connect, response headers, idle between events; none on a whole stream (issue 4).

These need a real clock (a stalled server is stalled in real time), so the deadlines are short
and real. What is asserted is the error and that it came (each wait has a generous guard that
only a hang reaches), and where it matters that the deadline was not cut short: never an upper
bound on how long it took.
"""

from __future__ import annotations

import asyncio
import contextlib
import select
import socket
import time
from collections.abc import Iterator

import pytest
from support import ClientFactory

import oxide_rx as ox
from oxide_rx.testing import Fault, MockServer, Scenario

MESSAGES = [{"role": "user", "content": "Say hi."}]
HANG = 10
"""Seconds after which a wait counts as hung: far beyond every deadline set here."""


@contextlib.contextmanager
def _unaccepted_port() -> Iterator[int]:
    """A loopback port whose listen queue is full: a new connect never completes.

    The socket listens with a backlog of 0 and is never accepted from; a few raw connects
    fill its queue (one finished handshake is enough), after which the kernel drops further
    SYNs.
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
        _, connected, _ = select.select([], fillers, [], HANG)  # wait for a full queue
        assert connected, "no filler finished its handshake"
        yield port
    finally:
        for filler in fillers:
            filler.close()
        server.close()


async def test_connect_timeout_raises_api_timeout_error() -> None:
    with _unaccepted_port() as port:
        client = ox.OpenAI(
            base_url=f"http://127.0.0.1:{port}/v1",
            api_key="sk-test",
            max_retries=0,
            timeout=ox.Timeout(connect=0.2),
        )
        async with client:
            started = time.monotonic()
            with pytest.raises(ox.APITimeoutError):
                await asyncio.wait_for(
                    client.chat.completions.create_stream(model="m", messages=MESSAGES), HANG
                )
            elapsed = time.monotonic() - started
    assert elapsed >= 0.15  # the deadline was waited out, not cut short


async def test_connect_timeouts_are_retried() -> None:
    with _unaccepted_port() as port:
        client = ox.OpenAI(
            base_url=f"http://127.0.0.1:{port}/v1",
            api_key="sk-test",
            max_retries=1,
            timeout=ox.Timeout(connect=0.1),
        )
        async with client:
            with pytest.raises(ox.APITimeoutError) as info:
                await asyncio.wait_for(
                    client.chat.completions.create_stream(model="m", messages=MESSAGES), HANG
                )
    assert info.value.retries == 1


async def test_slow_response_headers_raise_api_timeout_error(
    server: MockServer, make_client: ClientFactory
) -> None:
    client = make_client(max_retries=0, timeout=ox.Timeout(headers=0.2))
    # Headers 3 s late: a client without the deadline would get them, and no error.
    server.enqueue(Scenario.text("late", fault=Fault.delay_headers(3.0)))
    with pytest.raises(ox.APITimeoutError):
        await asyncio.wait_for(
            client.chat.completions.create_stream(model="m", messages=MESSAGES), HANG
        )
    await server.wait_for_open_connections(0)  # and the client hung up


async def test_a_stalled_stream_times_out_keeping_its_partial(
    server: MockServer, make_client: ClientFactory
) -> None:
    client = make_client(max_retries=0, timeout=ox.Timeout(idle=0.2))
    server.enqueue(Scenario.text("abcdefghijkl", fault=Fault.stall_after(3)))
    stream = await client.chat.completions.create_stream(model="m", messages=MESSAGES)
    deltas: list[str] = []
    stream.on(ox.ContentDelta, lambda e: deltas.append(e.delta))
    started = time.monotonic()
    with pytest.raises(ox.APITimeoutError) as info:
        await asyncio.wait_for(stream.final_completion(), HANG)
    assert time.monotonic() - started >= 0.15  # the idle deadline was waited out
    await server.wait_for_disconnects(1, timeout=5)
    await stream.aclose()
    assert deltas
    assert stream.current_content() == "".join(deltas)
    assert info.value.partial.choices[0].message.content == "".join(deltas)


async def test_keepalive_comments_do_not_count_as_progress(
    server: MockServer, make_client: ClientFactory
) -> None:
    client = make_client(max_retries=0, timeout=ox.Timeout(idle=0.3))
    # Comments for 10 s, then a clean end: counted as progress, they would end in a truncation.
    server.enqueue(Scenario.text("never", fault=Fault.keepalive_only(0.05, max_seconds=10)))
    stream = await client.chat.completions.create_stream(model="m", messages=MESSAGES)
    with pytest.raises(ox.APITimeoutError):
        await asyncio.wait_for(stream.final_completion(), HANG)
    await server.wait_for_disconnects(1, timeout=5)  # cut while the comments still came
    await stream.aclose()


async def test_per_request_idle_timeout_overrides_the_client(
    server: MockServer, make_client: ClientFactory
) -> None:
    client = make_client(max_retries=0)
    server.enqueue(Scenario.text("abcdefgh", fault=Fault.stall_after(2)))
    stream = await client.chat.completions.create_stream(
        model="m", messages=MESSAGES, timeout=ox.Timeout(idle=0.2)
    )
    with pytest.raises(ox.APITimeoutError):
        await asyncio.wait_for(stream.final_completion(), 5)
    await stream.aclose()


async def test_per_request_idle_timeout_applies_to_the_responses_api(
    server: MockServer, make_client: ClientFactory
) -> None:
    client = make_client(max_retries=0)
    server.enqueue(Scenario.text("abcdefgh", fault=Fault.stall_after(4)))
    stream = await client.responses.create_stream(
        model="m", input="hi", timeout=ox.Timeout(idle=0.2)
    )
    with pytest.raises(ox.APITimeoutError):
        await asyncio.wait_for(stream.final_response(), 5)
    await stream.aclose()


async def test_a_slow_stream_with_events_flowing_has_no_total_deadline(
    server: MockServer, make_client: ClientFactory
) -> None:
    client = make_client(max_retries=0, timeout=ox.Timeout(idle=0.4))
    server.enqueue(Scenario.synthetic(events=8, delta="ab", interval=0.12))
    stream = await client.chat.completions.create_stream(model="m", messages=MESSAGES)
    started = time.monotonic()
    completion = await asyncio.wait_for(stream.final_completion(), HANG)
    elapsed = time.monotonic() - started
    assert elapsed > 0.4  # longer than the idle deadline, yet it completed
    assert completion.choices[0].message.content == "ab" * 8


async def test_a_trickled_stream_longer_than_the_idle_deadline_completes(
    server: MockServer, make_client: ClientFactory
) -> None:
    # One byte per write, 1 ms apart: each ~300-byte event takes ~0.3 s, the body > 1.5 s.
    client = make_client(max_retries=0, timeout=ox.Timeout(idle=1.5))
    server.enqueue(Scenario.text("tick tock tick", fault=Fault.trickle(0.001)))
    stream = await client.chat.completions.create_stream(model="m", messages=MESSAGES)
    started = time.monotonic()
    completion = await asyncio.wait_for(stream.final_completion(), 30)
    elapsed = time.monotonic() - started
    assert completion.choices[0].message.content == "tick tock tick"
    assert elapsed > 1.5


async def test_non_streaming_idle_timeout_raises_api_timeout_error(
    server: MockServer, make_client: ClientFactory
) -> None:
    client = make_client(max_retries=0, timeout=ox.Timeout(idle=0.2))
    server.enqueue(Scenario.text("slow", fault=Fault.stall_after(0)))
    with pytest.raises(ox.APITimeoutError):
        await asyncio.wait_for(client.chat.completions.create(model="m", messages=MESSAGES), 5)


def test_the_default_timeout_has_no_total_deadline() -> None:
    timeout = ox.OpenAI(api_key="sk-test").timeout
    assert timeout.total is None
    assert timeout.idle is not None
    assert timeout.connect is not None
