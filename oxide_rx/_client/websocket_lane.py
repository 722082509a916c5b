"""One lane of a WebSocket session: its conversation, the responses it sent, their frames.

A lane (``stream_id``; the default lane has none) is one conversation with one response in
flight at a time, as the API runs each lane FIFO. It does three jobs:

- **Chaining.** The lane keeps the conversation: every input item it sent and every output
  item of every response that ended ``completed`` or ``incomplete`` (from the server's own
  terminal event). ``create_stream(input=...)`` continues from the last such response with
  ``previous_response_id`` and sends only the new items. When that id cannot be used — the
  server answers ``previous_response_not_found`` (a reconnect lost its connection-local cache,
  a ``store=False`` chain, a server that forgot), or the chain was ``store=False`` and the
  connection changed since — the lane sends the whole conversation instead, without
  ``previous_response_id``, once (``on_context_lost="rebuild"``, the default); with
  ``on_context_lost="raise"``, or with nothing kept to rebuild from (a chain you started by
  hand), the stream fails with :class:`ContextLostError`. A response that failed or was
  closed early does not move the chain: its input is not kept.
- **Routing.** The server answers a lane's requests in order, so the lane's frames go to its
  oldest response still open. A response opens at the first lifecycle event (``created``,
  ``queued``, ``in_progress``) of a response id not seen before, and closes at its terminal
  event or an ``error``: a stray frame after ``response.completed`` is dropped, never taken
  for the next response. An ``error`` answering a request before it opened is that
  request's failure (or, for ``previous_response_not_found``, the cue to rebuild).
- **Steering.** :meth:`Lane.steer` sends ``response.steer`` for the response streaming now
  and returns the stream of the successor the server starts with the new input.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

import msgspec

from .._core.responses import ResponseAccumulator
from .._core.schema import apply_text_format
from .._core.tools import prepare_tools
from .._exceptions import StreamTruncatedError
from .._stream.streams import ResponseStream
from .._transport.timeouts import Timeout
from .._transport.websocket import (
    MESSAGE_TOO_BIG,
    WebSocketClosedError,
    WebSocketLimitError,
    WebSocketUsageError,
)
from .._transport.websocket_link import WebSocketFeed
from ..types.responses import Response
from .tool_runner import (
    DEFAULT_APPROVAL_TIMEOUT,
    DEFAULT_MAX_ROUNDS,
    DEFAULT_TOOL_TIMEOUT,
    Approve,
    RunPolicy,
    ToolErrorPolicy,
)
from .tool_runs import SessionToolRun
from .websocket_turn import (
    LIFECYCLE_STARTS,
    TERMINALS,
    ContextLostError,
    Envelope,
    Turn,
    as_items,
    output_items,
    steer_error,
    within,
)

__all__ = ["Lane", "SessionLink"]

_decode = msgspec.json.decode


class SessionLink(Protocol):
    """What a lane needs from its session (``_client.websocket.ResponsesWebSocket``)."""

    chain: bool
    on_context_lost: Literal["rebuild", "raise"]
    defaults: Mapping[str, Any]
    idle_timeout: float | None
    timeout: Timeout

    @property
    def over_sse(self) -> bool: ...
    def check_open(self) -> None: ...
    def link_generation(self) -> int: ...
    async def send_turn(self, turn: Turn) -> None: ...
    def resend_soon(self, turn: Turn) -> None: ...
    def expire_link(self) -> None: ...
    def turn_ended(self) -> None: ...
    def abandoned(self) -> None: ...
    async def open_sse(self, params: dict[str, Any],
                       accumulator: ResponseAccumulator) -> ResponseStream: ...
    async def steer_ack(self, message: dict[str, Any]) -> tuple[Envelope, bytes]: ...


@dataclass(eq=False)
class Lane:
    """A conversation on a WebSocket session (``session.lane("name")``; the session itself
    is its default lane). One response in flight at a time; responses chain by themselves.

    >>> research = session.lane("research")                                   # doctest: +SKIP
    >>> notes = await research.create_stream(input="Summarise the paper")     # doctest: +SKIP
    """

    session: SessionLink = field(repr=False)
    stream_id: str | None
    response_id: str | None = None
    """The last response that ended completed or incomplete: the next one continues it."""
    _items: list[Any] = field(default_factory=list, repr=False)
    _head_store: bool = field(default=True, repr=False)
    _head_generation: int = field(default=0, repr=False)
    _turns: collections.deque[Turn] = field(default_factory=collections.deque, repr=False)
    _unsettled: list[Turn] = field(default_factory=list, repr=False)
    _ended_ids: collections.deque[str] = field(
        default_factory=lambda: collections.deque(maxlen=8), repr=False)

    # -- the public face ----------------------------------------------------------------

    @property
    def items(self) -> list[Any]:
        """The conversation kept so far (input and output items, API-shaped dicts)."""
        self._settle()
        return list(self._items)

    @property
    def busy(self) -> bool:
        """A response of this lane is still streaming (a new one would be refused)."""
        return any(t.stream is not None and not t.stream.finished for t in self._unsettled)

    async def create_stream(
        self, *, input: Any = None, tool_types: Mapping[str, type[Any]] | None = None,
        **params: Any,
    ) -> ResponseStream:
        """Send ``response.create`` on this lane and return its stream (the same events as
        over SSE). Continues the conversation unless ``previous_response_id`` is given or
        the session was opened with ``chain=False``."""
        self.session.check_open()
        self._settle()
        if self.busy:
            raise WebSocketUsageError(
                "A response is already streaming on this lane; finish or close it first "
                "(the API runs one response at a time per connection lane).")
        merged = {**self.session.defaults, **params}
        if merged.pop("background", False):
            raise WebSocketUsageError("background responses are not supported over WebSocket")
        merged.pop("stream", None)
        for option in ("timeout", "max_retries", "extra_headers", "extra_query"):
            merged.pop(option, None)  # per-request HTTP options mean nothing on a socket
        merged.update(merged.pop("extra_body", None) or {})
        text_format = apply_text_format(merged)
        # ox.tool tools become request entries; their arguments parse into their types.
        typed = {name: t.arguments_type for name, t in prepare_tools(merged, "responses").items()}
        accumulator = ResponseAccumulator(text_format=text_format,
                                          tool_types={**typed, **(tool_types or {})})
        turn = self._prepare(merged, input)
        if self.session.over_sse:
            turn.stream = await self.session.open_sse(self._sse_params(turn), accumulator)
            self._unsettled.append(turn)
            return turn.stream
        turn.stream = self._stream(turn, accumulator)
        self._turns.append(turn)
        self._unsettled.append(turn)
        try:
            await self.session.send_turn(turn)
        except BaseException:
            self._forget(turn)
            raise
        return turn.stream

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
        """Run tools on this lane until the model answers: the same run as
        ``client.responses.run_tools`` (same options, events and early starts), each
        round one response of this lane; later rounds send only the tool results, the lane
        chains them.

        >>> run = session.lane("agent").run_tools(                      # doctest: +SKIP
        ...     input="Weather?", tools=[get_weather])
        >>> answer = await run.final_response()                            # doctest: +SKIP
        """
        policy = RunPolicy(max_rounds=max_rounds, tool_timeout=tool_timeout,
                           on_tool_error=on_tool_error, approve=approve,
                           approval_timeout=approval_timeout)
        return SessionToolRun(self.create_stream, params, tools, policy,
                              chained=self.session.chain)

    async def warmup(self, *, input: Any = None, **params: Any) -> Response | None:
        """Prepare the server's state for what follows without generating output
        (``generate: false``): the response's id becomes the chain's head. Returns that
        (empty) response; over SSE, where there is no such request, the input is kept and
        sent with the next response instead, and ``None`` is returned.

        >>> await session.warmup(input=[system_prompt, *documents], tools=TOOLS)  # doctest: +SKIP
        """
        if self.session.over_sse:
            self.session.check_open()
            self._settle()
            self._items.extend(as_items(input))
            return None
        stream = await self.create_stream(input=input, generate=False, **params)
        return await stream.final_response()

    async def steer(self, input: Any) -> ResponseStream:
        """Queue ``input`` into the response streaming on this lane (``response.steer``; one
        sent and not answered yet is waited for) and return the stream of the successor the
        server starts with it. The steered response
        may end early, ``incomplete`` with reason ``steered``; the successor continues it.
        Raises :class:`SteerFailedError` if the server does not take the input.

        >>> story = await session.create_stream(input="Tell me a long story")  # doctest: +SKIP
        >>> successor = await session.steer("Make it about a lighthouse")     # doctest: +SKIP
        """
        self.session.check_open()
        if self.session.over_sse:
            raise WebSocketUsageError("steering needs the WebSocket mode (this session runs "
                                      "over HTTP SSE)")
        target = next((t for t in reversed(self._turns)
                       if not t.abandoned and t.payload is not None), None)
        if target is not None and target.state == "pending":
            # Sent, not answered yet: steering needs its id, which response.created brings.
            target.opened = target.opened or asyncio.Event()
            await within(self.session.timeout.headers, target.opened.wait(),
                          "The response to steer did not start")
        if target is None or target.state != "active" or target.response_id is None \
                or target.stream is None:
            raise WebSocketUsageError("nothing is streaming on this lane to steer")
        successor = self._turn(None, None, as_items(input), store=target.store)
        successor.sent_on = target.sent_on  # the server starts it on the same connection
        successor.stream = self._stream(successor, ResponseAccumulator(
            text_format=target.stream.accumulator.text_format,
            tool_types=target.stream.accumulator.tool_types))
        self._turns.append(successor)
        self._unsettled.append(successor)
        message = {"type": "response.steer", "previous_response_id": target.response_id,
                   "input": input}
        try:
            ack, frame = await self.session.steer_ack(message)
        except BaseException:
            self._forget(successor)
            raise
        if ack.type == "response.steer.accepted":
            return successor.stream
        self._forget(successor)
        raise steer_error(ack, frame)

    # -- requests -----------------------------------------------------------------------

    def _prepare(self, params: dict[str, Any], input: Any) -> Turn:
        new_items = as_items(input)
        payload: dict[str, Any] = {"type": "response.create", **params}
        if input is not None:
            payload["input"] = input
        if self.stream_id is not None:
            payload["stream_id"] = self.stream_id
        turn = self._turn(payload, None, new_items, store=params.get("store") is not False)
        if self.session.chain and "previous_response_id" not in params and (
                self.response_id is not None or self._items):
            turn.context = len(self._items)
            if self.response_id is not None and not self._head_lost():
                payload["previous_response_id"] = self.response_id
            else:
                turn.payload = self._rebuilt(turn)  # the whole conversation from the start
        return turn

    def _rebuilt(self, turn: Turn) -> dict[str, Any]:
        """``turn``'s request with the whole conversation instead of ``previous_response_id``
        (it can be made once)."""
        assert turn.payload is not None and turn.context is not None
        rebuilt = {**turn.payload, "input": [*self._items[:turn.context], *turn.new_items]}
        rebuilt.pop("previous_response_id", None)
        turn.context = None
        return rebuilt

    def _head_lost(self) -> bool:
        """The head lived only in a connection's cache (``store=False``), and that
        connection is gone (or the session runs over HTTP, which never had it)."""
        if self._head_store:
            return False
        return self.session.over_sse or self._head_generation != self.session.link_generation()

    def payload_to_send(self, turn: Turn) -> dict[str, Any] | None:
        """What to (re-)send for ``turn`` now, on the current connection."""
        if turn.context is not None and self._head_lost():
            turn.payload = self._rebuilt(turn)
        return turn.payload

    def _sse_params(self, turn: Turn) -> dict[str, Any]:
        assert turn.payload is not None
        params = {k: v for k, v in turn.payload.items() if k not in ("type", "stream_id")}
        params.pop("generate", None)
        return params

    def _turn(self, payload: dict[str, Any] | None, context: int | None,
              new_items: list[Any], *, store: bool) -> Turn:
        turn = Turn(payload, context, new_items, WebSocketFeed(), store=store)
        turn.feed.on_abort = lambda: self._abort(turn)
        return turn

    def _stream(self, turn: Turn, accumulator: ResponseAccumulator) -> ResponseStream:
        return ResponseStream(turn.feed, accumulator, idle_timeout=self.session.idle_timeout)

    def _forget(self, turn: Turn) -> None:
        for turns in (self._turns, self._unsettled):
            with contextlib.suppress(ValueError):
                turns.remove(turn)
        turn.feed.end()

    # -- the chain ----------------------------------------------------------------------

    def _settle(self) -> None:
        """Move the chain over every response that ended since last time, in order."""
        while self._unsettled and self._unsettled[0].stream is not None \
                and self._unsettled[0].stream.finished:
            turn = self._unsettled.pop(0)
            stream = turn.stream
            assert stream is not None
            response = stream.current_response()
            if stream.error is not None or response.status not in ("completed", "incomplete"):
                continue
            if not response.id:
                continue
            self._items.extend(turn.new_items)
            self._items.extend(output_items(turn.terminal, response))
            self.response_id = response.id
            self._head_store = turn.store
            self._head_generation = turn.sent_on

    # -- frames -------------------------------------------------------------------------

    def on_frame(self, envelope: Envelope, frame: bytes) -> None:
        """Route one frame of this lane to the response it belongs to (or drop it)."""
        turn = self._turns[0] if self._turns else None
        if turn is None:
            return  # stray: nothing open on this lane
        kind = envelope.type
        if turn.state == "pending":
            if kind in LIFECYCLE_STARTS:
                response_id = envelope.response_id()
                if response_id is not None and response_id not in self._ended_ids:
                    turn.state = "active"
                    turn.response_id = response_id
                    turn.feed.push(frame)
                    if turn.opened is not None:
                        turn.opened.set()
                return
            if kind == "error":
                self._create_failed(turn, envelope, frame)
            return  # anything else: stray (a late frame of an earlier response)
        turn.feed.push(frame)
        if kind in TERMINALS:
            self._end(turn, frame)

    def _end(self, turn: Turn, frame: bytes | None) -> None:
        turn.state = "ended"
        turn.terminal = frame
        if turn.opened is not None:
            turn.opened.set()
        with contextlib.suppress(ValueError):
            self._turns.remove(turn)
        if turn.response_id is not None:
            self._ended_ids.append(turn.response_id)
        self.session.turn_ended()

    def _create_failed(self, turn: Turn, envelope: Envelope, frame: bytes) -> None:
        code = envelope.error_code()
        if code == "websocket_connection_limit_reached":
            self.session.expire_link()  # the request is sent again on a new connection
            return
        if code == "previous_response_not_found" and not turn.abandoned:
            if turn.context is not None and self.session.on_context_lost == "rebuild":
                turn.payload = self._rebuilt(turn)
                self.session.resend_soon(turn)
                return
            reason = ("on_context_lost='raise'" if turn.context is not None
                      else "this lane kept no conversation to rebuild it from")
            error = ContextLostError(
                f"The server no longer has the previous response ({reason}).",
                body=_decode(frame), code=code)
            turn.feed.end(error)
            self._end(turn, None)
            return
        turn.feed.push(frame)  # the stream fails with the server's error
        self._end(turn, frame)

    def connection_lost(self, generation: int, code: int, *, resend: bool) -> bool:
        """The connection ``generation`` closed with ``code``: responses that had started
        fail (truncated, partial kept); requests not yet answered are kept to be sent again
        if ``resend`` (else they fail). Returns whether any wait to be sent again."""
        waiting = False
        for turn in list(self._turns):
            if turn.sent_on == -1:
                continue  # being sent right now: its sender retries on the next connection
            if turn.sent_on != generation and turn.payload is not None:
                waiting = waiting or not turn.abandoned
                continue  # waiting for a connection already
            if turn.abandoned:
                self._forget(turn)
            elif turn.state == "active" or turn.payload is None:
                turn.feed.end(_cut_off(code))
                self._end(turn, None)
            elif resend:
                turn.sent_on = 0
                waiting = True
            else:
                turn.feed.end(WebSocketClosedError(
                    f"The WebSocket closed (close code {code}) before the response started.",
                    close_code=code))
                self._end(turn, None)
        return waiting

    def waiting_turns(self) -> list[Turn]:
        """Requests to send on a new connection, oldest first."""
        return [t for t in self._turns if t.sent_on == 0 and not t.abandoned
                and t.payload is not None]

    def take_waiting(self) -> list[Turn]:
        """Requests waiting for a connection, taken off the lane's routing (they go over
        HTTP instead: the server turned out not to speak the WebSocket mode)."""
        turns = self.waiting_turns()
        for turn in turns:
            self._turns.remove(turn)
        return turns

    def sse_params(self, turn: Turn) -> dict[str, Any]:
        """``turn``'s request as the body of ``POST /responses``."""
        return self._sse_params(turn)

    def fail_waiting(self, error: Exception) -> None:
        for turn in self.waiting_turns():
            turn.feed.end(error)
            self._end(turn, None)

    def live(self) -> bool:
        """A response someone still reads is in flight on the connection (abandoned ones,
        and one still on its way to being sent, do not count)."""
        return any(not t.abandoned and t.sent_on != -1 for t in self._turns)

    def active_on(self, generation: int) -> bool:
        """A response someone reads is streaming on connection ``generation``."""
        return any(t.state == "active" and not t.abandoned and t.sent_on == generation
                   for t in self._turns)

    def open_streams(self) -> list[ResponseStream]:
        return [t.stream for t in self._unsettled if t.stream is not None
                and not t.stream.finished]

    def deliver_undecodable(self, frame: bytes) -> None:
        """A frame that is not JSON: the oldest open response gets it (and fails with a
        :class:`~oxide_rx.DecodeError`, its partial kept)."""
        if self._turns:
            self._turns[0].feed.push(frame)

    def close_all(self, error: Exception) -> None:
        for turn in list(self._turns):
            turn.feed.end(error)
            self._end(turn, None)

    def _abort(self, turn: Turn) -> None:
        """The stream was closed (or failed) before its response ended on the server: its
        remaining frames are dropped, and if nothing else is in flight the session closes
        the connection, the only way to stop a generation over a WebSocket."""
        if turn.state == "ended" or turn not in self._turns:
            return
        turn.abandoned = True
        turn.feed.discard()
        self.session.abandoned()


def _cut_off(code: int) -> Exception:
    """The error of a response cut off by a connection closed with ``code``."""
    if code == MESSAGE_TOO_BIG:
        return WebSocketLimitError(
            "A WebSocket message was larger than the client's max_event_size (close code "
            "1009); the connection closed.")
    return StreamTruncatedError(
        f"The WebSocket closed mid-response (close code {code}); the session reconnects for "
        "the next response.")
