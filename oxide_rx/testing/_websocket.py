"""The Responses API's WebSocket mode on the mock: ``GET /v1/responses`` upgraded.

The client sends ``{"type": "response.create", ...}`` text frames; the server answers each
with the same events the SSE endpoint streams, one JSON object per text frame. As the real
API does (wire-protocol reference §7, the official SDK's lanes README):

- **Lanes.** ``stream_id`` names a lane; each lane runs its requests in order, lanes run side
  by side (at most ``max_active`` responses at once, ``max_lanes`` named lanes; the lane's
  events echo ``stream_id``). A bad name is ``invalid_stream_id``, one lane too many
  ``websocket_stream_limit_reached``.
- **Chaining from connection-local state.** Each response's conversation (its context, input
  and output) is cached on the connection; ``store`` responses are also kept server-wide.
  ``previous_response_id`` continues one of those, else the answer is the error
  ``previous_response_not_found``. With ``strict_chaining`` (default) a continuation whose
  input repeats the conversation (its first item again, or an item with an id already in
  it) is refused (``mock_input_repeats_context``): the client must send only new items.
  ``generate: false`` answers ``created`` then ``completed`` with no output (a warm-up).
- **Steering.** ``{"type": "response.steer", "previous_response_id", "input"}`` on a response
  still generating is ``response.steer.accepted``; the response ends at its next event with
  ``response.incomplete`` (reason ``steered``) and a successor (the next scenario) starts on
  the same lane with the steering input. On a response that ended: ``response.steer.failed``
  (``response_already_completed``).
- **Connection limit.** A request made ``connection_limit`` seconds (on ``clock``) after the
  upgrade is refused with ``websocket_connection_limit_reached``.
- **Faults.** A scenario's ``drop_after`` aborts the TCP connection, ``close_after`` closes it
  with its code (1005: a close frame without a code; 1006: no close frame; 1015: the reserved
  code sent anyway), ``hold_after`` waits for ``release_held()`` (or a steer), ``pace``
  spaces the events. :meth:`WebSocketHub.close_all` closes every connection with a code.
- ``replay`` scenarios send each recorded event's data as one text frame (no chaining).
- A message has no headers: ``metadata: {"x_mock_scenario": "<X-Mock-Scenario value>"}``
  picks its scenario (else the queue, else the upgrade's ``X-Mock-Scenario``, else the default).
- ``background`` is refused, as the API does. ``WebSocketMode(enabled=False)`` answers the
  upgrade with 404 (a server without the mode); ``speaks_protocol=False`` accepts it and
  closes with 1003 at the first message.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import struct
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import msgspec
from aiohttp import web

from ._http import Counters, error_response
from ._responses import ResponseRun, ResponsesParams
from ._scenarios import ErrorScenario, ReplayScenario, Scenario
from ._websocket_frames import (
    error_frame,
    event_payloads,
    input_items,
    json_of,
    repeats_context,
    warmup_frames,
    with_lane,
)

__all__ = ["WebSocketHub", "WebSocketMessage", "WebSocketMode"]

_encode = msgspec.json.encode
_LANE = re.compile(r"[A-Za-z0-9_.\-]{1,256}")


@dataclass
class WebSocketMode:
    """How the mock's WebSocket endpoint behaves (``MockServer(websocket=...)``; change it on
    ``server.websocket`` between requests)."""

    enabled: bool = True
    """``False``: the upgrade is answered with 404, as by a server without the mode."""
    speaks_protocol: bool = True
    """``False``: the upgrade succeeds, and the first message closes it with 1003."""
    connection_limit: float = 3600.0
    """Seconds a connection may take requests for (the API's is 60 minutes)."""
    clock: Callable[[], float] = time.monotonic
    """What ``connection_limit`` is measured on (a test can share a fake one with the client)."""
    max_active: int = 16
    max_lanes: int = 32
    strict_chaining: bool = True
    """Refuse a continuation whose input repeats the conversation (see the module doc)."""
    refuse_next: list[int] = field(default_factory=list)
    """Statuses to answer the next upgrade requests with, one each (``[503, 429]``)."""
    persist_stored: bool = True
    """Keep ``store`` responses server-wide; ``False``: every response lives only in its
    connection's cache, so after a reconnect ``previous_response_id`` is not found."""


@dataclass(frozen=True)
class WebSocketMessage:
    """One client message as the mock received it: on which connection (1, 2, ... in order
    of upgrade), its JSON, and when (``time.monotonic()``)."""

    connection: int
    json: Any
    received_at: float


class WebSocketHub:
    """Every WebSocket connection of one mock server, and what they share."""

    def __init__(self, mode: WebSocketMode, counters: Counters) -> None:
        self.mode = mode
        self.counters = counters
        self.messages: list[WebSocketMessage] = []
        self.upgrades = 0
        self.persisted: dict[str, list[Any]] = {}
        self.connections: set[_Connection] = set()

    async def serve(
        self,
        request: web.Request,
        take_scenario: Callable[[web.Request], Scenario],
        find_recording: Callable[[str], Path | None],
    ) -> web.StreamResponse:
        """Serve one upgrade request until the connection ends."""
        if not self.mode.enabled:
            return error_response(404, "mock: no WebSocket mode here", code="not_found")
        if self.mode.refuse_next:
            status = self.mode.refuse_next.pop(0)
            return error_response(status, f"mock: upgrade refused with {status}")
        ws = web.WebSocketResponse(max_msg_size=64 * 1024 * 1024)
        await ws.prepare(request)
        self.upgrades += 1
        connection = _Connection(self, ws, request, take_scenario, self.upgrades)
        connection.find_recording = find_recording
        self.connections.add(connection)
        try:
            await connection.serve()
        finally:
            self.connections.discard(connection)
            await connection.stop()
        return ws

    async def close_all(self, code: int = 1001) -> None:
        """Close every open connection with ``code`` (see :class:`WebSocketMode`'s faults)."""
        for connection in list(self.connections):
            await connection.close(code)


@dataclass
class _Running:
    """A response generating on a lane (what a steer can reach)."""

    run: ResponseRun
    steer_input: Any = None
    steered: asyncio.Event = field(default_factory=asyncio.Event)


class _Connection:
    def __init__(self, hub: WebSocketHub, ws: web.WebSocketResponse, request: web.Request,
                 take_scenario: Callable[[web.Request], Scenario], number: int) -> None:
        self.hub = hub
        self.ws = ws
        self.request = request
        self.take_scenario = take_scenario
        self.number = number
        self.opened_at = hub.mode.clock()
        self.cache: dict[str, list[Any]] = {}
        self.lanes: dict[str | None, asyncio.Queue[dict[str, Any]]] = {}
        self.workers: list[asyncio.Task[None]] = []
        self.running: dict[str, _Running] = {}
        self.ended: set[str] = set()
        self.active = asyncio.Semaphore(hub.mode.max_active)
        self.closed = False
        self.find_recording: Callable[[str], Path | None] = lambda source: None

    # -- the connection -----------------------------------------------------------------

    async def serve(self) -> None:
        async for message in self.ws:
            if message.type != aiohttp.WSMsgType.TEXT:
                continue
            try:
                payload: Any = msgspec.json.decode(message.data)
            except msgspec.DecodeError:
                payload = None
            self.hub.messages.append(WebSocketMessage(self.number, payload, time.monotonic()))
            if not self.hub.mode.speaks_protocol:
                await self.ws.close(code=1003, message=b"unsupported")
                return
            if not isinstance(payload, dict):
                text = "mock: the message is not a JSON object"
                await self.send(error_frame("invalid_json", text))
                continue
            kind = payload.get("type")
            if kind == "response.create":
                await self.create(payload)
            elif kind == "response.steer":
                await self.steer(payload)
            else:
                await self.send(error_frame("unknown_event", f"mock: unsupported {kind!r}"))

    async def send(self, text: str) -> None:
        if not self.closed and not self.ws.closed:
            with contextlib.suppress(ConnectionError, RuntimeError):
                await self.ws.send_str(text)

    async def close(self, code: int) -> None:
        """Close with ``code``; the reserved codes go on the wire as a test needs them."""
        if self.closed:
            return
        self.closed = True
        transport = self.request.transport
        if code == 1006 or transport is None:
            if transport is not None:
                transport.abort()
            return
        if code in (1005, 1015):
            payload = b"" if code == 1005 else struct.pack("!H", code)
            transport.write(bytes([0x88, len(payload)]) + payload)
            transport.close()
            return
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.ws.close(code=code), 1.0)

    async def stop(self) -> None:
        for worker in self.workers:
            worker.cancel()
        for worker in self.workers:
            with contextlib.suppress(BaseException):
                await worker

    # -- requests -----------------------------------------------------------------------

    async def create(self, payload: dict[str, Any]) -> None:
        mode = self.hub.mode
        lane = payload.get("stream_id")
        if lane is not None and (not isinstance(lane, str) or not _LANE.fullmatch(lane)):
            await self.send(error_frame("invalid_stream_id", f"mock: bad stream_id {lane!r}"))
            return
        if mode.clock() - self.opened_at >= mode.connection_limit:
            text = "mock: this connection reached its time limit; open a new one"
            await self.send(error_frame("websocket_connection_limit_reached", text, 400, lane))
            return
        if payload.get("background"):
            text = "background is not supported in WebSocket mode"
            await self.send(error_frame("unsupported_parameter", text, 400, lane))
            return
        queue = self.lanes.get(lane)
        if queue is None:
            if lane is not None and len(self.lanes) - (None in self.lanes) >= mode.max_lanes:
                text = f"mock: at most {mode.max_lanes} named lanes per connection"
                await self.send(error_frame("websocket_stream_limit_reached", text, 400, lane))
                return
            queue = self.lanes[lane] = asyncio.Queue()
            self.workers.append(asyncio.get_running_loop().create_task(self.work(lane, queue)))
        queue.put_nowait(payload)

    async def work(self, lane: str | None, queue: asyncio.Queue[dict[str, Any]]) -> None:
        """One lane: its requests in order."""
        while True:
            payload = await queue.get()
            async with self.active:
                await self.respond(lane, payload)

    def context_of(self, previous: str) -> list[Any] | None:
        found = self.cache.get(previous)
        return found if found is not None else self.hub.persisted.get(previous)

    async def respond(self, lane: str | None, payload: dict[str, Any]) -> None:
        new_items = input_items(payload.get("input"))
        previous = payload.get("previous_response_id")
        context: list[Any] = []
        if previous is not None:
            found = self.context_of(previous)
            if found is None:
                text = f"Previous response with id '{previous}' not found."
                await self.send(error_frame("previous_response_not_found", text, 400, lane))
                return
            if self.hub.mode.strict_chaining and repeats_context(found, new_items):
                text = "mock: the input repeats the conversation; send only the new items"
                await self.send(error_frame("mock_input_repeats_context", text, 400, lane))
                return
            context = found
        scenario = self._scenario(payload)
        if isinstance(scenario, ReplayScenario):
            await self.replay(lane, scenario)
            return
        if isinstance(scenario, ErrorScenario):
            code = scenario.code or "error"
            await self.send(error_frame(code, scenario.message, scenario.status, lane))
            return
        params = ResponsesParams.from_body(payload)
        run = ResponseRun(scenario, params)
        if payload.get("generate") is False:
            frames: Any = warmup_frames(run)
        else:
            frames = (frame for _, frame in run.events())
        output = await self.stream(lane, run, frames, scenario)
        if output is None:
            return  # the connection went away mid-response
        conversation = [*context, *new_items, *output]
        self.cache[run.id] = conversation
        if params.store and self.hub.mode.persist_stored:
            self.hub.persisted[run.id] = conversation
        running = self.running.pop(run.id, None)
        self.ended.add(run.id)
        if running is not None and running.steer_input is not None:
            # The successor continues the steered response with the steering input.
            follow = {**payload, "input": running.steer_input, "previous_response_id": run.id}
            follow.pop("generate", None)
            await self.respond(lane, follow)

    def _scenario(self, payload: dict[str, Any]) -> Scenario:
        """``metadata.x_mock_scenario`` (a message has no headers), else the server's pick;
        then the answer to this request's conversation (:meth:`Scenario.for_request`)."""
        metadata = payload.get("metadata")
        spec = metadata.get("x_mock_scenario") if isinstance(metadata, dict) else None
        if isinstance(spec, str):
            with contextlib.suppress(ValueError):
                return Scenario.parse(spec).for_request(payload)
        return self.take_scenario(self.request).for_request(payload)

    async def replay(self, lane: str | None, scenario: ReplayScenario) -> None:
        path = self.find_recording(scenario.source)
        if path is None:
            await self.send(error_frame("not_found", f"mock: no recording {scenario.source!r}", 404,
                                   lane))
            return
        for payload in event_payloads(path.read_bytes()):
            await self.send(with_lane(payload, lane))

    async def stream(self, lane: str | None, run: ResponseRun, frames: Any,
                     scenario: Scenario) -> list[Any] | None:
        """Send a response's events; its output items (``None`` if the connection ended)."""
        fault = scenario.fault
        running = self.running[run.id] = _Running(run)
        for sent, frame in enumerate(frames):
            if fault is not None:
                ended = await self.apply_fault(fault, sent, running)
                if ended:
                    return None
            if running.steer_input is not None:
                incomplete = run.snapshot("incomplete", [], incomplete_reason="steered")
                run.final = incomplete
                await self.send(with_lane(json_of(
                    run._event("response.incomplete", response=incomplete)), lane))
                return []
            await self.send(with_lane(json_of(frame), lane))
        final = run.final or {}
        return list(final.get("output") or [])

    async def apply_fault(self, fault: Any, sent: int, running: _Running) -> bool:
        """Apply ``fault`` before event ``sent``; True when it ended the connection."""
        if fault.drop_after_events is not None and sent >= fault.drop_after_events:
            await self.close(1006)
            return True
        if fault.close_after_events is not None and sent >= fault.close_after_events:
            await self.close(fault.close_code)
            return True
        if fault.hold_after_events is not None and sent == fault.hold_after_events:
            counters = self.hub.counters
            steered = asyncio.ensure_future(running.steered.wait())
            held = asyncio.ensure_future(counters.hold(lambda: self.ws.closed,
                                                       fault.hold_max, 0.05))
            try:
                await asyncio.wait({steered, held}, return_when=asyncio.FIRST_COMPLETED)
            finally:  # also when the connection's end cancels this lane: no waiter outlives it
                for waiter in (steered, held):
                    waiter.cancel()
        if fault.pace_interval and sent:
            await asyncio.sleep(fault.pace_interval)
        return self.closed

    async def steer(self, payload: dict[str, Any]) -> None:
        target = payload.get("previous_response_id")
        running = self.running.get(target) if isinstance(target, str) else None
        if running is None or running.steer_input is not None:
            code = "response_already_completed" if target in self.ended else "response_not_found"
            error = {"code": code, "message": f"mock: cannot steer {target!r}"}
            await self.send(_encode({"type": "response.steer.failed", "error": error}).decode())
            return
        running.steer_input = payload.get("input")
        running.steered.set()
        accepted = {"type": "response.steer.accepted", "previous_response_id": target}
        await self.send(_encode(accepted).decode())
