"""Keeping a WebSocket session's connection: open it, reopen it after a recoverable close
(backoff and jitter, ``on_reconnect``), replace it before the server's connection limit, and
hold what waits for it within a byte budget.

:class:`ConnectionKeeper` is the base of :class:`~oxide_rx.ResponsesWebSocket`, which says
what to do with each frame and with a connection's end (``_on_frame``, ``_on_close``) and
whether a response is in flight (``_busy``: no rotation then). A connection the session
closed itself (rotation, an aborted response, a refused request) is reopened at once; one
lost with a recoverable code after a backoff, up to the policy's attempts in a row (a frame
received resets the count); any other code closes the session.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Coroutine, Mapping
from typing import Any

import msgspec

from .._exceptions import APIConnectionError, APIStatusError
from .._transport.requester import Requester
from .._transport.timeouts import Timeout
from .._transport.websocket import (
    ReconnectPolicy,
    WebSocketClosedError,
    WebSocketLimitError,
    WebSocketUsageError,
    is_recoverable_close,
    open_websocket,
)
from .._transport.websocket_link import WebSocketLink

__all__ = ["DEFAULT_HEARTBEAT", "DEFAULT_MAX_MESSAGE_SIZE", "DEFAULT_MAX_QUEUE_SIZE",
           "DEFAULT_ROTATE_AFTER", "ConnectionKeeper"]

log = logging.getLogger("oxide_rx")

DEFAULT_ROTATE_AFTER = 55 * 60.0
DEFAULT_MAX_QUEUE_SIZE = 1024 * 1024
DEFAULT_MAX_MESSAGE_SIZE = 16 * 1024 * 1024
DEFAULT_HEARTBEAT = 20.0
_encode = msgspec.json.Encoder().encode


class ConnectionKeeper:
    """The live connection of a session, and the budgets of what is sent on it."""

    def __init__(
        self,
        requester: Requester,
        *,
        timeout: Timeout,
        extra_headers: Mapping[str, str] | None,
        extra_query: Mapping[str, str] | None,
        reconnect: ReconnectPolicy | None,
        on_reconnect: Callable[[int, float, int], object] | None,
        rotate_after: float | None,
        max_queue_size: int,
        max_message_size: int,
        proxy: str | None,
        heartbeat: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._requester = requester
        self.timeout = timeout
        self.extra_headers: dict[str, str] = dict(extra_headers or {})
        """Headers of the upgrade request (read again at each reconnect)."""
        self.extra_query: dict[str, str] = dict(extra_query or {})
        self.reconnect = reconnect if reconnect is not None else ReconnectPolicy()
        self.on_reconnect = on_reconnect
        """Called before each reconnect attempt as ``on_reconnect(attempt, delay, close_code)``;
        returning ``False`` stops reconnecting (the session closes)."""
        self.rotate_after = rotate_after
        self.max_queue_size = max_queue_size
        self.max_message_size = max_message_size
        self._proxy = proxy
        self._heartbeat = heartbeat
        self._clock = clock
        self._link: WebSocketLink | None = None
        self._generation = 0
        self._lost_code: int | None = None
        self._attempts = 0
        self._expired = False
        self._queued_bytes = 0
        self._connect_lock = asyncio.Lock()
        self._closed = False
        self._over_sse = False
        self._tasks: set[asyncio.Task[Any]] = set()

    # -- what the session defines -------------------------------------------------------

    def _on_frame(self, link: WebSocketLink, frame: bytes) -> None:
        raise NotImplementedError

    def _on_close(self, link: WebSocketLink, code: int) -> None:
        raise NotImplementedError

    def _busy(self) -> bool:
        """A response someone reads is in flight (the connection is not replaced then)."""
        raise NotImplementedError

    # -- the connection -----------------------------------------------------------------

    @property
    def connections(self) -> int:
        """How many WebSocket connections the session opened so far (reconnects included)."""
        return self._generation

    async def ensure_connected(self) -> None:
        """Reconnect now if the connection dropped (per the reconnect policy)."""
        if not self._over_sse:
            await self._live_link(new_turn=False)

    async def send_text(self, text: str) -> None:
        """Send one text frame as it is (see :meth:`send_event`)."""
        link = await self._queue_for_link(len(self._check_text(text)), new_turn=False)
        await link.send(text)

    def check_open(self) -> None:
        if self._closed:
            raise WebSocketClosedError("The WebSocket session is closed.",
                                       close_code=self._lost_code)

    def link_generation(self) -> int:
        return self._generation if self._link is not None else -1

    async def _open_link(self, *, max_retries: int | None) -> WebSocketLink:
        ws = await open_websocket(
            self._requester, self.timeout, extra_headers=self.extra_headers,
            extra_query=self.extra_query, proxy=self._proxy, max_retries=max_retries,
            heartbeat=self._heartbeat)
        self._generation += 1
        self._link = WebSocketLink(ws, generation=self._generation, opened_at=self._clock(),
                                   on_frame=self._on_frame, on_close=self._on_close)
        self._lost_code = None
        self._expired = False
        return self._link

    async def _live_link(self, *, new_turn: bool) -> WebSocketLink:
        async with self._connect_lock:
            self.check_open()
            link = self._link
            if link is not None and not link.closed:
                if not (new_turn and self._should_rotate(link)):
                    return link
                log.debug("rotating the WebSocket connection (open %.0f s)",
                          self._clock() - link.opened_at)
                await link.close()
            elif link is not None:
                # Closing already: its end must be handled (its requests settled) first.
                await link.wait_closed()
            self._link = None
            return await self._reconnect()

    def _should_rotate(self, link: WebSocketLink) -> bool:
        due = self._expired or (self.rotate_after is not None
                                and self._clock() - link.opened_at >= self.rotate_after)
        return due and not self._busy()

    async def _reconnect(self) -> WebSocketLink:
        """A new connection; after a loss, with backoff, up to the policy's attempts."""
        code = self._lost_code
        if code is None:  # we closed it ourselves (rotation, an aborted response)
            return await self._open_link(max_retries=None)
        if not is_recoverable_close(code):
            self._closed = True
            raise WebSocketClosedError(
                f"The WebSocket closed with code {code}, which is not recoverable.",
                close_code=code)
        policy = self.reconnect
        while True:
            attempt = self._attempts + 1
            if attempt > policy.max_retries:
                self._closed = True
                raise WebSocketClosedError(
                    f"The WebSocket closed (code {code}) and {policy.max_retries} reconnects "
                    "failed.", close_code=code)
            self._attempts = attempt
            delay = policy.delay(attempt)
            if self.on_reconnect is not None and self.on_reconnect(attempt, delay, code) is False:
                self._closed = True
                raise WebSocketClosedError("Reconnecting was stopped.", close_code=code)
            await asyncio.sleep(delay)
            self.check_open()
            try:
                return await self._open_link(max_retries=0)
            except APIStatusError as exc:
                if exc.status_code in (401, 403):
                    raise  # the key stopped working: retrying will not help
                log.debug("reconnect attempt %d failed: %s", attempt, type(exc).__name__)
            except APIConnectionError as exc:
                log.debug("reconnect attempt %d failed: %s", attempt, type(exc).__name__)

    async def _queue_for_link(self, size: int, *, new_turn: bool) -> WebSocketLink:
        """The live connection; while there is none, ``size`` bytes count against the queue."""
        link = self._link
        if link is not None and not link.closed and not (new_turn and self._should_rotate(link)):
            return link
        if self._queued_bytes + size > self.max_queue_size:
            raise WebSocketLimitError(
                f"The send queue is full ({self._queued_bytes} + {size} bytes > "
                f"max_queue_size={self.max_queue_size}) while the session reconnects.")
        self._queued_bytes += size
        try:
            return await self._live_link(new_turn=new_turn)
        finally:
            self._queued_bytes -= size

    def _check_size(self, event: Mapping[str, Any]) -> str:
        try:
            text = _encode(event).decode()
        except (TypeError, msgspec.EncodeError) as exc:
            raise WebSocketUsageError(f"The request cannot be sent as JSON: {exc}") from None
        return self._check_text(text)

    def _check_text(self, text: str) -> str:
        if len(text) > self.max_message_size:
            raise WebSocketLimitError(
                f"The message is {len(text)} bytes, over max_message_size="
                f"{self.max_message_size}; nothing was sent.")
        return text

    def _spawn(self, coroutine: Coroutine[Any, Any, Any]) -> None:
        task = asyncio.get_running_loop().create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
