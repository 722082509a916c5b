"""``client.responses.connect()``: the official WebSocket surface on oxide_rx's session.

The official ``connect()`` (openai 3.60, ``resources/responses/responses.py``) returns a
manager used as ``async with`` / ``with`` (or ``.enter()``), whose connection sends client
events (``connection.response.create(...)``, ``.steer(...)``, ``send``, ``send_raw``) and yields
every server event in order (``async for``, ``recv``, ``recv_bytes``, ``on`` / ``once`` /
``off`` handlers with ``dispatch_events``), as the official ``ResponsesServerEvent`` classes
(:mod:`._websocket_events`). Underneath is the core
:class:`~oxide_rx.ResponsesWebSocket` in its low-level form (no chaining, no rotation, no
fallback: the official connection does none of these): the handshake (no redirects, proxies),
the bounded send queue and reconnects. As officially, reconnecting is on only with
``on_reconnecting``, which may change the query and headers or abort.

Known differences: a refused handshake raises the compat ``APIStatusError`` subclasses
(``AuthenticationError`` ...) where the official raises ``websockets``' ``InvalidStatus``;
``websocket_connection_options`` is accepted and not used (the client's ``max_event_size``
bounds incoming messages); ``close(code=...)`` always closes with 1000; ``recv()`` on a
closed connection raises ``WebSocketConnectionClosedError`` (officially, ``websockets``'
``ConnectionClosed``).
"""

from __future__ import annotations

import asyncio
import collections
import dataclasses
import json
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any, Protocol

import oxide_rx as ox

from ._errors import OpenAIError, Request, translate
from ._websocket_events import server_event

__all__ = ["AsyncResponsesConnection", "AsyncResponsesConnectionManager", "HandlerMethods",
           "HandlerRegistry", "ReconnectingEvent", "Settings", "WebSocketConnectionClosedError",
           "WebSocketQueueFullError"]

Handler = Callable[[Any], Any]


class WebSocketConnectionClosedError(OpenAIError):
    """The connection closed (and will not come back); ``unsent_messages`` were never sent."""

    def __init__(self, message: str, *, unsent_messages: list[str] | None = None) -> None:
        super().__init__(message)
        self.unsent_messages = list(unsent_messages or [])


class WebSocketQueueFullError(OpenAIError):
    """Raised when the outgoing WebSocket message queue exceeds its byte-size limit."""


@dataclasses.dataclass(frozen=True)
class ReconnectingEvent:
    """What ``on_reconnecting`` is told before each attempt (the official dataclass)."""

    attempt: int
    max_attempts: int
    delay: float
    close_code: int
    extra_query: dict[str, str]
    extra_headers: dict[str, str]


class Settings(Protocol):
    """What a compat client's ``responses`` resource knows (``compat/_base.py`` ``Settings``)."""

    core: ox.OpenAI
    timeout: ox.Timeout | None
    headers: dict[str, str]
    query: dict[str, str]


def _encode_event(event: Any) -> str:
    to_dict = getattr(event, "to_dict", None)  # a model: what was set, with the API's keys
    return json.dumps(to_dict() if callable(to_dict) else event)


def _translated(exc: ox.OxideRxError, url: str, text: str | None = None) -> BaseException:
    if isinstance(exc, ox.WebSocketLimitError):
        return WebSocketQueueFullError(str(exc))
    if isinstance(exc, ox.WebSocketClosedError):
        unsent = [text] if text is not None else exc.unsent
        return WebSocketConnectionClosedError(str(exc), unsent_messages=unsent)
    return translate(exc, Request("GET", url))


class HandlerRegistry:
    """``on`` / ``once`` / ``off`` registrations, by event type (``"event"``: every event)."""

    def __init__(self) -> None:
        self.by_type: dict[str, list[tuple[Handler, bool]]] = collections.defaultdict(list)

    def add(self, event_type: str, handler: Handler, *, once: bool = False) -> None:
        self.by_type[event_type].append((handler, once))

    def remove(self, event_type: str, handler: Handler) -> None:
        entries = self.by_type.get(event_type, [])
        for index, (registered, _) in enumerate(entries):
            if registered is handler:
                del entries[index]
                return

    def take(self, event_type: str) -> list[Handler]:
        entries = self.by_type.get(event_type, [])
        self.by_type[event_type] = [entry for entry in entries if not entry[1]]
        return [handler for handler, _ in entries]

    def has(self, event_type: str) -> bool:
        return bool(self.by_type.get(event_type))

    def due(self, event: Any) -> list[Handler]:
        """The handlers to call for ``event``, its type's first; an ``error`` event nobody
        handles raises ``OpenAIError`` (as officially)."""
        kind = event.type
        if kind == "error" and not self.has("error") and not self.has("event"):
            raise OpenAIError(f"WebSocket error: {event}")
        return [*self.take(kind), *self.take("event")]


class HandlerMethods:
    """``on`` / ``once`` / ``off``, as methods (chainable) or decorators."""

    def _registry(self) -> HandlerRegistry:
        raise NotImplementedError

    def on(self, event_type: str, handler: Handler | None = None) -> Any:
        """Add ``handler`` for ``event_type`` (``"event"``: every event)."""
        return self._register(event_type, handler, once=False)

    def once(self, event_type: str, handler: Handler | None = None) -> Any:
        """Like :meth:`on`, removed after its first call."""
        return self._register(event_type, handler, once=True)

    def off(self, event_type: str, handler: Handler) -> Any:
        self._registry().remove(event_type, handler)
        return self

    def _register(self, event_type: str, handler: Handler | None, *, once: bool) -> Any:
        handlers = self._registry()
        if handler is not None:
            handlers.add(event_type, handler, once=once)
            return self

        def decorator(fn: Handler) -> Handler:
            handlers.add(event_type, fn, once=once)
            return fn

        return decorator


class AsyncResponsesResponseResource:
    """``connection.response``: ``create`` and ``steer`` client events."""

    def __init__(self, connection: AsyncResponsesConnection) -> None:
        self._connection = connection

    async def create(self, **params: Any) -> None:
        """Send ``response.create`` (``stream`` is implicit; ``stream_id`` picks a lane)."""
        await self._connection.send({"type": "response.create", **_given(params)})

    async def steer(self, *, input: Any, previous_response_id: str) -> None:
        """Send ``response.steer``: queue ``input`` into the response streaming now."""
        await self._connection.send({"type": "response.steer", "input": input,
                                     "previous_response_id": previous_response_id})


def _given(params: Mapping[str, Any]) -> dict[str, Any]:
    """Parameters without the official "not given" sentinels (``omit`` / ``NOT_GIVEN``)."""
    return {k: v for k, v in params.items() if type(v).__name__ not in ("NotGiven", "Omit")}


class AsyncResponsesConnection(HandlerMethods):
    """A live WebSocket connection to the Responses API (the official class of that name)."""

    def __init__(self, session: ox.ResponsesWebSocket, url: str, *, reconnects: bool) -> None:
        self._session = session
        self._url = url
        self._reconnects = reconnects
        self._frames: collections.deque[bytes] = collections.deque()
        self._closed_code: int | None = None
        self._closed_by_us = False
        self._waiter: asyncio.Future[None] | None = None
        self._handlers = HandlerRegistry()
        self.response = AsyncResponsesResponseResource(self)
        session.tap(self._on_frame, self._on_close)

    def _on_frame(self, frame: bytes) -> None:
        self._frames.append(frame)
        self._wake()

    def _on_close(self, code: int) -> None:
        self._closed_code = code
        self._wake()

    def _wake(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    async def recv_bytes(self) -> bytes:
        """The next server message, as bytes (cancelling the wait loses nothing). A closed
        connection raises; iterating is what reconnects (as officially)."""
        while True:
            if self._frames:
                return self._frames.popleft()
            if self._closed_code is not None or self._closed_by_us:
                raise WebSocketConnectionClosedError(
                    f"The WebSocket connection closed (code {self._closed_code}).")
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None

    async def recv(self) -> Any:
        """The next server event, as the official ``ResponsesServerEvent`` type."""
        return self.parse_event(await self.recv_bytes())

    def parse_event(self, data: str | bytes) -> Any:
        """A raw server message as the official event object."""
        return server_event(data)

    async def __aiter__(self) -> AsyncIterator[Any]:
        """Every event until the connection closes: with ``on_reconnecting``, a recoverable
        close reconnects and the iteration goes on; a normal close ends it."""
        while True:
            try:
                yield await self.recv()
            except WebSocketConnectionClosedError:
                if not await self._reconnected():
                    if self._closed_by_us or self._closed_code == 1000:
                        return
                    raise

    async def _reconnected(self) -> bool:
        if self._closed_by_us or not self._reconnects:
            return False
        code, self._closed_code = self._closed_code, None
        try:  # the session reconnects if the code allows (else it closes)
            await self._session.ensure_connected()
        except ox.WebSocketClosedError:
            self._closed_code = code
            return False
        except ox.OxideRxError as exc:
            raise _translated(exc, self._url) from None
        return True

    async def send(self, event: Any) -> None:
        """Send a client event (a dict, or an official client event model)."""
        await self.send_raw(_encode_event(event))

    async def send_raw(self, data: bytes | str) -> None:
        text = data.decode() if isinstance(data, bytes) else data
        try:
            await self._session.send_text(text)
        except ox.OxideRxError as exc:
            raise _translated(exc, self._url, text) from None

    async def close(self, *, code: int = 1000, reason: str = "") -> None:
        self._closed_by_us = True
        await self._session.aclose()
        self._wake()

    def _registry(self) -> HandlerRegistry:
        return self._handlers

    async def dispatch_events(self) -> None:
        """Call the handlers for every event until the connection closes; an ``error`` event
        nobody handles raises ``OpenAIError``."""
        async for event in self:
            for handler in self._handlers.due(event):
                result = handler(event)
                if asyncio.iscoroutine(result):
                    await result


class AsyncResponsesConnectionManager(HandlerMethods):
    """``async with client.responses.connect(...) as connection:`` (or ``await .enter()``)."""

    def __init__(
        self,
        settings: Settings,
        *,
        extra_query: Mapping[str, str] | None = None,
        extra_headers: Mapping[str, str] | None = None,
        websocket_connection_options: Mapping[str, Any] | None = None,
        on_reconnecting: Callable[[Any], Any] | None = None,
        max_retries: int = 5,
        initial_delay: float = 0.5,
        max_delay: float = 8.0,
        max_queue_size: int = 1_048_576,
    ) -> None:
        self._settings = settings
        self._extra_query = dict(extra_query or {})
        self._extra_headers = dict(extra_headers or {})
        self._on_reconnecting = on_reconnecting
        self._policy = ox.ReconnectPolicy(
            max_retries if on_reconnecting is not None else 0, initial_delay, max_delay)
        self._max_queue_size = max_queue_size
        self._queued: list[str] = []
        self._handlers = HandlerRegistry()
        self._connection: AsyncResponsesConnection | None = None

    def send(self, event: Any) -> None:
        """Queue a client event, sent as soon as the connection opens."""
        text = _encode_event(event)
        if sum(map(len, self._queued)) + len(text) > self._max_queue_size:
            raise WebSocketQueueFullError("send queue is full, message discarded")
        self._queued.append(text)

    def _registry(self) -> HandlerRegistry:
        return self._handlers

    async def __aenter__(self) -> AsyncResponsesConnection:
        settings = self._settings
        url = f"{settings.core.base_url}/responses"
        holder: list[ox.ResponsesWebSocket] = []
        before = getattr(settings, "before", None)
        if before is not None:
            await before()  # the async client arms its closer with its first request
        try:
            session = await settings.core.responses.connect(
                chain=False, rotate_after=None, fallback="never", reconnect=self._policy,
                on_reconnect=lambda attempt, delay, code: self._reconnecting(
                    holder, attempt, delay, code),
                max_queue_size=self._max_queue_size, timeout=settings.timeout,
                extra_headers={**settings.headers, **self._extra_headers},
                extra_query={**settings.query, **self._extra_query},
            )
        except ox.OxideRxError as exc:
            raise _translated(exc, url) from None
        holder.append(session)
        connection = AsyncResponsesConnection(
            session, url, reconnects=self._on_reconnecting is not None)
        for event_type, entries in self._handlers.by_type.items():
            for handler, once in entries:
                connection._handlers.add(event_type, handler, once=once)
        queued, self._queued = self._queued, []
        for text in queued:
            await connection.send_raw(text)
        self._connection = connection
        return connection

    enter = __aenter__

    def _reconnecting(self, holder: list[ox.ResponsesWebSocket], attempt: int, delay: float,
                      code: int) -> bool:
        """The official ``on_reconnecting`` hook: it may abort, or change query and headers."""
        assert self._on_reconnecting is not None and holder
        session = holder[0]
        event = ReconnectingEvent(attempt=attempt, max_attempts=self._policy.max_retries,
                                  delay=delay, close_code=code,
                                  extra_query=dict(session.extra_query),
                                  extra_headers=dict(session.extra_headers))
        try:
            overrides = self._on_reconnecting(event)
        except Exception:
            return False
        if overrides:
            if overrides.get("abort"):
                return False
            if "extra_query" in overrides:
                session.extra_query = dict(overrides["extra_query"])
            if "extra_headers" in overrides:
                session.extra_headers = dict(overrides["extra_headers"])
        return True

    async def __aexit__(self, *exc_info: object) -> None:
        if self._connection is not None:
            await self._connection.close()
            self._connection = None
