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
import threading
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any, Generic, TypeVar

import httpx2
import openai
from typing_extensions import Self

from . import _core
from ._errors import NotSupportedError, official_error
from ._loop import LoopThread
from ._objects import from_json

__all__ = ["AsyncStream", "Opened", "Pipe", "Stream", "open_core_stream"]

_T = TypeVar("_T")
_END = object()
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
        return (_core.Chunk,) if self.kind == "chat" else _core.WIRE_EVENT_TYPES

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
        if isinstance(error, _core.StreamTruncatedError) and str(error).startswith(_CLEAN_END):
            return None
        if self.kind == "responses" and isinstance(error, _core.ResponseFailedError):
            return None
        if isinstance(error, _core.OxideRxError):
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
        accumulator = _core.ChatCompletionAccumulator()
        return Opened(await _core.open_chat(requester, sending, accumulator), request,
                      item_type, "chat")
    if path == "/responses" or (sending.method == "GET" and path.startswith("/responses/")):
        core = await _core.open_responses(requester, sending,
                                          _core.compat_response_accumulator())
        return Opened(core, request, item_type, "responses")
    raise NotSupportedError(f"oxide_rx.compat does not stream {sending.method} {path}")


class Pipe:
    """Core events for one consumer: subscribed on the loop's thread, taken on the
    consumer's. ``keep`` selects the events (wire events for a raw stream, everything for a
    helper stream); ``waker`` is called after each event (the sync side's queue put)."""

    def __init__(self, opened: Opened, keep: tuple[type, ...] | None,
                 capture: Callable[[Any], Any] | None = None) -> None:
        self.opened = opened
        self.keep = keep
        self.capture = capture
        """Called on the loop's thread per kept event: what the consumer gets instead (a
        helper stream pairs an event with the accumulator's state at that moment)."""
        self.items: deque[Any] = deque()
        self.end: tuple[Exception | None] | None = None
        self.wake: Callable[[], None] = _nothing

    def start(self) -> None:
        """Subscribe and start the core stream (on the loop's thread)."""
        core = self.opened.core
        core.events.subscribe(self._on_next, self._on_error, self._on_completed)
        core.start()

    def _on_next(self, event: Any) -> None:
        keep = self.keep
        if keep is None or isinstance(event, keep):
            capture = self.capture
            self.items.append(event if capture is None else capture(event))
            self.wake()

    def _on_error(self, error: Exception) -> None:
        self.end = (error,)
        self.wake()

    def _on_completed(self) -> None:
        self.end = (None,)
        self.wake()


def _nothing() -> None:
    return None


class AsyncPuller:
    """Takes a pipe's events on the event loop (the async consumer)."""

    def __init__(self, pipe: Pipe) -> None:
        self.pipe = pipe
        self.waiter: asyncio.Future[None] | None = None
        self.started = False
        pipe.wake = self._wake

    def _wake(self) -> None:
        waiter = self.waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def next_event(self) -> Any:
        """The next core event, or ``_END``; raises the official error of a failed end."""
        pipe = self.pipe
        if not self.started:
            self.started = True
            pipe.start()
        items = pipe.items
        while not items:
            if pipe.end is not None:
                error = pipe.opened.end_error(pipe.end[0])
                if error is not None:
                    raise error
                return _END
            self.waiter = asyncio.get_running_loop().create_future()
            try:
                await self.waiter
            finally:
                self.waiter = None
        return items.popleft()

    async def aclose(self) -> None:
        await self.pipe.opened.core.aclose()


class ThreadPuller:
    """Takes a pipe's events on a blocking consumer's thread (the sync client)."""

    def __init__(self, pipe: Pipe, runner: LoopThread) -> None:
        self.pipe = pipe
        self.runner = runner
        self.signals: queue.SimpleQueue[None] = queue.SimpleQueue()
        self.lock = threading.Lock()
        self.started = False
        pipe.wake = self._wake

    def _wake(self) -> None:
        self.signals.put(None)

    def next_event(self) -> Any:
        pipe = self.pipe
        if not self.started:
            self.started = True
            self.runner.call(pipe.start)
        items = pipe.items
        while True:
            if items:
                return items.popleft()  # deque operations are atomic under the GIL
            if pipe.end is not None and not items:
                error = pipe.opened.end_error(pipe.end[0])
                if error is not None:
                    raise error
                return _END
            self.signals.get()

    def close(self) -> None:
        self.runner.run(self.pipe.opened.core.aclose())


class AsyncStream(openai.AsyncStream[_T], Generic[_T]):
    """The official ``AsyncStream`` over a core stream (``async for chunk in stream``)."""

    def __init__(self, opened: Opened) -> None:  # noqa: D107 - no super(): no httpx body
        self.response = opened.response
        self._opened = opened
        self._puller = AsyncPuller(Pipe(opened, opened.wire_types()))
        self._iterator = self._events()

    async def _events(self) -> AsyncIterator[_T]:
        next_event, build = self._puller.next_event, self._opened.build
        try:
            while (event := await next_event()) is not _END:
                yield build(event)
        finally:
            await self._puller.aclose()

    async def __anext__(self) -> _T:
        return await self._iterator.__anext__()

    async def __aiter__(self) -> AsyncIterator[_T]:
        async for item in self._iterator:
            yield item

    async def __aenter__(self) -> Self:
        return self

    async def close(self) -> None:
        """Close the response and release the connection."""
        await self._puller.aclose()


class Stream(openai.Stream[_T], Generic[_T]):
    """The official blocking ``Stream`` over a core stream on the private loop thread."""

    def __init__(self, opened: Opened, runner: LoopThread) -> None:  # noqa: D107
        self.response = opened.response
        self._opened = opened
        self._puller = ThreadPuller(Pipe(opened, opened.wire_types()), runner)
        self._iterator = self._events()

    def _events(self) -> Iterator[_T]:
        next_event, build = self._puller.next_event, self._opened.build
        try:
            while (event := next_event()) is not _END:
                yield build(event)
        finally:
            self._puller.close()

    def __next__(self) -> _T:
        return self._iterator.__next__()

    def __iter__(self) -> Iterator[_T]:
        yield from self._iterator

    def close(self) -> None:
        """Close the response and release the connection."""
        self._puller.close()


def is_end(event: object) -> bool:
    return event is _END
