"""``client.responses.connect()``: the official connection over the core's WebSocket.

The official manager and connection stay as they are (``send`` / ``recv`` / ``async for``,
handlers, the send queue, ``on_reconnecting``, ``parse_event``); only the socket under them
changes. The core opens it (the requester's pool and proxies; a refused handshake is the
official status error, as for any request) and a core ``WebSocketLink`` reads it. A
:class:`Socket` gives the official code the three calls it makes on a ``websockets``
connection, and ends with ``websockets``' own ``ConnectionClosed``, which drives the official
reconnects. ``websocket_connection_options`` are not used (the core's limits apply). Needs
``websockets`` (``openai[realtime]``), as the official ``connect()`` does.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import httpx2
from openai._websocket_connection import _websocket_connect_options, _websocket_request_options
from openai.resources.responses.responses import AsyncResponsesConnectionManager as _AsyncManager
from openai.resources.responses.responses import ResponsesConnectionManager as _Manager
from websockets.exceptions import ConnectionClosed, ConnectionClosedError, ConnectionClosedOK
from websockets.frames import Close

import oxide_rx as ox

from . import _core
from ._errors import official_error
from ._loop import LoopThread

__all__ = ["AsyncConnectionManager", "ConnectionManager", "Socket"]

log = logging.getLogger("openai.resources.responses.responses")


def _closed(code: int) -> ConnectionClosed:
    rcvd = None if code == 1006 else Close(code, "")  # 1006: no close frame arrived
    return (ConnectionClosedOK if code in (1000, 1001) else ConnectionClosedError)(rcvd, None)


class Socket:
    """The part of a ``websockets`` connection the official one uses, over a core link.

    >>> _closed(1012).rcvd.code, type(_closed(1000)).__name__
    (1012, 'ConnectionClosedOK')
    """

    def __init__(self) -> None:
        self.frames: asyncio.Queue[bytes | int] = asyncio.Queue()  # an int: the close code
        self.link: Any = None

    async def open(self, client: Any, url: httpx2.URL, options: Any) -> Socket:
        target, headers, _ = _websocket_connect_options(client, options, {}, {}, log)
        url = httpx2.URL(target)
        try:
            self.link = await _core.open_link(
                client._requester(), dict(url.params), headers, _core.timeout_of(client.timeout),
                self.frames.put_nowait, self.frames.put_nowait)
        except ox.OxideRxError as exc:
            raise official_error(client, exc, httpx2.Request("GET", url)) from None
        return self

    async def send(self, data: str | bytes) -> None:
        try:
            await self.link.send(data if isinstance(data, str) else data.decode())
        except ox.APIConnectionError:
            raise _closed(self.link.close_code or 1006) from None

    async def recv(self, decode: bool | None = None) -> bytes:
        item = await self.frames.get()
        if isinstance(item, int):
            self.frames.put_nowait(item)  # every later call sees the end too
            raise _closed(item)
        return item

    async def close(self, code: int = 1000, reason: str = "") -> None:
        self.frames.put_nowait(code)  # ends a waiting recv() as this side's close
        await self.link.close(code)


class _SyncSocket:
    """A :class:`Socket` for the blocking connection: each call runs on the loop thread."""

    def __init__(self, socket: Socket, runner: LoopThread) -> None:
        self.socket, self.runner = socket, runner

    def send(self, data: str | bytes) -> None:
        self.runner.run(self.socket.send(data))

    def recv(self, decode: bool | None = None) -> bytes:
        return self.runner.run(self.socket.recv())

    def close(self, code: int = 1000, reason: str = "") -> None:
        self.runner.run(self.socket.close(code))


class AsyncConnectionManager(_AsyncManager):
    """The official manager of ``AsyncOpenAI.responses.connect()``, on the core's socket."""

    async def _connect_ws(self, extra_query: Any, extra_headers: Any) -> Any:
        client = self._AsyncResponsesConnectionManager__client  # type: ignore[attr-defined]
        url = self._prepare_url()
        options = await client._prepare_options(
            _websocket_request_options(client, url, extra_query, extra_headers))
        return await Socket().open(client, url, options)


class ConnectionManager(_Manager):
    """The official manager of ``OpenAI.responses.connect()``, on the core's socket."""

    def _connect_ws(self, extra_query: Any, extra_headers: Any) -> Any:
        client = self._ResponsesConnectionManager__client  # type: ignore[attr-defined]
        url = self._prepare_url()
        options = client._prepare_options(
            _websocket_request_options(client, url, extra_query, extra_headers))

        async def open_socket() -> Socket:
            return await Socket().open(client, url, options)

        return _SyncSocket(client._runner.run(open_socket()), client._runner)
