"""``oxide-rx serve``: the relay on a port, on the real API or, offline, on the mock server."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from collections.abc import AsyncIterator

from aiohttp import web

import oxide_rx as ox
from oxide_rx.testing import Fault, MockServer, Scenario

from .app import relay_app
from .relay import Relay, RelayPolicy

__all__ = ["serve"]

# Offline answers are paced like a real model's, so the page visibly streams.
OFFLINE_PACE = 0.03


@contextlib.asynccontextmanager
async def _client(base_url: str | None) -> AsyncIterator[ox.OpenAI]:
    base_url = base_url or os.environ.get("OPENAI_BASE_URL")
    if os.environ.get("OPENAI_API_KEY") or base_url:
        overrides = {"base_url": base_url} if base_url else {}
        async with ox.OpenAI.from_env(**overrides) as client:
            yield client
        return
    scenario = Scenario.default(fault=Fault.pace(OFFLINE_PACE))
    async with MockServer(scenario=scenario) as server:
        print(f"oxide-rx: OPENAI_API_KEY is not set; relaying the built-in mock server "
              f"at {server.base_url}", file=sys.stderr, flush=True)
        async with ox.OpenAI(base_url=server.base_url) as client:
            yield client


async def serve(
    host: str = "127.0.0.1",
    port: int = 8080,
    *,
    base_url: str | None = None,
    model: str = "gpt-4o-mini",
    policy: RelayPolicy | None = None,
    redis: str | None = None,
) -> None:
    """Serve the relay until SIGINT or SIGTERM; with ``redis`` (a URL), share generations
    with every node pointed at the same Redis.

    >>> asyncio.run(serve(port=8080))  # doctest: +SKIP
    >>> asyncio.run(serve(port=8081, redis="redis://127.0.0.1:6379/0"))  # doctest: +SKIP
    """
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    async with _client(base_url) as client:
        relay = Relay(client, policy=policy, redis=redis)
        if redis is not None:
            try:
                await relay.log.ids()  # reachable, and the password is right: fail now if not
            except BaseException:
                await relay.aclose()
                raise
            print(f"oxide-rx: sharing generations through Redis at {relay.log!r} "
                  f"as {relay.node}", file=sys.stderr, flush=True)
        runner = web.AppRunner(relay_app(relay, default_model=model), access_log=None,
                               shutdown_timeout=1.0)
        await runner.setup()
        try:
            site = web.TCPSite(runner, host, port)
            await site.start()
            bound = runner.addresses[0][1] if runner.addresses else port
            print(f"oxide_rx relay listening on http://{host}:{bound}/", flush=True)
            while not stop.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), 3600)
        finally:
            await runner.cleanup()
