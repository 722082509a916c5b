"""The Responses API over a persistent WebSocket (``wss://.../v1/responses``): the session.

One connection carries many responses; each is a :class:`~oxide_rx.ResponseStream` with the
same operators, helper events, accumulator and lifetime as over SSE (only the feed differs).
The session is what real agent loops need around that connection:

- **It chains by itself.** ``create_stream(input=...)`` continues the last response and sends
  only the new items (see :mod:`oxide_rx._client.websocket_lane` for the policy when the
  server lost the previous response).
- **It survives.** A connection that closes with a recoverable code (1001, 1005, 1006, 1011,
  1012, 1013, 1015) is reopened with exponential backoff and jitter
  (:class:`~oxide_rx.ReconnectPolicy`): between responses transparently, at the next request;
  a response cut mid-stream fails with :class:`~oxide_rx.StreamTruncatedError` (its partial
  response kept) and the next one goes out on a new connection; requests the server had not
  answered yet are sent again there. Any other close code, or spent reconnects, close the
  session (:class:`~oxide_rx.WebSocketClosedError`). Before the server's 60-minute limit
  (``rotate_after``, 55 minutes by default) the session opens a new connection at the next
  response boundary; if the server refuses a request for reaching its limit, the request
  goes out again on a new connection.
- **It notices a dead connection.** After ``heartbeat`` seconds (20) without a frame it
  pings; no pong in half that time is a drop (1006), recovered like any other.
- **It is bounded.** Requests waiting for a connection hold at most ``max_queue_size``
  bytes, one message at most ``max_message_size``; more is a
  :class:`~oxide_rx.WebSocketLimitError` and nothing is sent.
- **Lanes and steering.** ``session.lane("name")`` is another conversation on the same
  connection (``stream_id``; up to 32 named lanes, the server's limit), one response in
  flight per lane; ``steer(input)`` redirects the response streaming on a lane.
- **It falls back.** When the upgrade is refused the way a server without the mode refuses it
  (404, 405, 426, 501, or an answer that is not an upgrade), ``fallback="sse"`` (the
  default) runs the same session's responses over HTTP SSE: same events, same chaining
  (``previous_response_id`` for stored responses, the whole conversation otherwise).
  ``fallback="never"`` raises instead.

Aborting a response (``stream.aclose()``, a cancelled consumer) closes the connection when
nothing else is in flight on it: the protocol has no message to stop one response, and
closing is the only way to stop paying for it. The next request reconnects. With other
lanes busy, the response is abandoned instead (its frames are dropped as they come).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import re
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, Literal, TypedDict, Unpack

import msgspec

from .._core.responses import ResponseAccumulator
from .._exceptions import APIConnectionError, APIStatusError, OxideRxError
from .._resource import AsyncResource
from .._stream.streams import ResponseStream
from .._transport.requester import Requester, RequestOptions
from .._transport.timeouts import Timeout
from .._transport.websocket import (
    ReconnectPolicy,
    WebSocketClosedError,
    WebSocketLimitError,
    WebSocketRefusedError,
    WebSocketUsageError,
    is_recoverable_close,
)
from .._transport.websocket_link import WebSocketLink
from ..types.responses import Response
from .tool_runner import (
    DEFAULT_APPROVAL_TIMEOUT,
    DEFAULT_MAX_ROUNDS,
    DEFAULT_TOOL_TIMEOUT,
    Approve,
    ToolErrorPolicy,
)
from .tool_runs import SessionToolRun
from .websocket_connection import (
    DEFAULT_HEARTBEAT,
    DEFAULT_MAX_MESSAGE_SIZE,
    DEFAULT_MAX_QUEUE_SIZE,
    DEFAULT_ROTATE_AFTER,
    ConnectionKeeper,
)
from .websocket_fallback import NOT_SPOKEN_CLOSES, bridge, means_no_websocket
from .websocket_lane import Lane
from .websocket_turn import Envelope, Turn, within

__all__ = ["ResponsesWebSocket", "SessionOptions"]

log = logging.getLogger("oxide_rx")

MAX_NAMED_LANES = 32
_LANE_NAME = re.compile(r"[A-Za-z0-9_.\-]{1,256}")
_encode = msgspec.json.Encoder().encode
_decode_envelope = msgspec.json.Decoder(Envelope).decode

OpenSSE = Callable[[dict[str, Any], ResponseAccumulator], Awaitable[ResponseStream]]


class SessionOptions(TypedDict, total=False):
    """The session's options (``client.responses.connect(**options)``; defaults and meaning
    on :class:`ResponsesWebSocket`'s constructor and ``connect``'s docstring)."""

    defaults: Mapping[str, Any] | None
    chain: bool
    on_context_lost: Literal["rebuild", "raise"]
    reconnect: ReconnectPolicy | None
    on_reconnect: Callable[[int, float, int], object] | None
    rotate_after: float | None
    max_queue_size: int
    max_message_size: int
    fallback: Literal["sse", "never"]
    proxy: str | None
    heartbeat: float | None
    clock: Callable[[], float]


class ResponsesWebSocket(ConnectionKeeper, AsyncResource):
    """A persistent Responses API session: responses chain by themselves, the connection
    survives drops, lanes run side by side (module docstring: the policies).

    >>> async with await client.responses.connect(defaults={"model": "gpt-5.4-mini"}) as s:
    ...     first = await s.create_stream(input="Pick a city")        # doctest: +SKIP
    ...     print((await first.final_response()).output_text)         # doctest: +SKIP
    ...     second = await s.create_stream(input="Why that one?")     # only the new input
    """

    def __init__(
        self,
        requester: Requester,
        open_sse: OpenSSE,
        *,
        timeout: Timeout,
        extra_headers: Mapping[str, str] | None = None,
        extra_query: Mapping[str, str] | None = None,
        defaults: Mapping[str, Any] | None = None,
        chain: bool = True,
        on_context_lost: Literal["rebuild", "raise"] = "rebuild",
        reconnect: ReconnectPolicy | None = None,
        on_reconnect: Callable[[int, float, int], object] | None = None,
        rotate_after: float | None = DEFAULT_ROTATE_AFTER,
        max_queue_size: int = DEFAULT_MAX_QUEUE_SIZE,
        max_message_size: int = DEFAULT_MAX_MESSAGE_SIZE,
        fallback: Literal["sse", "never"] = "sse",
        proxy: str | None = None,
        heartbeat: float | None = DEFAULT_HEARTBEAT,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(
            requester, timeout=timeout, extra_headers=extra_headers, extra_query=extra_query,
            reconnect=reconnect, on_reconnect=on_reconnect, rotate_after=rotate_after,
            max_queue_size=max_queue_size, max_message_size=max_message_size, proxy=proxy,
            heartbeat=heartbeat, clock=clock)
        self._open_sse = open_sse
        self.idle_timeout = timeout.idle
        self.defaults: Mapping[str, Any] = dict(defaults or {})
        """Parameters sent with every ``response.create`` (``model``, ``tools`` ...) unless
        the call gives its own."""
        self.chain = chain
        self.on_context_lost = on_context_lost
        self.fallback = fallback
        self._steer_waiters: collections.deque[asyncio.Future[tuple[Envelope, bytes]]] = (
            collections.deque())
        self._taps: list[tuple[Callable[[bytes], None], Callable[[int], None] | None]] = []
        self.default = Lane(self, None)
        """The lane of requests without ``stream_id`` (the session's own methods use it)."""
        self._lanes: dict[str | None, Lane] = {None: self.default}

    @classmethod
    async def open(cls, requester: Requester, open_sse: OpenSSE, *, timeout: Timeout,
                   transport: Literal["websocket", "sse"] = "websocket",
                   extra_headers: Mapping[str, str] | None = None,
                   extra_query: Mapping[str, str] | None = None,
                   **options: Unpack[SessionOptions]) -> ResponsesWebSocket:
        """Open a session (a connection, or the SSE fallback): ``client.responses.connect``."""
        session = cls(requester, open_sse, timeout=timeout, extra_headers=extra_headers,
                      extra_query=extra_query, **options)
        if transport == "sse":
            session._over_sse = True
            return session
        try:
            async with session._connect_lock:
                await session._open_link(max_retries=None)
        except (APIStatusError, WebSocketRefusedError) as exc:
            if session.fallback != "sse" or not means_no_websocket(exc):
                raise
            log.info("WebSocket mode refused (%s): the session runs over HTTP SSE",
                     type(exc).__name__)
            session._over_sse = True
        return session

    # -- what users read ----------------------------------------------------------------

    @property
    def closed(self) -> bool:
        """The session was closed (by ``aclose()`` or a close it cannot recover from)."""
        return self._closed

    @property
    def over_sse(self) -> bool:
        """Responses go over HTTP SSE (``transport="sse"`` or the fallback), not a socket."""
        return self._over_sse

    @property
    def response_id(self) -> str | None:
        """The default lane's last completed response: the next one continues it."""
        self.default._settle()
        return self.default.response_id

    @property
    def items(self) -> list[Any]:
        """The default lane's conversation so far (what a rebuild would send)."""
        return self.default.items

    def lane(self, stream_id: str) -> Lane:
        """The lane named ``stream_id`` (created on first use): a conversation of its own on
        this connection, one response in flight at a time, chained by itself.

        >>> a, b = session.lane("planner"), session.lane("coder")  # doctest: +SKIP
        """
        lane = self._lanes.get(stream_id)
        if lane is not None:
            return lane
        if not isinstance(stream_id, str) or not _LANE_NAME.fullmatch(stream_id):
            raise WebSocketUsageError(
                f"a lane name is 1-256 ASCII letters, digits, '_', '-' or '.', not {stream_id!r}")
        if len(self._lanes) - 1 >= MAX_NAMED_LANES:
            raise WebSocketLimitError(
                f"a connection has at most {MAX_NAMED_LANES} named lanes (the API's limit)")
        lane = self._lanes[stream_id] = Lane(self, stream_id)
        return lane

    async def create_stream(self, *, input: Any = None,
                            tool_types: Mapping[str, type[Any]] | None = None,
                            **params: Any) -> ResponseStream:
        """Send ``response.create`` on the default lane and return its stream (same events
        as over SSE); it continues the previous response unless ``previous_response_id`` is
        given. ``stream_id=...`` sends it on that lane instead."""
        stream_id = params.pop("stream_id", None)
        lane = self.default if stream_id is None else self.lane(stream_id)
        return await lane.create_stream(input=input, tool_types=tool_types, **params)

    def run_tools(
        self,
        *,
        tools: Sequence[Any],
        max_rounds: int = DEFAULT_MAX_ROUNDS,
        tool_timeout: float | None = DEFAULT_TOOL_TIMEOUT,
        on_tool_error: ToolErrorPolicy = "report",
        approve: Approve | None = None,
        approval_timeout: float | None = DEFAULT_APPROVAL_TIMEOUT,
        **params: Any,
    ) -> SessionToolRun:
        """Run tools on the default lane (``stream_id=...``: on that lane) until the model
        answers: see :meth:`Lane.run_tools`.

        >>> run = session.run_tools(                                    # doctest: +SKIP
        ...     input="Weather in Paris?", tools=[get_weather])
        >>> run.on(ox.ToolStarted, print)                               # doctest: +SKIP
        >>> answer = await run.final_response()                         # doctest: +SKIP
        """
        stream_id = params.pop("stream_id", None)
        lane = self.default if stream_id is None else self.lane(stream_id)
        return lane.run_tools(tools=tools, max_rounds=max_rounds, tool_timeout=tool_timeout,
                              on_tool_error=on_tool_error, approve=approve,
                              approval_timeout=approval_timeout, **params)

    async def warmup(self, *, input: Any = None, **params: Any) -> Response | None:
        """``generate: false`` on the default lane: see :meth:`Lane.warmup`."""
        return await self.default.warmup(input=input, **params)

    async def steer(self, input: Any) -> ResponseStream:
        """Steer the default lane's response: see :meth:`Lane.steer`."""
        return await self.default.steer(input)

    # -- low level (oxide_rx.compat builds the official surface on these) --------------

    async def send_event(self, event: Mapping[str, Any]) -> None:
        """Send one client event as it is (no routing, no chaining), within the session's
        budgets, reconnecting first if the connection dropped."""
        await self.send_text(_encode(event).decode())

    def tap(self, on_frame: Callable[[bytes], None],
            on_close: Callable[[int], None] | None = None) -> Callable[[], None]:
        """Call ``on_frame(frame)`` for every frame received (before routing) and
        ``on_close(code)`` when a connection ends; returns the function that stops it."""
        entry = (on_frame, on_close)
        self._taps.append(entry)
        return lambda: self._taps.remove(entry) if entry in self._taps else None

    # -- what lanes call ----------------------------------------------------------------

    async def send_turn(self, turn: Turn) -> None:
        assert turn.payload is not None
        turn.sent_on = -1  # ours to send: a connection lost meanwhile does not resend it
        size = len(self._check_size(turn.payload))
        link = await self._queue_for_link(size, new_turn=True)
        await self._send_on(link, turn, raise_limit=True)

    async def _send_on(self, link: WebSocketLink, turn: Turn, *, raise_limit: bool = False) -> None:
        lane = self._lanes.get(turn.payload.get("stream_id") if turn.payload else None)
        payload = lane.payload_to_send(turn) if lane is not None else turn.payload
        assert payload is not None
        try:
            text = self._check_size(payload)  # a rebuilt request carries the conversation
        except WebSocketLimitError as exc:
            if raise_limit:
                raise
            turn.feed.end(exc)
            return
        turn.sent_on = link.generation
        try:
            await link.send(text)
        except APIConnectionError:
            # Not raised: the request goes out again on the next connection (or its stream
            # says why not). If the reader already handled this connection's end, that is
            # up to us; otherwise it will find the request there, unanswered.
            if link is not self._link:
                turn.sent_on = 0
                self._spawn(self._recover())

    def resend_soon(self, turn: Turn) -> None:
        link = self._link
        if link is not None and not link.closed:
            self._spawn(self._send_on(link, turn))

    def expire_link(self) -> None:
        """The server refused a request for the connection's age: once no response streams
        on it, close it; what it refused goes out again on the next connection."""
        self._expired = True
        self.turn_ended()

    def turn_ended(self) -> None:
        link = self._link
        if self._expired and link is not None and not link.closed and not any(
                lane.active_on(link.generation) for lane in self._lanes.values()):
            self._spawn(link.close())

    def abandoned(self) -> None:
        link = self._link
        if link is not None and not any(lane.live() for lane in self._lanes.values()):
            link.abort()

    async def open_sse(self, params: dict[str, Any],
                       accumulator: ResponseAccumulator) -> ResponseStream:
        return await self._open_sse(params, accumulator)

    async def steer_ack(self, message: dict[str, Any]) -> tuple[Envelope, bytes]:
        text = self._check_size(message)
        waiter: asyncio.Future[tuple[Envelope, bytes]] = (
            asyncio.get_running_loop().create_future())
        self._steer_waiters.append(waiter)
        try:
            link = await self._queue_for_link(len(text), new_turn=False)
            await link.send(text)
            answer: tuple[Envelope, bytes] = await within(
                self.timeout.headers, waiter, "The server did not answer response.steer")
            return answer
        finally:
            with contextlib.suppress(ValueError):
                self._steer_waiters.remove(waiter)

    # -- frames in ----------------------------------------------------------------------

    def _busy(self) -> bool:
        return any(lane.live() for lane in self._lanes.values())

    def _on_frame(self, link: WebSocketLink, frame: bytes) -> None:
        for on_frame, _ in self._taps:
            on_frame(frame)
        try:
            envelope = _decode_envelope(frame)
        except msgspec.DecodeError:
            # Not JSON: the responses streaming now fail with a DecodeError (partial kept).
            for each in self._lanes.values():
                each.deliver_undecodable(frame)
            return
        kind = envelope.type
        if kind != "error":
            self._attempts = 0  # progress: the reconnect budget starts over
        if kind.startswith("response.steer."):
            if self._steer_waiters:
                waiter = self._steer_waiters.popleft()
                if not waiter.done():
                    waiter.set_result((envelope, frame))
            return
        lane = self._lanes.get(envelope.stream_id)
        if lane is not None:
            lane.on_frame(envelope, frame)
        else:
            log.debug("dropped a frame for unknown lane %r", envelope.stream_id)

    def _on_close(self, link: WebSocketLink, code: int) -> None:
        for _, on_close in self._taps:
            if on_close is not None:
                on_close(code)
        current = link is self._link
        if current:
            self._link = None
            if not link.closing:
                self._lost_code = code
                log.debug("WebSocket closed with code %d", code)
            if self._speaks_no_websocket(link, code):
                self._fall_back_to_sse(link, code)
                return
        if self._closed:
            resend = False
        elif link.closing:  # rotation, a refused request, an aborted response: not a loss
            resend = True
        else:
            resend = is_recoverable_close(code) and self.reconnect.max_retries > 0
        waiting = [lane.connection_lost(link.generation, code, resend=resend)
                   for lane in self._lanes.values()]
        for waiter in self._steer_waiters:
            if not waiter.done():
                waiter.set_exception(WebSocketClosedError(
                    f"The WebSocket closed (code {code}) before the steer was answered.",
                    close_code=code))
        if any(waiting):
            self._spawn(self._recover())

    def _speaks_no_websocket(self, link: WebSocketLink, code: int) -> bool:
        return (self.fallback == "sse" and not self._closed and not link.closing
                and link.frames == 0 and code in NOT_SPOKEN_CLOSES)

    def _fall_back_to_sse(self, link: WebSocketLink, code: int) -> None:
        """The server took the upgrade, then closed at the first request without a word:
        it does not speak the mode. Requests it never answered go over HTTP SSE, into the
        streams already handed out; every later one too."""
        log.info("WebSocket closed with %d before any event: the session runs over HTTP SSE",
                 code)
        self._over_sse = True
        for lane in self._lanes.values():
            lane.connection_lost(link.generation, code, resend=True)
            for turn in lane.take_waiting():
                options = RequestOptions(self.timeout, None, self.extra_headers,
                                         self.extra_query)
                self._spawn(bridge(self._requester, options, lane.sse_params(turn), turn.feed))

    async def _recover(self) -> None:
        """Send the requests the lost connection never answered on a new one."""
        try:
            link = await self._live_link(new_turn=False)
        except OxideRxError as exc:
            for lane in self._lanes.values():
                lane.fail_waiting(exc)
            return
        for lane in self._lanes.values():
            for turn in lane.waiting_turns():
                await self._send_on(link, turn)

    # -- closing ------------------------------------------------------------------------

    async def aclose(self) -> None:
        """Close the connection and every response still streaming on it; returns at once
        even if the server ignores the close frame (it waits a fraction of a second)."""
        if self._closed and self._link is None and not self._tasks:
            return
        self._closed = True
        streams = [lane.open_streams() for lane in self._lanes.values()]
        for stream in (s for group in streams for s in group):
            await stream.aclose()
        closed = WebSocketClosedError("The WebSocket session was closed.")
        for lane in self._lanes.values():
            lane.close_all(closed)
        for task in list(self._tasks):
            task.cancel()
        link, self._link = self._link, None
        if link is not None:
            await link.close()
        for task in list(self._tasks):
            with contextlib.suppress(BaseException):
                await task

    def __repr__(self) -> str:
        mode = "sse" if self._over_sse else f"connections={self._generation}"
        return f"ResponsesWebSocket({mode}, lanes={len(self._lanes)}, closed={self._closed})"
