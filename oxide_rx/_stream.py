"""Streams: one HTTP request, fanned out to any number of subscribers.

Lifetime (the contract of DESIGN.md):

- A stream is **hot and single-use**. Nothing is read until it is started by ``async for``,
  ``final_completion()`` / ``final_response()``, ``until_done()`` or ``start()``. Subscribe
  first, then start: a subscriber attached before the start sees every event; one attached
  later sees later events (snapshots stay readable on the stream); one attached after the
  end gets the end (``on_completed`` or ``on_error``) at once. Subscribing never re-sends.
- ``aclose()`` (or leaving ``async with stream``) aborts the request and closes its
  connection; so does cancelling a task that consumes the stream, and so does the last
  subscriber disposing while the stream runs. No task, socket or subscription outlives it.
- Everything runs on the event loop's thread: the pump task reads the network, and each
  read's events go through decode -> accumulate -> fan-out synchronously, with no ``await``
  per event.

**Subscriber error policy** (one place, here): a subscriber callback that raises is detached
from the stream, receives the exception through its own ``on_error`` (Rx-style subscribers)
and is logged on the ``oxide_rx`` logger with its traceback. The stream, its snapshots and
every other subscriber carry on: one faulty UI callback cannot lose the others' events.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import AsyncIterator, Callable, Mapping
from types import TracebackType
from typing import Any, Generic, Protocol, TypeVar

import reactivex
from reactivex import Observable, abc
from reactivex.disposable import Disposable

from ._chat_state import ChatCompletionAccumulator
from ._exceptions import APIConnectionError, APITimeoutError, OxideRxError, StreamTruncatedError
from ._operators._stages import Sink
from ._responses_state import ResponseAccumulator
from .events import Chunk
from .sse import ServerSentEvent
from .types.chat import ChatCompletion
from .types.responses import Response

__all__ = ["ChatStream", "EventFeed", "ResponseStream", "StreamHandle"]

log = logging.getLogger("oxide_rx")

_E = TypeVar("_E")
_Event = TypeVar("_Event")
_Acc = TypeVar("_Acc")

# aclose() waits this long for the pump to unwind after cancelling it.
CLOSE_GRACE_SECONDS = 5.0


class EventFeed(Protocol):
    """Where a stream's server-sent events come from (one response, or several on resume)."""

    def __aiter__(self) -> AsyncIterator[list[ServerSentEvent]]: ...
    async def finish(self) -> None: ...
    def abort(self) -> None: ...


class _Observer(Protocol):
    def on_next(self, value: Any) -> None: ...
    def on_error(self, error: Exception) -> None: ...
    def on_completed(self) -> None: ...


Stages = Callable[[Sink], Sink]
"""Builds a stream's processing chain: given the stream's own sink, returns where server-sent
events go in (``DecodeStage`` -> ``...AccumulateStage`` -> the stream)."""


class _Hub:
    """The stream's sink at the end of its stages: bound methods, no extra call per event."""

    __slots__ = ("on_completed", "on_error", "on_next")

    def __init__(
        self,
        on_next: Callable[[Any], None],
        on_error: Callable[[Exception], None],
        on_completed: Callable[[], None],
    ) -> None:
        self.on_next = on_next
        self.on_error = on_error
        self.on_completed = on_completed


class _TypedCallback:
    """``stream.on(cls, callback)``: which events, and what to call. The fan-out routes
    matching events straight to ``callback`` (see ``StreamHandle._route``)."""

    __slots__ = ("callback", "classes")

    def __init__(self, classes: type[Any] | tuple[type[Any], ...], callback: Callable[[Any], Any]):
        self.classes = classes
        self.callback = callback

    def on_next(self, value: Any) -> None:
        self.callback(value)

    def on_error(self, error: Exception) -> None:
        pass

    def on_completed(self) -> None:
        pass


class _Inbox:
    """The queue behind one ``async for``: unbounded (a push source cannot be slowed)."""

    __slots__ = ("end", "items", "waiter")

    def __init__(self) -> None:
        self.items: deque[Any] = deque()
        self.waiter: asyncio.Future[None] | None = None
        self.end: tuple[Exception | None] | None = None

    def _wake(self) -> None:
        waiter = self.waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def on_next(self, value: Any) -> None:
        self.items.append(value)
        self._wake()

    def on_error(self, error: Exception) -> None:
        self.end = (error,)
        self._wake()

    def on_completed(self) -> None:
        self.end = (None,)
        self._wake()


class _IdleWatchdog:
    """Cancels the pump when no event arrived for ``idle`` seconds.

    ``progress()`` is one attribute write per network read; the timer only re-arms itself
    when it fires early, so a fast stream pays nothing per event.
    """

    def __init__(self, idle: float, task: asyncio.Task[Any]) -> None:
        self.idle = idle
        self.task = task
        self.loop = asyncio.get_running_loop()
        self.last = self.loop.time()
        self.fired = False
        self.handle = self.loop.call_at(self.last + idle, self._check)

    def progress(self) -> None:
        self.last = self.loop.time()

    def _check(self) -> None:
        due = self.last + self.idle
        if self.loop.time() >= due:
            self.fired = True
            self.task.cancel()
        else:
            self.handle = self.loop.call_at(due, self._check)

    def cancel(self) -> None:
        self.handle.cancel()


class StreamHandle(Generic[_Event, _Acc]):
    """A hot, single-use stream of typed events over one request.

    Use :class:`ChatStream` or :class:`ResponseStream` (from the client); this base holds the
    lifetime and fan-out shared by both.
    """

    def __init__(
        self,
        feed: EventFeed,
        accumulator: _Acc,
        stages: Stages,
        *,
        idle_timeout: float | None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.accumulator = accumulator
        """The sans-IO state the stream's events come from (snapshots live here)."""
        self._feed = feed
        self._stages = stages
        self._idle_timeout = idle_timeout
        self.headers: Mapping[str, str] = headers if headers is not None else {}
        """The response headers (aiohttp's case-insensitive view; not copied)."""
        self._observers: tuple[_Observer, ...] = ()
        self._waiters = 0
        self._routes: dict[type[Any], tuple[tuple[_Observer, Callable[[Any], Any]], ...]] = {}
        self._task: asyncio.Task[None] | None = None
        self._done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._error: Exception | None = None
        self._closing = False
        self.events: Observable[_Event] = reactivex.create(self._subscribe_rx)
        """The hot event stream (Rx). Subscribe, then start the stream."""

    # -- public surface -------------------------------------------------------------------

    @property
    def request_id(self) -> str | None:
        """The server's ``x-request-id`` for this request."""
        return self.headers.get("x-request-id")

    @property
    def started(self) -> bool:
        return self._task is not None

    @property
    def finished(self) -> bool:
        """True once the stream completed, failed or was closed."""
        return self._done.done()

    @property
    def error(self) -> Exception | None:
        """What ended the stream, if it did not complete normally."""
        return self._error

    def on(
        self,
        event_type: type[_E] | tuple[type[Any], ...],
        callback: Callable[[_E], Any],
    ) -> abc.DisposableBase:
        """Call ``callback(event)`` for every event of ``event_type``; dispose to stop.

        >>> stream.on(ox.ContentDelta, lambda e: print(e.delta, end=""))  # doctest: +SKIP
        """
        return self._attach(_TypedCallback(event_type, callback))

    def start(self) -> None:
        """Begin reading (idempotent). Subscribe before this to see every event."""
        if self._task is not None or self._done.done():
            return
        ingress = self._stages(_Hub(self._emit, self._fail, self._complete))
        self._task = asyncio.get_running_loop().create_task(self._pump(ingress))

    async def until_done(self) -> None:
        """Start if needed and wait for the end; raises what ended the stream."""
        await self._wait()

    async def aclose(self) -> None:
        """Abort: close the connection, end every subscriber, wait for the pump to exit."""
        self._closing = True
        task = self._task
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, asyncio.TimeoutError):
                await asyncio.wait_for(asyncio.shield(task), CLOSE_GRACE_SECONDS)
        self._feed.abort()
        if not self._done.done():
            self._end(self._closed_error(), quiet=True)

    async def __aenter__(self) -> StreamHandle[_Event, _Acc]:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    def __aiter__(self) -> AsyncIterator[_Event]:
        """Every event in order, from the start (or from now, if the stream already runs)."""
        return self._iterate()

    # -- internals ------------------------------------------------------------------------

    async def _iterate(self) -> AsyncIterator[_Event]:
        inbox = _Inbox()
        disposable = self._attach(inbox)
        try:
            self.start()
            while True:
                while inbox.items:
                    yield inbox.items.popleft()
                if inbox.end is not None:
                    break
                inbox.waiter = asyncio.get_running_loop().create_future()
                await inbox.waiter
                inbox.waiter = None
        finally:
            if inbox.end is None:
                disposable.dispose()
        if inbox.end[0] is not None:
            raise inbox.end[0]

    async def _wait(self) -> None:
        if self._done.done():
            if self._error is not None:
                raise self._error
            return
        self._waiters += 1
        try:
            self.start()
            await asyncio.shield(self._done)
        finally:
            self._waiters -= 1
            self._abort_if_unwatched()
        if self._error is not None:
            raise self._error

    def _subscribe_rx(
        self, observer: abc.ObserverBase[_Event], scheduler: abc.SchedulerBase | None = None
    ) -> abc.DisposableBase:
        return self._attach(observer)

    def _attach(self, observer: _Observer) -> abc.DisposableBase:
        if self._done.done():
            if self._error is not None and not self._closing:
                observer.on_error(self._error)
            else:
                observer.on_completed()
            return Disposable()
        self._observers = (*self._observers, observer)
        self._subscribers_changed()
        return Disposable(lambda: self._detach(observer))

    def _detach(self, observer: _Observer) -> None:
        remaining = tuple(o for o in self._observers if o is not observer)
        if len(remaining) == len(self._observers):
            return
        self._observers = remaining
        self._subscribers_changed()
        self._abort_if_unwatched()

    def _subscribers_changed(self) -> None:
        """The set of subscribers changed: forget cached routes (subclasses extend this)."""
        self._routes = {}

    def _wants(self, event_type: type[Any]) -> bool:
        """Whether any current subscriber could receive an event of ``event_type``."""
        return any(
            not isinstance(o, _TypedCallback) or issubclass(event_type, o.classes)
            for o in self._observers
        )

    def _abort_if_unwatched(self) -> None:
        if self._observers or self._waiters or self._task is None or self._done.done():
            return
        # Nobody is listening any more: stop paying for the generation.
        self._closing = True
        self._task.cancel()

    def _emit(self, event: _Event) -> None:
        route = self._routes.get(type(event))
        if route is None:
            route = self._route(type(event))
        for observer, deliver in route:
            try:
                deliver(event)
            except Exception as exc:
                self._evict(observer, exc)

    def _route(self, event_type: type[Any]) -> tuple[tuple[_Observer, Callable[[Any], Any]], ...]:
        """Who receives events of ``event_type``, and how: ``on()`` callbacks are called
        directly, without their filter's frame. Cached until the subscribers change."""
        route = tuple(
            (o, o.callback) if isinstance(o, _TypedCallback) else (o, o.on_next)
            for o in self._observers
            if not isinstance(o, _TypedCallback) or issubclass(event_type, o.classes)
        )
        self._routes[event_type] = route
        return route

    def _evict(self, observer: _Observer, exc: Exception) -> None:
        log.error("a stream subscriber raised; it was detached", exc_info=exc)
        self._observers = tuple(o for o in self._observers if o is not observer)
        self._subscribers_changed()
        with contextlib.suppress(Exception):
            observer.on_error(exc)

    def _fail(self, error: Exception) -> None:
        self._end(error)

    def _complete(self) -> None:
        self._end(None)

    def _end(self, error: Exception | None, *, quiet: bool = False) -> None:
        if self._done.done():
            return
        self._error = error
        observers, self._observers = self._observers, ()
        self._routes = {}
        for observer in observers:
            try:
                if error is None or quiet:
                    observer.on_completed()
                else:
                    observer.on_error(error)
            except Exception as exc:
                log.error("a stream subscriber raised at the end of the stream", exc_info=exc)
        self._done.set_result(None)

    async def _pump(self, ingress: Sink) -> None:
        task = asyncio.current_task()
        assert task is not None
        watchdog = _IdleWatchdog(self._idle_timeout, task) if self._idle_timeout else None
        batches = aiter(self._feed)
        done = self._done
        try:
            async for batch in batches:
                if watchdog is not None:
                    watchdog.progress()
                for event in batch:
                    ingress.on_next(event)
                    if done.done():
                        break
                if done.done():
                    break
            else:
                ingress.on_completed()
        except asyncio.CancelledError:
            if watchdog is not None and watchdog.fired and not self._closing:
                task.uncancel()
                ingress.on_error(
                    APITimeoutError(f"No event arrived for {self._idle_timeout:g} s (idle timeout)")
                )
            elif not self._closing:
                raise
        except OxideRxError as exc:
            ingress.on_error(exc)
        except Exception as exc:
            ingress.on_error(APIConnectionError(f"The stream broke: {type(exc).__name__}: {exc}"))
        finally:
            if watchdog is not None:
                watchdog.cancel()
            await _close_quietly(batches)
            if self._error is None and done.done():
                await self._feed.finish()
            else:
                self._feed.abort()
            if not done.done():
                self._end(self._closed_error(), quiet=True)

    def _closed_error(self) -> StreamTruncatedError:
        error = StreamTruncatedError("The stream was closed before it finished.")
        error.partial = self._partial()
        return error

    def _partial(self) -> Any:
        """The snapshot an error carries (subclasses know their accumulator)."""
        return None


async def _close_quietly(iterator: AsyncIterator[Any]) -> None:
    aclose = getattr(iterator, "aclose", None)
    if aclose is not None:
        with contextlib.suppress(Exception):
            await aclose()


class ChatStream(StreamHandle[Any, ChatCompletionAccumulator]):
    """A streamed chat completion: helper events, raw chunks and the accumulated completion.

    >>> stream = await client.chat.completions.create_stream(  # doctest: +SKIP
    ...     model="gpt-4o-mini", messages=[{"role": "user", "content": "Hi"}])
    >>> stream.on(ox.ContentDelta, lambda e: print(e.delta, end=""))  # doctest: +SKIP
    >>> completion = await stream.final_completion()                  # doctest: +SKIP
    """

    def _partial(self) -> ChatCompletion:
        return self.accumulator.completion()

    def _subscribers_changed(self) -> None:
        # A Chunk event per wire chunk costs ~0.3 µs to build and fan out; skip it while
        # nobody can receive one (only on() callbacks for other types are attached).
        super()._subscribers_changed()
        self.accumulator.emit_chunks = self._wants(Chunk)

    async def final_completion(self) -> ChatCompletion:
        """Run to the end and return the completion with every choice."""
        await self._wait()
        return self.accumulator.completion()

    def current_completion(self) -> ChatCompletion:
        """The completion accumulated so far (readable after an error too)."""
        return self.accumulator.completion()

    def current_content(self, choice: int = 0) -> str:
        """The text of ``choice`` so far."""
        return self.accumulator.current_content(choice)


class ResponseStream(StreamHandle[Any, ResponseAccumulator]):
    """A streamed Responses API response: wire events, helper events and the final Response.

    >>> stream = await client.responses.create_stream(model=..., input="Hi")  # doctest: +SKIP
    >>> print((await stream.final_response()).output_text)                   # doctest: +SKIP
    """

    def _partial(self) -> Response:
        return self.accumulator.response()

    async def final_response(self) -> Response:
        """Run to the end and return the response (``response.output_text`` for the text)."""
        await self._wait()
        return self.accumulator.response()

    def current_response(self) -> Response:
        """The response accumulated so far (readable after an error too)."""
        return self.accumulator.response()

    def current_content(self) -> str:
        """All output text so far."""
        return self.accumulator.current_content()
