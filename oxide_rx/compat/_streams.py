"""``Stream`` / ``AsyncStream``: the official iteration surface over a core stream.

A :class:`Relay` subscribes to the core stream's hot event observable and turns each core
event into official objects with a *converter*, on the event loop's thread, as the event is
emitted (so snapshots are exact). The objects go into a *sink*: an asyncio queue for
:class:`AsyncStream`, a thread-safe queue for the synchronous :class:`Stream` (whose consumer
thread then never waits on a coroutine per item).

A converter may queue a :class:`~._models.Deferred` instead of an object: everything the
object depends on, captured at that event, with the object built when the consumer takes it.
A network read delivers dozens of events at once, and queued objects that the garbage
collector tracks would make it run (and promote them) again and again; what is queued is not
tracked.

Both iterate once, close the connection on ``close()`` / leaving ``with``, and raise the
official exceptions (:func:`~._errors.translate`).
"""

from __future__ import annotations

import asyncio
import queue
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from types import TracebackType
from typing import Any, Generic, Protocol, TypeVar

import msgspec
from reactivex import abc

from ._core import StreamHandle
from ._errors import Request, Response, translate
from ._lazy import Deferred, settle
from ._loop import LoopThread

__all__ = [
    "AsyncStream", "AsyncStreamManager", "Converter", "Relay", "Stream", "StreamManager",
]

_T = TypeVar("_T")


class Converter(Protocol):
    """Turns core events into official objects or :class:`Deferred` ones (on the loop thread)."""

    def on_event(self, event: Any) -> Sequence[Any]: ...
    def on_end(self, error: BaseException | None) -> tuple[list[Any], BaseException | None]:
        """Items still pending and the error to raise (``None``: end normally)."""
        ...


class _AsyncSink:
    __slots__ = ("end", "items", "waiter")

    def __init__(self) -> None:
        self.items: deque[Any] = deque()
        self.waiter: asyncio.Future[None] | None = None
        self.end: tuple[BaseException | None] | None = None

    def put(self, item: Any) -> None:
        self.items.append(item)
        self._wake()

    def finish(self, error: BaseException | None) -> None:
        if self.end is None:
            self.end = (error,)
        self._wake()

    def _wake(self) -> None:
        waiter = self.waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def wait(self) -> Any:
        """The next item, once there is one (``__anext__`` takes a queued one without this)."""
        while not self.items:
            if self.end is not None:
                if self.end[0] is not None:
                    raise self.end[0]
                raise StopAsyncIteration
            self.waiter = asyncio.get_running_loop().create_future()
            try:
                await self.waiter
            finally:
                self.waiter = None
        return self.items.popleft()


class _End(msgspec.Struct, gc=False):
    error: BaseException | None


class _ThreadSink:
    __slots__ = ("ended", "queue")

    def __init__(self) -> None:
        self.queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self.ended = False

    def put(self, item: Any) -> None:
        self.queue.put(settle(item))  # runs on the loop thread; the consumer is another

    def finish(self, error: BaseException | None) -> None:
        if not self.ended:
            self.ended = True
            self.queue.put(_End(error))

    def get(self) -> Any:
        item = self.queue.get()
        if type(item) is _End:
            self.queue.put(item)  # every later call ends the same way
            if item.error is not None:
                raise item.error
            raise StopIteration
        if isinstance(item, Deferred):
            return item.compute()
        return item


class Relay(abc.ObserverBase[Any]):
    """An Rx observer on a core stream: converts each event and feeds a sink."""

    def __init__(self, converter: Converter, sink: _AsyncSink | _ThreadSink,
                 request: Request) -> None:
        self.converter = converter
        self.sink = sink
        self.request = request
        self.done = False

    def on_next(self, event: Any) -> None:
        if self.done:
            return
        try:
            items = self.converter.on_event(event)
        except BaseException as exc:  # an official error raised by a converter ends the stream
            self.done = True
            self.sink.finish(translate(exc, self.request))
            return
        for item in items:
            self.sink.put(item)

    def on_error(self, error: Exception) -> None:
        self._end(error)

    def on_completed(self) -> None:
        self._end(None)

    def _end(self, error: BaseException | None) -> None:
        if self.done:
            return
        self.done = True
        try:
            items, error = self.converter.on_end(error)
        except BaseException as exc:
            items, error = [], exc
        for item in items:
            self.sink.put(item)
        self.sink.finish(None if error is None else translate(error, self.request))


class _Base:
    def __init__(self, core: StreamHandle[Any], converter: Converter, request: Request,
                 sink: _AsyncSink | _ThreadSink) -> None:
        self._core = core
        self._converter = converter
        self._relay = Relay(converter, sink, request)
        self._started = False
        self.response = Response(200, {k.lower(): v for k, v in core.headers.items()}, request)
        """Status code and headers of the HTTP response (``x-request-id`` ...)."""

    def _start_on_loop(self) -> None:
        if not self._started:
            self._started = True
            self._core.events.subscribe(self._relay)
            self._core.start()


class AsyncStream(_Base, Generic[_T]):
    """An async iterator over a streamed response (``async for chunk in stream``).

    >>> stream = await client.chat.completions.create(..., stream=True)  # doctest: +SKIP
    >>> async for chunk in stream:                                      # doctest: +SKIP
    ...     print(chunk.choices[0].delta.content or "", end="")
    """

    def __init__(
        self, core: StreamHandle[Any], converter: Converter, request: Request
    ) -> None:
        self._sink = _AsyncSink()
        super().__init__(core, converter, request, self._sink)

    def __aiter__(self) -> AsyncIterator[_T]:
        return self

    async def __anext__(self) -> _T:
        items = self._sink.items
        if items:
            item = items.popleft()  # the common case: no coroutine and no wait
        else:
            self._start_on_loop()
            try:
                item = await self._sink.wait()
            except StopAsyncIteration:
                raise
            except BaseException:
                await self.close()
                raise
        if isinstance(item, Deferred):
            item = item.compute()
        result: _T = item
        return result

    async def close(self) -> None:
        """Close the response and release the connection."""
        await self._core.aclose()

    aclose = close

    async def __aenter__(self) -> AsyncStream[_T]:
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self.close()


class Stream(_Base, Generic[_T]):
    """A blocking iterator over a streamed response (``for chunk in stream``).

    The core stream runs on the private loop thread; items cross over through a thread-safe
    queue, so iterating costs no coroutine hand-off per item.
    """

    def __init__(self, core: StreamHandle[Any], converter: Converter, request: Request,
                 runner: LoopThread) -> None:
        self._sink = _ThreadSink()
        self._runner = runner
        super().__init__(core, converter, request, self._sink)

    def __iter__(self) -> Iterator[_T]:
        return self

    def __next__(self) -> _T:
        if not self._started:
            self._runner.run(self._start())
        try:
            item: _T = self._sink.get()
        except StopIteration:
            raise
        except BaseException:
            self.close()
            raise
        return item

    async def _start(self) -> None:
        self._start_on_loop()

    def close(self) -> None:
        """Close the response and release the connection."""
        self._runner.run(self._core.aclose())

    def __enter__(self) -> Stream[_T]:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()


class _Closable(Protocol):
    def close(self) -> Any: ...


_S = TypeVar("_S", bound=_Closable)


class AsyncStreamManager(Generic[_S]):
    """``async with client....stream(...) as stream:``: opens on enter, closes on exit."""

    def __init__(self, open_stream: Callable[[], Awaitable[_S]]) -> None:
        self._open = open_stream
        self._stream: _S | None = None

    async def __aenter__(self) -> _S:
        self._stream = await self._open()
        return self._stream

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        if self._stream is not None:
            await self._stream.close()


class StreamManager(Generic[_S]):
    """``with client....stream(...) as stream:`` for the synchronous client."""

    def __init__(self, open_stream: Callable[[], _S]) -> None:
        self._open = open_stream
        self._stream: _S | None = None

    def __enter__(self) -> _S:
        self._stream = self._open()
        return self._stream

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self._stream is not None:
            self._stream.close()
