"""``AsyncStream`` / ``Stream``: the official raw-stream classes over a core stream.

A compat stream *is* an ``openai.AsyncStream`` / ``openai.Stream`` (subclass): ``isinstance``,
``stream.response`` (status and headers), ``close()``, ``with`` blocks and iteration behave as
the official ones. Underneath, the core stream reads and decodes (aiohttp, the SSE decoder,
msgspec, the accumulator); a :class:`Pipe` on the loop's thread queues the events a consumer
wants, and each official object is built from its event's raw payload when it is taken
(:func:`._objects.from_json`), on the consumer's thread.

How a stream ends is the official client's: the body ending without ``[DONE]`` ends the
iteration quietly; a broken connection raises ``APIConnectionError``; a Chat Completions
``{"error": ...}`` frame raises ``APIError``; Responses ``error`` / ``response.failed`` events
are delivered as events (the official raw stream does not raise on them).
"""

from __future__ import annotations

import asyncio
import queue
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any, Generic, TypeVar

import httpx2
import openai

import oxide_rx as ox

from . import _core
from ._errors import NotSupportedError, official_error
from ._loop import LoopThread
from ._objects import from_json

__all__ = ["AsyncStream", "Opened", "Pipe", "Stream", "open_core_stream", "raise_error_frame"]

_T = TypeVar("_T")
_CLEAN_END = "The stream ended before"  # the core's truncation at a clean end of body


class Opened:
    """A core stream, opened (response head in) but not started, and what to build from it."""

    def __init__(self, core: _core.StreamHandle[Any], request: httpx2.Request,
                 item_type: Any, kind: str) -> None:
        self.core = core
        self.request = request
        self.item_type = item_type
        self.kind = kind
        """``"chat"`` or ``"responses"``."""
        self.response = httpx2.Response(200, headers=dict(core.headers), request=request)

    def wire_types(self) -> tuple[type, ...]:
        return (ox.Chunk,) if self.kind == "chat" else _core.WIRE_EVENT_TYPES

    def build(self, event: Any) -> Any:
        """The official object for a core wire event (``Chunk`` or a Responses event)."""
        raw = event.raw
        if raw is None:
            raw = b"{}"
        elif b'"error"' in raw:
            raise_error_frame(raw, self.request)
        return from_json(self.item_type, raw)

    def end_error(self, error: Exception | None) -> Exception | None:
        """What the official client raises where the core stream ended with ``error``."""
        if error is None:
            return None
        if isinstance(error, ox.StreamTruncatedError) and str(error).startswith(_CLEAN_END):
            return None
        if self.kind == "responses" and isinstance(error, ox.ResponseFailedError):
            return None
        if isinstance(error, ox.OxideRxError):
            return official_error(None, error, self.request)
        return error


def raise_error_frame(raw: bytes, request: httpx2.Request) -> None:
    """The official raw stream raises ``APIError`` for any event with a truthy ``error``
    key (a Responses ``error`` event included), before building it."""
    data = _core.decode_body(raw)
    if isinstance(data, dict) and data.get("error"):
        error = data["error"]
        message = error.get("message") if isinstance(error, dict) else None
        if not message or not isinstance(message, str):
            message = "An error occurred during streaming"
        raise openai.APIError(message=message, request=request, body=error)


async def open_core_stream(requester: _core.Requester, sending: _core.Sending,
                           request: httpx2.Request, item_type: Any) -> Opened:
    """Open the core stream for an official streaming request."""
    path = sending.path
    if path == "/chat/completions" and sending.method == "POST":
        return Opened(await _core.open_chat(requester, sending), request, item_type, "chat")
    if path == "/responses" or (sending.method == "GET" and path.startswith("/responses/")):
        core = await _core.open_responses(requester, sending)
        return Opened(core, request, item_type, "responses")
    raise NotSupportedError(f"oxide_rx.compat does not stream {sending.method} {path}")


class Pipe:
    """Core events for one consumer, subscribed on the loop's thread and taken on the
    consumer's. ``keep`` selects the events (``None``: all); ``capture`` (on the loop's
    thread) replaces each by what the consumer needs of that moment (a helper stream pairs an
    event with the accumulator's state)."""

    def __init__(self, opened: Opened, keep: tuple[type, ...] | None,
                 capture: Callable[[Any], Any] | None = None) -> None:
        self.opened = opened
        self.keep = keep
        self.capture = capture
        self.queue: deque[Any] = deque()
        self.end: tuple[Exception | None] | None = None
        self.waiter: asyncio.Future[None] | None = None
        self.signals: queue.SimpleQueue[None] | None = None  # a blocking consumer's wake-ups

    def _start(self) -> None:
        core = self.opened.core
        core.events.subscribe(self._on_next, self._on_error, self._on_completed)
        core.start()

    def _on_next(self, event: Any) -> None:
        keep = self.keep
        if keep is None or isinstance(event, keep):
            capture = self.capture
            self.queue.append(event if capture is None else capture(event))
            self._wake()

    def _on_error(self, error: Exception | None) -> None:
        self.end = (error,)
        self._wake()

    def _on_completed(self) -> None:
        self._on_error(None)

    def _wake(self) -> None:
        if self.signals is not None:
            self.signals.put(None)
        elif self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(None)

    def _ended(self) -> bool:
        """Whether the events are over; raises what the official client raises then."""
        if self.end is None or self.queue:
            return False
        error = self.opened.end_error(self.end[0])
        if error is not None:
            raise error
        return True

    async def aitems(self) -> AsyncIterator[Any]:
        """The items, on the event loop (the async consumer)."""
        self._start()
        items = self.queue
        try:
            while not self._ended():
                while items:
                    yield items.popleft()
                if self.end is None:
                    self.waiter = asyncio.get_running_loop().create_future()
                    await self.waiter
        finally:
            await self.opened.core.aclose()

    def items(self, runner: LoopThread) -> Iterator[Any]:
        """The items, on a blocking consumer's thread (the core runs on ``runner``)."""
        self.signals = signals = queue.SimpleQueue[None]()
        runner.call(self._start)
        items = self.queue
        try:
            while not self._ended():
                while items:
                    yield items.popleft()  # deque operations are atomic under the GIL
                if self.end is None:
                    signals.get()  # one signal per event and at the end: none is missed
        finally:
            if not runner.stopped:  # finalized at interpreter exit: nothing left to release
                runner.run(self.opened.core.aclose())


class AsyncStream(openai.AsyncStream[_T], Generic[_T]):
    """The official ``AsyncStream`` over a core stream (``async for chunk in stream``)."""

    def __init__(self, opened: Opened) -> None:  # no super(): there is no httpx body to read
        self.response = opened.response
        self._opened = opened
        self._iterator = self._events(Pipe(opened, opened.wire_types()))

    async def _events(self, pipe: Pipe) -> AsyncIterator[_T]:
        build = self._opened.build
        async for event in pipe.aitems():
            yield build(event)

    async def close(self) -> None:
        """Close the response and release the connection."""
        await self._opened.core.aclose()


class Stream(openai.Stream[_T], Generic[_T]):
    """The official blocking ``Stream`` over a core stream on the private loop thread."""

    def __init__(self, opened: Opened, runner: LoopThread) -> None:  # no super(): see above
        self.response = opened.response
        self._opened = opened
        self._runner = runner
        self._iterator = self._events(Pipe(opened, opened.wire_types()))

    def _events(self, pipe: Pipe) -> Iterator[_T]:
        build = self._opened.build
        for event in pipe.items(self._runner):
            yield build(event)

    def close(self) -> None:
        """Close the response and release the connection."""
        self._runner.run(self._opened.core.aclose())
