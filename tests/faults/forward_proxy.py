"""A real HTTP forward proxy on 127.0.0.1, for the proxy tests.

It does what corporate proxies do with the two kinds of request a client sends them:

- ``CONNECT host:port`` (for ``https://`` URLs): opens a TCP tunnel and copies bytes both ways;
- an absolute-URI request (``POST http://host:port/path``, for ``http://`` URLs): forwards it
  to the origin in origin form, without the ``Proxy-*`` headers, and relays the answer.

It records every request it receives (``requests``), can demand credentials (``407`` without
the right ``Proxy-Authorization``), or refuse everything with a status. One request per
client connection: the proxy closes after answering.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
from dataclasses import dataclass

from rawsocket import LoopbackServer
from yarl import URL

__all__ = ["ForwardProxy", "ProxiedRequest"]

TIMEOUT = 10.0


@dataclass
class ProxiedRequest:
    method: str
    target: str
    headers: dict[str, str]


class ForwardProxy(LoopbackServer):
    """The proxy; ``user`` and ``password`` make it demand credentials, ``refuse`` answer
    every request with that status."""

    def __init__(self, *, user: str | None = None, password: str | None = None,
                 refuse: int | None = None) -> None:
        super().__init__()
        self.user, self.password, self.refuse = user, password, refuse
        self.requests: list[ProxiedRequest] = []

    @property
    def url(self) -> str:
        """The proxy's URL, with its credentials when it demands some."""
        auth = f"{self.user}:{self.password}@" if self.user is not None else ""
        return f"http://{auth}127.0.0.1:{self.port}"

    def _authorized(self, headers: dict[str, str]) -> bool:
        if self.user is None:
            return True
        token = base64.b64encode(f"{self.user}:{self.password}".encode()).decode()
        return headers.get("proxy-authorization") == f"Basic {token}"

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(TimeoutError, asyncio.IncompleteReadError, ValueError):
            await asyncio.wait_for(self._serve(reader, writer), TIMEOUT)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
        line, *lines = head.split("\r\n")
        method, target, _ = line.split(" ", 2)
        headers = {}
        for header in filter(None, lines):
            name, _, value = header.partition(":")
            headers[name.strip().lower()] = value.strip()
        self.requests.append(ProxiedRequest(method, target, headers))
        if not self._authorized(headers):
            writer.write(b"HTTP/1.1 407 Proxy Authentication Required\r\n"
                         b'Proxy-Authenticate: Basic realm="test"\r\nContent-Length: 0\r\n\r\n')
            return
        if self.refuse is not None:
            writer.write(f"HTTP/1.1 {self.refuse} Refused\r\nContent-Length: 0\r\n\r\n".encode())
            return
        if method == "CONNECT":
            await self._tunnel(target, reader, writer)
        else:
            body = await reader.readexactly(int(headers.get("content-length", "0")))
            await self._forward(method, URL(target), lines, body, writer)

    async def _tunnel(self, target: str, reader: asyncio.StreamReader,
                      writer: asyncio.StreamWriter) -> None:
        host, _, port = target.rpartition(":")
        try:
            up_reader, up_writer = await asyncio.open_connection(host.strip("[]"), int(port))
        except OSError:
            writer.write(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
            return
        writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
        try:
            await asyncio.gather(_copy(reader, up_writer), _copy(up_reader, writer))
        finally:
            up_writer.close()

    async def _forward(self, method: str, url: URL, lines: list[str], body: bytes,
                       writer: asyncio.StreamWriter) -> None:
        assert url.host is not None and url.port is not None
        up_reader, up_writer = await asyncio.open_connection(url.host, url.port)
        kept = [h for h in lines if h and not h.lower().startswith(("proxy-", "connection:"))]
        request = [f"{method} {url.raw_path_qs} HTTP/1.1", *kept, "Connection: close", "", ""]
        up_writer.write("\r\n".join(request).encode("latin-1") + body)
        try:
            await _copy(up_reader, writer)
        finally:
            up_writer.close()


async def _copy(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(ConnectionError):
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
        if writer.can_write_eof():
            writer.write_eof()
