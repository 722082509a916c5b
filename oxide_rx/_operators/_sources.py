"""Sources: turn async byte producers into cold observables driven by the asyncio loop."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterable, Callable
from typing import TypeVar

import aiohttp
import reactivex
from reactivex import Observable, abc
from reactivex.disposable import Disposable

from .._transport.errors import connection_error, safe_cause
from .._transport.feed import unread_bytes

_T = TypeVar("_T")


def from_async_iterable(factory: Callable[[], AsyncIterable[_T]]) -> Observable[_T]:
    """Each subscription calls ``factory()`` and pumps it on the running loop's task.

    Items are pushed synchronously through the whole operator chain, so the pump awaits the
    next item only after every subscriber returned (implicit backpressure). Disposing cancels
    the pump, which closes the iterator (its ``finally`` runs).
    """

    def subscribe(
        observer: abc.ObserverBase[_T], scheduler: abc.SchedulerBase | None = None
    ) -> abc.DisposableBase:
        async def pump() -> None:
            iterable = factory()
            try:
                async for item in iterable:
                    observer.on_next(item)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                observer.on_error(exc)
            else:
                observer.on_completed()
            finally:
                aclose = getattr(iterable, "aclose", None)
                if aclose is not None:
                    await aclose()

        task = asyncio.get_running_loop().create_task(pump())
        return Disposable(lambda: _cancel(task))

    return reactivex.create(subscribe)


def _cancel(task: asyncio.Task[None]) -> None:
    task.cancel()


def from_aiohttp(response: aiohttp.ClientResponse) -> Observable[bytes]:
    """The body of an aiohttp response as network reads (``iter_any``), closed on dispose.

    A dropped connection becomes :class:`~oxide_rx.APIConnectionError`. The response can be
    read once, so subscribe once (put ``share``-free fan-out behind a
    :class:`~oxide_rx.StreamHandle` if several consumers need it).
    """

    async def reads() -> AsyncIterable[bytes]:
        content = response.content
        try:
            try:
                async for data in content.iter_any():
                    yield data
                return
            except (aiohttp.ClientError, OSError) as exc:
                broken = exc
            rest = unread_bytes(content)
            if rest:
                yield rest  # what arrived before the break is delivered before the error
            raise connection_error(broken, mid_body=True) from safe_cause(broken)
        finally:
            response.close()

    return from_async_iterable(reads)


__all__ = ["from_aiohttp", "from_async_iterable"]
