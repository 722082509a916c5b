"""TCP connections as the mock server sees them: accepted, and open right now.

aiohttp has no public hook for a connection's start and end, so the server listens itself
and hands each accepted socket to aiohttp's low-level ``web.Server`` (the protocol factory
aiohttp's own sites pass to ``loop.create_server``), wrapped in a protocol that counts the
connection when the kernel hands it over and again when its socket is gone. Every other
callback goes straight through.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

__all__ = ["ConnectionBook"]


class ConnectionBook:
    """Counts the connections a listening socket accepted and those still open."""

    def __init__(self) -> None:
        self.accepted = 0
        """Connections accepted since the server started."""
        self.open = 0
        """Connections whose socket is still open on the server's side."""

    def counting(self, factory: Callable[[], asyncio.Protocol]) -> Callable[[], asyncio.Protocol]:
        """``factory``'s protocols, each counted by this book."""

        def counted() -> asyncio.Protocol:
            return _CountedProtocol(factory(), self)

        return counted


class _CountedProtocol(asyncio.Protocol):
    """Forwards every protocol callback to ``inner``; books the connection's start and end."""

    __slots__ = ("_book", "_inner")

    def __init__(self, inner: asyncio.Protocol, book: ConnectionBook) -> None:
        self._inner = inner
        self._book = book

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._book.accepted += 1
        self._book.open += 1
        self._inner.connection_made(transport)

    def connection_lost(self, exc: Exception | None) -> None:
        self._book.open -= 1
        self._inner.connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        self._inner.data_received(data)

    def eof_received(self) -> bool | None:
        return self._inner.eof_received()

    def pause_writing(self) -> None:
        self._inner.pause_writing()

    def resume_writing(self) -> None:
        self._inner.resume_writing()
