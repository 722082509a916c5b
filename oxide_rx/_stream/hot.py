"""What every hot, single-use event source of the library shares: a stream, a tool run.

One task produces the events; a fan-out delivers them to subscribers (``on``, ``events``,
``async for``); the end is a future settled once. Nobody watching (no subscriber, no waiter)
while it runs cancels the task: an abandoned generation stops costing money. Subclasses say
how to start (:meth:`HotSource.start`) and what closing means (their ``aclose``).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections.abc import AsyncIterator, Callable
from typing import Any, Generic, TypeVar

from reactivex import Observable, abc
from reactivex.disposable import Disposable

from .._pipeline.select import TypedSource
from .._pipeline.sink import Sink
from .._resource import AsyncResource
from .fanout import FanOut, TypedCallback
from .inbox import Inbox, drain

__all__ = ["CLOSE_GRACE_SECONDS", "HotSource"]

_E = TypeVar("_E")
_On = TypeVar("_On")

CLOSE_GRACE_SECONDS = 5.0
"""How long ``aclose()`` waits for the producing task to finish its cleanup."""


class HotSource(AsyncResource, Generic[_E]):
    """Fan-out, waiters and the end of a hot source; the producing task is the subclass's."""

    def __init__(self) -> None:
        loop = asyncio.get_running_loop()
        self._fanout: FanOut[_E] = FanOut(self._subscribers_changed)
        self._task: asyncio.Task[None] | None = None
        self._done: asyncio.Future[None] = loop.create_future()
        self._error: Exception | None = None
        self._waiters: list[asyncio.Future[None]] = []
        self._closing = False

    @functools.cached_property
    def events(self) -> Observable[_E]:
        """The hot event stream (Rx). Subscribe, then start."""
        return _Events(self)  # made when asked: most streams never are

    def start(self) -> None:
        raise NotImplementedError

    @property
    def finished(self) -> bool:
        """True once it completed, failed or was closed."""
        return self._done.done()

    def on(
        self,
        event_type: type[_On] | tuple[type[Any], ...],
        callback: Callable[[_On], object],
    ) -> abc.DisposableBase:
        """Call ``callback(event)`` for every event of ``event_type`` (a class, or a tuple of
        classes: annotate the callback's parameter with their union); dispose to stop.

        >>> stream.on(ox.ContentDelta, lambda e: print(e.delta, end=""))  # doctest: +SKIP
        """
        return self._attach(TypedCallback(event_type, callback))

    async def until_done(self) -> None:
        """Start if needed and wait for the end; raises what ended it."""
        if not self._done.done():
            # A future of its own, resolved by _end: a cancelled waiter cancels only it, never
            # the stream's end (what asyncio.shield gives, at a quarter of its memory).
            waiter = self._done.get_loop().create_future()
            self._waiters.append(waiter)
            try:
                self.start()
                await waiter
            finally:
                self._waiters.remove(waiter)
                self._abort_if_unwatched()
        if self._error is not None:
            raise self._error

    def __aiter__(self) -> AsyncIterator[_E]:
        """Every event in order, from the start (or from now, if it already runs)."""
        return drain(self._attach, self.start)

    async def _cancel_task(self) -> None:
        """Cancel the producing task and give its cleanup a grace period."""
        self._closing = True
        task = self._task
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, asyncio.TimeoutError):
                await asyncio.wait_for(asyncio.shield(task), CLOSE_GRACE_SECONDS)

    def _subscribe_rx(
        self, observer: abc.ObserverBase[_E], scheduler: abc.SchedulerBase | None = None
    ) -> abc.DisposableBase:
        return self._attach(observer)

    def _attach(self, observer: Sink[Any] | Inbox[Any]) -> abc.DisposableBase:
        if self._done.done():
            if self._error is not None and not self._closing:
                observer.on_error(self._error)
            else:
                observer.on_completed()
            return Disposable()
        self._fanout.attach(observer)
        return Disposable(lambda: self._detach(observer))

    def _detach(self, observer: Sink[Any]) -> None:
        if self._fanout.detach(observer):
            self._abort_if_unwatched()

    def _subscribers_changed(self) -> None:
        """The fan-out's set of subscribers changed (a raising one is detached, too)."""

    def _abort_if_unwatched(self) -> None:
        if self._fanout.observers or self._waiters or self._task is None or self._done.done():
            return
        # Nobody is listening any more: stop paying for the generation.
        self._closing = True
        self._task.cancel()

    def _end(self, error: Exception | None, *, quiet: bool = False) -> None:
        if self._done.done():
            return
        self._error = error
        self._fanout.end(None if quiet else error)
        self._done.set_result(None)
        for waiter in self._waiters:
            if not waiter.done():
                waiter.set_result(None)


class _Events(TypedSource):
    """A hot source's ``events``: every event to an Rx subscriber; ``of_type`` on it
    subscribes by class (:class:`~oxide_rx._pipeline.select.TypedSource`)."""

    def __init__(self, source: HotSource[Any]) -> None:
        super().__init__(source._subscribe_rx)
        self._attach = source._attach

    def subscribe_typed(
        self, classes: tuple[type[Any], ...], observer: abc.ObserverBase[Any]
    ) -> abc.DisposableBase:
        return self._attach(TypedCallback(classes, observer.on_next, ends=observer))
