"""The body writer: sends a :class:`BodyPlan` through aiohttp, applying a :class:`Fault`.

Every write goes straight to the socket (TCP_NODELAY, one ``transport.write`` per piece), so
the chunking a test asks for is the chunking the client's reads can see (modulo TCP
coalescing on the client side). A client that goes away is noticed on the next write, or by
polling the transport while stalled, and reported to the server's counters.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Protocol

import msgspec
from aiohttp import web
from aiohttp.tcp_helpers import tcp_nodelay

from ._faults import Fault, corrupt_json, gzip_bomb_body, inject_invalid_utf8
from ._plan import BodyPlan

__all__ = ["StreamTracker", "write_body"]

_KEEPALIVE = b": keep-alive\n\n"
_HTML_PAGE = (
    b"<!DOCTYPE html>\n<html><head><title>502 Bad Gateway</title></head>\n"
    b"<body><h1>502 Bad Gateway</h1><p>The upstream server did not respond.</p></body></html>\n"
)
_POLL = 0.02
_FLUSH_WAIT = 2.0


class StreamTracker(Protocol):
    """What the server counts about bodies in flight."""

    def stream_opened(self) -> None: ...
    def stream_closed(self) -> None: ...
    def client_disconnected(self) -> None: ...
    async def hold(self, client_gone: Callable[[], bool], seconds: float, poll: float) -> bool: ...


class _ClientGone(Exception):
    """The client closed the connection before the body ended."""


class _Sink:
    """Cuts body bytes into writes according to the fault's chunking mode."""

    def __init__(self, request: web.Request, resp: web.StreamResponse, fault: Fault) -> None:
        self.request = request
        self.resp = resp
        self.delay = fault.trickle_delay or 0.0
        mode = 1 if fault.trickle_delay is not None else fault.chunking_mode
        self.mode = mode
        self.rng = random.Random(mode[1]) if isinstance(mode, tuple) else None
        self.buffer = bytearray()

    def _next_size(self) -> int | None:
        if self.rng is not None:
            return self.rng.randint(1, 128)
        return self.mode if isinstance(self.mode, int) else None

    async def _write(self, piece: bytes) -> None:
        transport = self.request.transport
        if transport is None or transport.is_closing():
            raise _ClientGone
        try:
            await self.resp.write(piece)
        except ConnectionError as exc:
            raise _ClientGone from exc
        if self.delay:
            await asyncio.sleep(self.delay)

    async def send(self, data: bytes) -> None:
        if self.mode == "events":
            await self._write(data)
            return
        self.buffer += data
        size = self._next_size()
        while size is not None and len(self.buffer) >= size:
            piece = bytes(self.buffer[:size])
            del self.buffer[:size]
            await self._write(piece)
            size = self._next_size()

    async def flush(self) -> None:
        """Write what is buffered, then wait until the kernel has taken it."""
        if self.buffer:
            piece, self.buffer = bytes(self.buffer), bytearray()
            await self._write(piece)
        deadline = time.monotonic() + _FLUSH_WAIT
        transport = self.request.transport
        while (
            transport is not None
            and not transport.is_closing()
            and transport.get_write_buffer_size() > 0
            and time.monotonic() < deadline
        ):
            await asyncio.sleep(0.001)


def _drop_last(frames: Iterable[bytes]) -> Iterator[bytes]:
    """All frames but the last (the terminal marker), pulled one ahead."""
    iterator = iter(frames)
    previous = next(iterator, None)
    for frame in iterator:
        assert previous is not None
        yield previous
        previous = frame


async def _stall(request: web.Request, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        transport = request.transport
        if transport is None or transport.is_closing():
            raise _ClientGone
        await asyncio.sleep(_POLL)
    _abort(request)


def _abort(request: web.Request) -> None:
    if request.transport is not None:
        request.transport.abort()


def _client_gone(request: web.Request) -> bool:
    return request.transport is None or request.transport.is_closing()


async def _write_events(
    request: web.Request, sink: _Sink, plan: BodyPlan, fault: Fault, tracker: StreamTracker
) -> None:
    frames = _drop_last(plan.frames) if fault.truncate_terminal else iter(plan.frames)
    index = 0
    interval = max(plan.interval, fault.pace_interval)
    while True:
        if index and index == fault.hold_after_events:
            await sink.flush()
            if not await tracker.hold(lambda: _client_gone(request), fault.hold_max, _POLL):
                if _client_gone(request):
                    raise _ClientGone
                _abort(request)
                return
        if index and interval:
            await sink.flush()
            await asyncio.sleep(interval)
        if index in (fault.drop_after_events, fault.stall_after_events):
            break
        if index == fault.truncate_after_events:
            break
        frame = next(frames, None)
        if frame is None:
            break
        if index == fault.oversized_at and fault.oversized_bytes and plan.delta_frame:
            overhead = len(plan.delta_frame(""))
            await sink.send(plan.delta_frame("x" * max(0, fault.oversized_bytes - overhead)))
        if index == fault.malformed_at:
            frame = corrupt_json(frame)
        if index == fault.invalid_utf8_at:
            frame = inject_invalid_utf8(frame)
        await sink.send(frame)
        index += 1
    await sink.flush()
    if fault.drop_after_events is not None:
        _abort(request)
    elif fault.stall_after_events is not None:
        await _stall(request, fault.stall_max)
    else:
        await sink.resp.write_eof()


def _replacement(plan: BodyPlan, fault: Fault) -> tuple[BodyPlan, dict[str, str]]:
    """The body and extra headers of faults that send their own body."""
    if fault.html_error_page:
        return BodyPlan(frames=[_HTML_PAGE], content_type="text/html; charset=utf-8"), {}
    if fault.wrong_content_type and plan.json_body is not None:
        body = msgspec.json.encode(plan.json_body())
        return BodyPlan(frames=[body], content_type="application/json"), {}
    if fault.gzip_bomb_bytes is not None:
        first = next(iter(plan.frames), b"")
        bomb = gzip_bomb_body(first, fault.gzip_bomb_bytes)
        step = 64 * 1024
        frames = [bomb[i : i + step] for i in range(0, len(bomb), step)]
        return BodyPlan(frames=frames, content_type=plan.content_type), {"Content-Encoding": "gzip"}
    if fault.keepalive_interval is not None:
        count = max(1, int(fault.keepalive_max / max(fault.keepalive_interval, 1e-3)))
        frames = [_KEEPALIVE] * count
        return BodyPlan(frames=frames, interval=fault.keepalive_interval), {}
    assert fault.endless_line_bytes is not None
    step = 64 * 1024
    total = fault.endless_line_bytes
    frames = [b"data: " + b"a" * (min(step, total) - 6)]
    frames += [b"a" * min(step, total - sent) for sent in range(step, total, step)]
    return BodyPlan(frames=frames, content_type=plan.content_type), {}


async def write_body(
    request: web.Request,
    plan: BodyPlan,
    fault: Fault | None,
    tracker: StreamTracker,
    *,
    status: int = 200,
    headers: Mapping[str, str] | None = None,
) -> web.StreamResponse:
    """Send ``plan`` as the response to ``request``, with ``fault`` applied.

    Returns the (already sent) response for aiohttp to finish; a client that went away is
    counted through ``tracker`` instead of raising.
    """
    fault = fault or Fault()
    if fault.headers_delay:
        await asyncio.sleep(fault.headers_delay)
    extra: dict[str, str] = {}
    if fault.replaces_body:
        plan, extra = _replacement(plan, fault)
        fault = Fault(chunking_mode=fault.chunking_mode, trickle_delay=fault.trickle_delay)
    resp = web.StreamResponse(status=status, headers={**(headers or {}), **extra})
    resp.headers["Content-Type"] = plan.content_type
    if plan.content_type.startswith("text/event-stream"):
        resp.headers["Cache-Control"] = "no-cache"
    if request.transport is not None:
        tcp_nodelay(request.transport, True)
    tracker.stream_opened()
    try:
        await resp.prepare(request)
        await _write_events(request, _Sink(request, resp, fault), plan, fault, tracker)
    except _ClientGone:
        tracker.client_disconnected()
    except ConnectionError:
        tracker.client_disconnected()
    finally:
        tracker.stream_closed()
    return resp
