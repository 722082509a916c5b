"""Sources: async producers as cold observables, pumped on the asyncio loop by the same pump
as the client's streams (:mod:`.pump`)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterable, AsyncIterator, Callable
from typing import TypeVar

import aiohttp
import reactivex
from reactivex import Observable, abc
from reactivex.disposable import Disposable

from .._transport.reads import BodyReads
from .pump import close_quietly, push_batches

__all__ = ["from_aiohttp", "from_async_iterable"]

_T = TypeVar("_T")


async def _one_by_one(items: AsyncIterable[_T]) -> AsyncIterator[tuple[_T]]:
    iterator = aiter(items)
    try:
        async for item in iterator:
            yield (item,)
    finally:
        await close_quietly(iterator)


def from_async_iterable(factory: Callable[[], AsyncIterable[_T]]) -> Observable[_T]:
    """Each subscription calls ``factory()`` and pumps it on the running loop's task.

    Items are pushed synchronously through the whole operator chain, so the pump awaits the
    next item only after every subscriber returned (implicit backpressure). Disposing cancels
    the pump, which closes the iterator (its ``finally`` runs). An exception the iterable
    raises reaches subscribers' ``on_error`` as it is.
    """

    def subscribe(
        observer: abc.ObserverBase[_T], scheduler: abc.SchedulerBase | None = None
    ) -> abc.DisposableBase:
        async def pump() -> None:
            batches = _one_by_one(factory())
            try:
                await push_batches(batches, observer)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                observer.on_error(exc)
            finally:
                await close_quietly(batches)

        task = asyncio.get_running_loop().create_task(pump())

        def dispose() -> None:
            task.cancel()

        return Disposable(dispose)

    return reactivex.create(subscribe)


def from_aiohttp(response: aiohttp.ClientResponse) -> Observable[bytes]:
    """The body of an aiohttp response as network reads (``iter_any``), closed on dispose.

    A dropped connection becomes :class:`~oxide_rx.APIConnectionError`, after the bytes that
    arrived before it. The response can be read once, so subscribe once (several consumers:
    put the chain behind a stream, or use Rx's ``share``).
    """

    async def reads() -> AsyncIterator[bytes]:
        try:
            async with contextlib.aclosing(BodyReads(response)) as body:
                async for data in body:
                    yield data
        finally:
            response.close()

    return from_async_iterable(reads)
