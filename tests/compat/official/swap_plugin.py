"""A pytest plugin that runs the official ``openai`` package's own tests against compat.

Loaded with ``-p swap_plugin`` into a run of the official test files (nothing of theirs is
changed). After collection it rebinds the names ``OpenAI`` / ``AsyncOpenAI`` in every collected
test module and in their ``conftest`` to compat clients, so their fixtures and the clients their
tests build all are compat clients.

Their tests mock HTTP at httpx's transport (``respx2`` routes, ``httpx2.MockTransport``
handlers); compat sends with aiohttp, which those mocks cannot see. So each swapped client
sends to a **bridge**: a real local HTTP server (aiohttp, on its own thread) that turns each
request back into an ``httpx2.Request`` for the original URL and sends it with the client the
test gave (``http_client=...``) or a default ``httpx2`` client, which respx intercepts when a
test's router is active. Compat's requests thus cross a real socket and the core's transport,
and the tests' routes, handlers and assertions see the request compat sent.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import threading
from typing import Any

import httpx2
import pytest
from aiohttp import web

import oxide_rx.compat as compat

_HOP = frozenset({"host", "content-length", "transfer-encoding", "connection", "keep-alive",
                  "content-encoding"})
DEFAULT_BASE_URL = "https://api.openai.com/v1"


class Bridge:
    """The local server compat clients send to; ``register`` gives a client its prefix."""

    def __init__(self) -> None:
        self.targets: dict[str, tuple[Any, str]] = {}
        self.counter = itertools.count()
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()
        self.url = ""
        threading.Thread(target=self._main, name="official-suite-bridge", daemon=True).start()
        if not self.ready.wait(30):
            raise RuntimeError("the bridge server did not start")

    def _main(self) -> None:
        asyncio.set_event_loop(self.loop)
        app = web.Application(client_max_size=1 << 30)
        app.router.add_route("*", "/{token}/{tail:.*}", self._handle)
        runner = web.AppRunner(app, access_log=None)
        self.loop.run_until_complete(runner.setup())
        site = web.TCPSite(runner, "127.0.0.1", 0)
        self.loop.run_until_complete(site.start())
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}"
        self.ready.set()
        self.loop.run_forever()

    def register(self, http_client: Any, base_url: str) -> str:
        token = f"c{next(self.counter)}"
        self.targets[token] = (http_client, base_url.rstrip("/"))
        return f"{self.url}/{token}"

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        target, base = self.targets[request.match_info["token"]]
        tail = request.match_info["tail"]
        url = f"{base}/{tail}" + (f"?{request.query_string}" if request.query_string else "")
        headers = [(k, v) for k, v in request.headers.items() if k.lower() not in _HOP]
        outgoing = httpx2.Request(request.method, url, headers=headers,
                                  content=await request.read())
        try:
            response = await self._send(target, outgoing)
        except Exception:
            # What a broken connection looks like to the client: no answer at all.
            if request.transport is not None:
                request.transport.close()
            return web.Response(status=599)
        body = response.content
        reply = web.Response(status=response.status_code, body=body)
        for name, value in response.headers.multi_items():
            if name.lower() not in _HOP:
                reply.headers.add(name, value)
        return reply

    async def _send(self, target: Any, outgoing: httpx2.Request) -> httpx2.Response:
        if isinstance(target, httpx2.AsyncClient):
            response = await target.send(outgoing)
            await response.aread()
            return response
        client = target if target is not None else httpx2.Client()

        def send() -> httpx2.Response:
            response = client.send(outgoing)
            response.read()
            return response

        return await self.loop.run_in_executor(None, send)


_bridge: Bridge | None = None


def bridge() -> Bridge:
    global _bridge
    if _bridge is None:
        _bridge = Bridge()
    return _bridge


def _bridged(options: dict[str, Any]) -> dict[str, Any]:
    """The options of a swapped client: its base URL now points at the bridge."""
    http_client = options.pop("http_client", None)
    base_url = options.get("base_url")
    if isinstance(base_url, (str, httpx2.URL)) and str(base_url).startswith(bridge().url):
        return options  # a copy() of a swapped client: already bridged
    if not isinstance(base_url, (str, httpx2.URL)):
        base_url = os.environ.get("OPENAI_BASE_URL") or DEFAULT_BASE_URL
    options["base_url"] = bridge().register(http_client, str(base_url))
    return options


class SwappedOpenAI(compat.OpenAI):
    """``oxide_rx.compat.OpenAI`` behind the bridge."""

    def __init__(self, **options: Any) -> None:
        super().__init__(**_bridged(options))


class SwappedAsyncOpenAI(compat.AsyncOpenAI):
    """``oxide_rx.compat.AsyncOpenAI`` behind the bridge."""

    def __init__(self, **options: Any) -> None:
        super().__init__(**_bridged(options))


def _swap(module: Any) -> None:
    if module is None:
        return
    if getattr(module, "OpenAI", None) is not None:
        module.OpenAI = SwappedOpenAI
    if getattr(module, "AsyncOpenAI", None) is not None:
        module.AsyncOpenAI = SwappedAsyncOpenAI


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    import sys

    for name in ("tests.conftest", "tests.lib.snapshots"):
        _swap(sys.modules.get(name))
    for item in items:
        _swap(getattr(item, "module", None))


def pytest_unconfigure(config: pytest.Config) -> None:
    if _bridge is not None:
        with contextlib.suppress(RuntimeError):
            _bridge.loop.call_soon_threadsafe(_bridge.loop.stop)
