"""One open WebSocket connection (:class:`WebSocketLink`) and the frames of one response on it
(:class:`WebSocketFeed`).

A link runs one reader task for the connection's whole life. Each text frame goes, as bytes,
to the owner's ``on_frame`` (the session routes it to a response by lane); the end of the
connection goes once to ``on_close`` with its close code. Frames the socket delivered
together are routed before the reader waits again, and a feed hands every frame buffered
since its consumer last looked over as one batch: one wake-up per network read, as over SSE.

Closing never waits long for a server: the close frame is sent and the server's answer is
awaited :data:`~oxide_rx._transport.websocket.CLOSE_GRACE_SECONDS` at most, in all (aiohttp
alone waits up to 10 s for each frame that arrives meanwhile, so a chatty server that
ignores the close frame would hold it forever).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncGenerator, Callable, Mapping

import aiohttp

from .._exceptions import APIConnectionError
from .errors import connection_error
from .websocket import CLOSE_GRACE_SECONDS, close_code_of

__all__ = ["WebSocketFeed", "WebSocketLink"]

log = logging.getLogger("oxide_rx")

_TEXT = aiohttp.WSMsgType.TEXT
_BINARY = aiohttp.WSMsgType.BINARY


class WebSocketLink:
    """An open connection: frames in through ``on_frame``, one ``on_close(code)`` at the end.

    ``generation`` numbers the session's connections (1, 2, ...); ``opened_at`` is when it
    opened, on the session's clock (rotation compares it with the connection limit).
    """

    def __init__(
        self,
        ws: aiohttp.ClientWebSocketResponse,
        *,
        generation: int,
        opened_at: float,
        on_frame: Callable[[WebSocketLink, bytes], None],
        on_close: Callable[[WebSocketLink, int], None],
    ) -> None:
        self._ws = ws
        self.generation = generation
        self.opened_at = opened_at
        self.close_code: int | None = None
        self.frames = 0
        """Frames received so far (none at all, then a close: the server does not speak the
        protocol)."""
        self.closing = False
        """Set when this side decided to close (``close()``): not a loss to recover from."""
        self._on_frame = on_frame
        self._on_close = on_close
        self._closer: asyncio.Task[None] | None = None
        self._reader = asyncio.get_running_loop().create_task(self._read())

    @property
    def closed(self) -> bool:
        return self.close_code is not None or self.closing

    async def send(self, text: str) -> None:
        """Write one text frame; a broken connection is an :class:`APIConnectionError`."""
        if self.closed:
            raise APIConnectionError("The WebSocket connection is closed.")
        failure: APIConnectionError | None = None
        try:
            await self._ws.send_str(text)
        except (aiohttp.ClientError, OSError, ConnectionError, RuntimeError) as exc:
            failure = connection_error(exc)
        if failure is not None:
            raise failure

    async def close(self, code: int = 1000) -> None:
        """Send a close frame and close the socket; waits for the reader to finish."""
        self.closing = True
        await _close_within_grace(self._ws, code)
        await asyncio.shield(self._reader)

    async def wait_closed(self) -> None:
        """Wait until the reader has finished (``on_close`` has run)."""
        await asyncio.shield(self._reader)

    def abort(self) -> None:
        """Close without a handshake, from synchronous code (the reader ends the link)."""
        self.closing = True
        if not self._reader.done() and self._closer is None:
            self._closer = asyncio.get_running_loop().create_task(_close_within_grace(self._ws))

    async def _read(self) -> None:
        ws = self._ws
        on_frame = self._on_frame
        last: aiohttp.WSMessage | None = None
        try:
            while True:
                message = await ws.receive()
                kind = message.type
                if kind is _TEXT:
                    self.frames += 1
                    on_frame(self, message.data.encode())
                elif kind is _BINARY:
                    self.frames += 1
                    on_frame(self, message.data)
                elif kind in (aiohttp.WSMsgType.PING, aiohttp.WSMsgType.PONG):
                    continue
                else:
                    last = message
                    break
        except Exception as exc:  # a routing bug must not leave the session waiting forever
            log.exception("WebSocket reader failed: %s", type(exc).__name__)
        finally:
            error = last.data if last is not None and last.type is aiohttp.WSMsgType.ERROR else None
            code = close_code_of(last, error if isinstance(error, BaseException) else None)
            if last is None or last.type in (aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.CLOSING):
                code = ws.close_code or code
            self.close_code = code
            await _close_within_grace(ws)
            self._on_close(self, code)


async def _close_within_grace(ws: aiohttp.ClientWebSocketResponse, code: int = 1000) -> None:
    """Close ``ws``, waiting for the server's answer no longer than the grace in all."""
    with contextlib.suppress(Exception):
        async with asyncio.timeout(CLOSE_GRACE_SECONDS):
            # Cancelled by the timeout, aiohttp closes the transport itself.
            await ws.close(code=code)


class WebSocketFeed:
    """The frames of one response, pushed by the session's router, read by the stream.

    A :class:`~oxide_rx._transport.feed.Feed`: iterating yields every frame buffered since the
    last batch. :meth:`end` stops it with an error (the connection dropped: the stream fails
    with that error and its partial response) or cleanly (the stream then says it ended
    before a terminal event). The stream calls ``on_abort`` when it ends before its response
    did (closed, failed to decode, idle); after :meth:`discard` frames are dropped.
    """

    headers: Mapping[str, str] = {}

    __slots__ = ("_end", "_frames", "_waiter", "discarding", "on_abort")

    def __init__(self) -> None:
        self._frames: list[bytes] = []
        self._waiter: asyncio.Future[None] | None = None
        self._end: BaseException | bool = False
        self.discarding = False
        self.on_abort: Callable[[], None] = _nothing

    def push(self, frame: bytes) -> None:
        if self.discarding or self._end is not False:
            return
        self._frames.append(frame)
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def end(self, error: BaseException | None = None) -> None:
        """No more frames: fail the stream with ``error``, or end it (``None``)."""
        if self._end is False:
            self._end = error if error is not None else True
            waiter = self._waiter
            if waiter is not None and not waiter.done():
                waiter.set_result(None)

    def discard(self) -> None:
        """Drop every frame from now on."""
        self.discarding = True
        self._frames.clear()

    async def __aiter__(self) -> AsyncGenerator[list[bytes], None]:
        loop = asyncio.get_running_loop()
        while True:
            if self._frames:
                batch, self._frames = self._frames, []
                yield batch
                continue
            end = self._end
            if isinstance(end, BaseException):
                raise end
            if end is True:
                return
            self._waiter = loop.create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None

    async def finish(self) -> None:
        """The response ended: the connection stays open for the next one."""

    def abort(self) -> None:
        self.on_abort()


def _nothing() -> None:
    return None
