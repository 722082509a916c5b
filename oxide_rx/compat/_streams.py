"""``AsyncStream`` / ``Stream``: the official raw-stream classes over a core stream.

A compat stream *is* an ``openai.AsyncStream`` / ``openai.Stream`` (subclass): ``isinstance``,
``stream.response`` (status and headers), ``close()``, ``with`` blocks and iteration behave as
the official ones. Underneath, the core stream reads and decodes (aiohttp, the SSE decoder,
msgspec, the accumulator); a :class:`Pipe` on the loop's thread queues the events a consumer
wants, and each official object is built from its event's raw payload when it is taken
(:func:`._objects.from_json`), on the consumer's thread.

How a stream ends is the official client's: the body ending without ``[DONE]`` ends the
iteration quietly; a broken connection raises ``APIConnectionError``; an ``{"error": ...}``
frame raises ``APIError``; Responses ``response.failed`` events are delivered as events.
"""

from __future__ import annotations

import asyncio
import queue
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from typing import Any, Generic, TypeVar

import httpx2
import openai

import oxide_rx as ox

from . import _core
from ._errors import NotSupportedError, official_error
from ._loop import loop_thread
from ._objects import parser

__all__ = ["AsyncStream", "Direct", "Opened", "Pipe", "Stream", "open_core_stream",
           "raise_error_frame"]

_T = TypeVar("_T")
_Convert = Callable[[Any], Iterable[Any]]
_CLEAN_END = "The stream ended before"  # the core's truncation at a clean end of body


class Opened:
    """A core stream, opened (response head in) but not started, and what to build from it."""

    def __init__(self, core: _core.StreamHandle[Any], request: httpx2.Request,
                 item_type: Any, chat: bool) -> None:
        self.core, self.request, self.chat = core, request, chat
        self.parse = parser(item_type)
        self.wire: tuple[type, ...] = (ox.Chunk,) if chat else _core.WIRE_EVENT_TYPES
        self.response = httpx2.Response(200, headers=dict(core.headers), request=request)

    def build(self, event: Any) -> list[Any]:
        """The official object for a core wire event (``Chunk`` or a Responses event)."""
        raw = event.raw or b"{}"
        if b'"error"' in raw:
            raise_error_frame(raw, self.request)
        return [self.parse(raw)]

    def end_error(self, error: Exception | None) -> Exception | None:
        """What the official client raises where the core stream ended with ``error``."""
        if error is None or (isinstance(error, ox.StreamTruncatedError)
                             and str(error).startswith(_CLEAN_END)):
            return None
        if isinstance(error, ox.ResponseFailedError) and not self.chat:
            return None
        return official_error(None, error, self.request) \
            if isinstance(error, ox.OxideRxError) else error


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
    path, method = sending.path, sending.method
    if path == "/chat/completions" and method == "POST":
        return Opened(await _core.open_chat(requester, sending), request, item_type, True)
    if path == "/responses" or (method == "GET" and path.startswith("/responses/")):
        return Opened(await _core.open_responses(requester, sending), request, item_type, False)
    raise NotSupportedError(f"oxide_rx.compat does not stream {method} {path}")


class Pipe:
    """Core events for one consumer, subscribed on the loop's thread and taken on the
    consumer's, each turned into official objects by ``convert`` (zero or more per event; then
    those ``end()`` gives). ``keep`` selects the events by class (``None``: all); ``capture``
    (on the loop's thread) replaces each by what the consumer needs of that moment (a helper
    stream pairs an event with the accumulator's state, or drops it: ``None``)."""

    def __init__(self, opened: Opened, keep: tuple[type, ...] | None, convert: _Convert,
                 capture: Callable[[Any], Any] | None = None,
                 end: Callable[[], Iterable[Any]] = tuple) -> None:
        self.opened, self.keep, self.capture = opened, keep, capture
        self.convert, self.finish = convert, end
        self.queue: deque[Any] = deque()
        self.end: tuple[Exception | None] | None = None
        self.waiter: asyncio.Future[None] | None = None
        self.signals: queue.SimpleQueue[None] | None = None  # a blocking consumer's wake-ups

    def _start(self) -> None:
        core = self.opened.core
        _core.listen(core, self.keep or (object,), self)
        core.start()

    def on_next(self, event: Any) -> None:
        if self.capture is not None:
            event = self.capture(event)
            if event is None:  # nothing for this consumer
                return
        self.queue.append(event)
        self._wake()

    def on_error(self, error: Exception | None) -> None:
        self.end = (error,)
        self._wake()

    def on_completed(self) -> None:
        self.on_error(None)

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
        """The official objects, on the event loop (the async consumer)."""
        self._start()
        items, convert = self.queue, self.convert
        try:
            while not self._ended():
                while items:
                    for out in convert(items.popleft()):
                        yield out
                if self.end is None:
                    self.waiter = asyncio.get_running_loop().create_future()
                    await self.waiter
        finally:
            await self.opened.core.aclose()
        for out in self.finish():
            yield out

    def items(self) -> Iterator[Any]:
        """The official objects, on a blocking consumer's thread (the core runs on the loop
        thread)."""
        runner = loop_thread()
        self.signals = signals = queue.SimpleQueue[None]()
        runner.call(self._start)
        items, convert = self.queue, self.convert
        try:
            while not self._ended():
                while items:
                    yield from convert(items.popleft())  # deque operations are atomic
                if self.end is None:
                    signals.get()  # one signal per event and at the end: none is missed
        finally:
            runner.release(self.opened.core.aclose())
        yield from self.finish()


class Direct:
    """Iterating an official stream class runs compat's iterator itself (the official
    ``__aiter__`` / ``__iter__`` wrap it in one more generator: a step per event)."""

    _iterator: Any

    def __aiter__(self) -> Any:
        return self._iterator

    def __iter__(self) -> Any:
        return self._iterator


class AsyncStream(Direct, openai.AsyncStream[_T], Generic[_T]):
    """The official ``AsyncStream`` over a core stream (``async for chunk in stream``)."""

    def __init__(self, opened: Opened) -> None:  # no super(): there is no httpx body to read
        self.response, self._opened = opened.response, opened
        self._iterator = Pipe(opened, opened.wire, opened.build).aitems()

    async def close(self) -> None:
        """Close the response and release the connection."""
        await self._opened.core.aclose()


class Stream(Direct, openai.Stream[_T], Generic[_T]):
    """The official blocking ``Stream`` over a core stream on the private loop thread."""

    def __init__(self, opened: Opened) -> None:  # no super(): see above
        self.response, self._opened = opened.response, opened
        self._iterator = Pipe(opened, opened.wire, opened.build).items()

    def close(self) -> None:
        """Close the response and release the connection."""
        loop_thread().run(self._opened.core.aclose())
