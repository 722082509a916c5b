"""Helpers for the relay tests: a relay app on a free loopback port, SSE reading, skips."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from oxide_rx.relay import Relay
from oxide_rx.relay.app import relay_app
from oxide_rx.sse import ServerSentEvent, SSEDecoder

HERE = Path(__file__).resolve().parent
NODE_DIR = HERE / "node"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@dataclass
class RelayServer:
    """The relay app served on 127.0.0.1 (a real socket)."""

    relay: Relay
    url: str
    """``http://127.0.0.1:<port>/`` (the app's root)."""


async def serve_relay(relay: Relay, *, prefix: str = "") -> tuple[web.AppRunner, str]:
    """Serve ``relay_app(relay)`` on a free port, mounted under ``prefix`` if given."""
    app = relay_app(relay)
    if prefix:
        root = web.Application()
        root.add_subapp(prefix, app)
        app = root
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    return runner, f"http://127.0.0.1:{port}{prefix or '/'}"


async def sse_events(
    response: aiohttp.ClientResponse, *, until: Callable[[ServerSentEvent], bool] | None = None
) -> AsyncIterator[ServerSentEvent]:
    """The server-sent events of a response body, parsed by oxide_rx's WHATWG decoder."""
    decoder = SSEDecoder()
    async for chunk in response.content.iter_any():
        for event in decoder.feed(chunk):
            yield event
            if until is not None and until(event):
                return
    for event in decoder.finish():
        yield event


async def collect(response: aiohttp.ClientResponse) -> list[ServerSentEvent]:
    return [event async for event in sse_events(response)]


async def wait_for(predicate: Callable[[], bool], timeout: float = 5.0) -> None:
    """Wait until ``predicate()`` holds (checked every few ms); ``TimeoutError`` otherwise."""
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.005)


NODE = shutil.which("node")


def node_ready() -> str | None:
    """Why the Node tests cannot run here, or None when they can."""
    if NODE is None:
        return "node is not installed (CI installs it)"
    if not (NODE_DIR / "node_modules" / "openai").is_dir():
        return f"npm packages are not installed: run `npm ci` in {NODE_DIR} (CI does)"
    return None


async def run_node(
    script: str, *args: str, timeout: float = 60.0, env: dict[str, str] | None = None
) -> Any:
    """Run ``tests/relay/node/<script>`` with node; its stdout's JSON."""
    assert NODE is not None
    environment = {k: v for k, v in os.environ.items() if not k.startswith("OPENAI_")}
    process = await asyncio.create_subprocess_exec(
        NODE, str(NODE_DIR / script), *args, cwd=NODE_DIR, env={**environment, **(env or {})},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    try:
        async with asyncio.timeout(timeout):
            stdout, stderr = await process.communicate()
    except TimeoutError:
        process.kill()
        await process.wait()
        raise
    assert process.returncode == 0, stderr.decode()[-3000:]
    return json.loads(stdout)
