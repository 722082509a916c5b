"""Limits: event size, unterminated lines and gzip bombs end in typed errors with bounded memory."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from aiohttp import web
from support import ClientFactory, assert_connection_released, rss_mib

import oxide_rx as ox
from oxide_rx.testing import Fault, MockServer, Scenario
from oxide_rx.testing._faults import gzip_bomb_body

MESSAGES = [{"role": "user", "content": "Say hi."}]
MiB = 1024 * 1024
FIRST_CHUNK = (
    b'data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"m",'
    b'"choices":[{"index":0,"delta":{"role":"assistant","content":"Hi"}}]}\n\n'
)


@asynccontextmanager
async def _peak_rss() -> AsyncIterator[list[float]]:
    """Samples VmRSS every few ms; yields [baseline, peak] (peak filled in on exit).

    The sleep paces the sampling: nothing waits on it.
    """
    result = [rss_mib(), 0.0]
    peak = result[0]
    running = True

    async def sample() -> None:
        nonlocal peak
        while running:
            peak = max(peak, rss_mib())
            await asyncio.sleep(0.002)

    sampler = asyncio.create_task(sample())
    try:
        yield result
    finally:
        running = False
        await sampler
        result[1] = max(peak, rss_mib())


async def test_an_event_over_max_event_size_is_an_sse_error(
    server: MockServer, make_client: ClientFactory
) -> None:
    client = make_client(max_retries=0, max_event_size=MiB, max_connections=1)
    server.enqueue(Scenario.text("abcdefgh", fault=Fault.oversized_event(2 * MiB, at=2)))
    stream = await client.chat.completions.create_stream(model="m", messages=MESSAGES)
    with pytest.raises(ox.SSEError, match="max_event_size"):
        await asyncio.wait_for(stream.final_completion(), 10)
    await server.wait_idle(timeout=5)
    await assert_connection_released(server, client)
    await stream.aclose()
    assert stream.current_content() == "abcd"  # what came before the huge event stays


async def test_an_event_under_the_default_limit_is_delivered_whole(
    server: MockServer, make_client: ClientFactory
) -> None:
    server.enqueue(Scenario.text("abcdefgh", fault=Fault.oversized_event(3 * MiB, at=2)))
    client = make_client(max_retries=0)
    stream = await client.chat.completions.create_stream(model="m", messages=MESSAGES)
    completion = await asyncio.wait_for(stream.final_completion(), 10)
    content = completion.choices[0].message.content
    assert content is not None
    assert len(content) > 3 * MiB - 1024
    assert content.startswith("abcdx") and content.endswith("xefgh")


async def test_an_endless_line_is_an_sse_error_at_the_limit(
    server: MockServer, make_client: ClientFactory
) -> None:
    client = make_client(max_retries=0, max_event_size=MiB)
    server.enqueue(Scenario.text("x", fault=Fault.endless_line(8 * MiB)))
    stream = await client.chat.completions.create_stream(model="m", messages=MESSAGES)
    with pytest.raises(ox.SSEError, match="line too long"):
        await asyncio.wait_for(stream.final_completion(), 10)
    await server.wait_for_disconnects(1, timeout=5)
    await stream.aclose()


async def test_an_endless_line_under_the_limit_ends_as_a_truncation(
    server: MockServer, make_client: ClientFactory
) -> None:
    server.enqueue(Scenario.text("x", fault=Fault.endless_line(MiB)))
    client = make_client(max_retries=0)
    stream = await client.chat.completions.create_stream(model="m", messages=MESSAGES)
    with pytest.raises(ox.StreamTruncatedError):
        await asyncio.wait_for(stream.final_completion(), 10)
    await stream.aclose()


async def test_a_gzip_bomb_of_blank_lines_inflates_with_bounded_memory(
    server: MockServer, make_client: ClientFactory
) -> None:
    inflated = 64 * MiB
    server.enqueue(Scenario.text("boom", fault=Fault.gzip_bomb(inflated)))
    client = make_client(max_retries=0)
    stream = await client.chat.completions.create_stream(model="m", messages=MESSAGES)
    async with _peak_rss() as rss:
        with pytest.raises(ox.StreamTruncatedError):
            await asyncio.wait_for(stream.final_completion(), 30)
    await stream.aclose()
    baseline, peak = rss
    growth = peak - baseline
    assert growth < 32, f"RSS grew {growth:.0f} MiB for a {inflated // MiB} MiB body"


@asynccontextmanager
async def _gzip_bomb_server(inflated: int) -> AsyncIterator[str]:
    """A one-route server whose SSE body inflates to one endless ``a`` line.

    The mock's gzip bomb inflates to blank lines (it has no fill option), which no line or
    event limit can trip; this one checks that the limits count *inflated* bytes.
    """
    bomb = gzip_bomb_body(FIRST_CHUNK, inflated, b"a")

    async def handler(request: web.Request) -> web.StreamResponse:
        await request.read()
        response = web.StreamResponse(
            headers={"Content-Type": "text/event-stream", "Content-Encoding": "gzip"}
        )
        await response.prepare(request)
        try:
            for start in range(0, len(bomb), 64 * 1024):
                await response.write(bomb[start : start + 64 * 1024])
            await response.write_eof()
        except ConnectionError:
            pass  # the client gave up, as it should
        return response

    app = web.Application()
    app.router.add_post("/v1/chat/completions", handler)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.25)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}/v1"
    finally:
        await runner.cleanup()


async def test_a_gzip_bomb_trips_the_line_limit_on_inflated_bytes() -> None:
    inflated = 256 * MiB
    async with (
        _gzip_bomb_server(inflated) as base_url,
        ox.OpenAI(base_url=base_url, api_key="test", max_retries=0, max_event_size=MiB) as client,
    ):
        stream = await client.chat.completions.create_stream(model="m", messages=MESSAGES)
        async with _peak_rss() as rss:
            with pytest.raises(ox.SSEError, match="line too long"):
                await asyncio.wait_for(stream.final_completion(), 30)
        await stream.aclose()
    baseline, peak = rss
    assert stream.current_content() == "Hi"
    assert peak - baseline < 32, f"RSS grew {peak - baseline:.0f} MiB for a 256 MiB body"


async def test_a_non_streaming_body_over_max_event_size_is_refused(
    server: MockServer, make_client: ClientFactory
) -> None:
    client = make_client(max_retries=0, max_event_size=MiB)
    server.enqueue(Scenario.text("x" * (2 * MiB)))
    with pytest.raises(ox.APIError, match="larger than the limit"):
        await client.chat.completions.create(model="m", messages=MESSAGES)
