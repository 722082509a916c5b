"""The one bridge from push to pull: an observer that queues what it gets, drained by
``async for``. Streams, compat and the UI adapters all iterate through it."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncGenerator, Callable
from typing import Generic, Protocol, TypeVar

from reactivex import Observable

__all__ = ["Inbox", "drain", "drain_batches", "observe"]

_T = TypeVar("_T")


class _Subscription(Protocol):
    def dispose(self) -> None: ...


class Inbox(Generic[_T]):
    """The queue behind one ``async for``: unbounded, because a push source cannot be slowed
    (LLM token rates are low; the stream's own limits bound what one event can hold)."""

    __slots__ = ("end", "items", "waiter")

    def __init__(self) -> None:
        self.items: deque[_T] = deque()
        self.waiter: asyncio.Future[None] | None = None
        self.end: tuple[Exception | None] | None = None

    def _wake(self) -> None:
        waiter = self.waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def on_next(self, value: _T) -> None:
        self.items.append(value)
        self._wake()

    def on_error(self, error: Exception) -> None:
        self.end = (error,)
        self._wake()

    def on_completed(self) -> None:
        self.end = (None,)
        self._wake()


async def drain_batches(
    subscribe: Callable[[Inbox[_T]], _Subscription], start: Callable[[], None] | None = None
) -> AsyncGenerator[list[_T], None]:
    """Subscribe an :class:`Inbox`, call ``start`` (if given), then yield everything queued
    since the last step as one list, until the source ends; raises the source's error after
    the items before it. A consumer that is slower than the source gets bigger lists, never a
    backlog of steps. Leaving the loop early disposes the subscription."""
    inbox: Inbox[_T] = Inbox()
    subscription = subscribe(inbox)
    try:
        if start is not None:
            start()
        items = inbox.items
        while True:
            if items:
                batch = list(items)
                items.clear()
                yield batch
            elif inbox.end is not None:
                break
            else:
                inbox.waiter = asyncio.get_running_loop().create_future()
                await inbox.waiter
                inbox.waiter = None
    finally:
        if inbox.end is None:
            subscription.dispose()
    if inbox.end[0] is not None:
        raise inbox.end[0]


async def drain(
    subscribe: Callable[[Inbox[_T]], _Subscription], start: Callable[[], None] | None = None
) -> AsyncGenerator[_T, None]:
    """Like :func:`drain_batches`, one item at a time."""
    async for batch in drain_batches(subscribe, start):
        for item in batch:
            yield item


def observe(
    observable: Observable[_T], *, start: Callable[[], None] | None = None
) -> AsyncGenerator[_T, None]:
    """Iterate an observable's items; subscribes first, then calls ``start`` (if given).

    >>> async for delta in observe(stream.events, start=stream.start):  # doctest: +SKIP
    ...     print(delta)
    """

    def subscribe(inbox: Inbox[_T]) -> _Subscription:
        return observable.subscribe(inbox.on_next, inbox.on_error, inbox.on_completed)

    return drain(subscribe, start)
