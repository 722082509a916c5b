"""A small round-robin reverse proxy (aiohttp) for putting relay nodes behind one address.

Each request goes to the next backend in turn, counted per kind of request (the last path
segment: ``events``, ``generations``, ``app.js`` ...), so a test knows that the second
``/events`` request lands on the other node whatever else the browser fetched. Bodies are
streamed both ways unchanged; a client that leaves cancels its handler (aiohttp's
``handler_cancellation``), which closes the upstream connection, as a real proxy would.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Iterator

import aiohttp
from aiohttp import web

__all__ = ["RoundRobinProxy"]

# Headers of one hop, not of the message (RFC 9110 §7.6.1), plus what aiohttp sets itself.
HOP = frozenset({"connection", "keep-alive", "proxy-connection", "te", "trailer",
                 "transfer-encoding", "upgrade", "host", "content-length"})


class RoundRobinProxy:
    """``async with RoundRobinProxy([url_a, url_b]) as proxy:`` serves on ``proxy.url``."""

    def __init__(self, backends: list[str]) -> None:
        self.backends = [b.rstrip("/") for b in backends]
        self.routed: list[tuple[str, str]] = []
        """(path, backend) of every request, in order."""
        self._turns: defaultdict[str, Iterator[str]] = defaultdict(
            lambda: itertools.cycle(self.backends))
        self._session: aiohttp.ClientSession | None = None
        self._runner: web.AppRunner | None = None
        self.url = ""

    async def __aenter__(self) -> RoundRobinProxy:
        self._session = aiohttp.ClientSession(
            auto_decompress=False, timeout=aiohttp.ClientTimeout(total=None, connect=10))
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._forward)
        self._runner = web.AppRunner(app, access_log=None, handler_cancellation=True,
                                     shutdown_timeout=0.5)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self.url = f"http://127.0.0.1:{self._runner.addresses[0][1]}/"
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
        if self._session is not None:
            await self._session.close()

    def backend_of(self, kind: str) -> list[str]:
        """The backends that served requests whose path ends with ``kind``, in order."""
        return [backend for path, backend in self.routed
                if path.rstrip("/").rsplit("/", 1)[-1] == kind]

    async def _forward(self, request: web.Request) -> web.StreamResponse:
        assert self._session is not None
        kind = request.path.rstrip("/").rsplit("/", 1)[-1]
        backend = next(self._turns[kind])
        self.routed.append((request.path, backend))
        headers = {k: v for k, v in request.headers.items() if k.lower() not in HOP}
        async with self._session.request(
            request.method, backend + request.path_qs, headers=headers,
            data=await request.read(), allow_redirects=False,
        ) as upstream:
            response = web.StreamResponse(status=upstream.status, headers={
                k: v for k, v in upstream.headers.items() if k.lower() not in HOP})
            await response.prepare(request)
            async for chunk in upstream.content.iter_any():
                await response.write(chunk)
            await response.write_eof()
            return response
