"""The pump: an async source of batches pushed synchronously into a sink.

Used by every stream (payload batches from a feed) and by the public sources
(``ox.from_async_iterable``, ``ox.from_aiohttp``): the only ``await`` is for the next batch,
so every item of a network read goes through the chain in one tight loop.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any, TypeVar

from .._pipeline.sink import Sink

__all__ = ["close_quietly", "push_batches"]

_T = TypeVar("_T")


def _never() -> bool:
    return False


async def push_batches(
    batches: AsyncIterator[Sequence[_T]],
    sink: Sink[_T],
    ended: Callable[[], bool] = _never,
    progress: Callable[[int], None] | None = None,
) -> None:
    """Push every item of every batch into ``sink`` until the source is exhausted (then
    ``sink.on_completed()``) or ``ended()`` says the sink needs no more (checked after each
    batch: a sink that ended ignores the rest of its batch). ``progress(len(batch))`` is
    called as each batch arrives, before it goes through. Exceptions from the source
    propagate."""
    push = sink.on_next
    item: _T | None = None
    async for batch in batches:
        if progress is not None:
            progress(len(batch))
        for item in batch:
            push(item)
        # Not held while waiting for the next batch: an idle stream keeps no read of its own.
        del batch
        item = None
        if ended():
            return
    sink.on_completed()


async def close_quietly(iterator: AsyncIterator[Any]) -> None:
    """Close an async iterator (its ``finally`` blocks run); errors while closing are moot."""
    aclose = getattr(iterator, "aclose", None)
    if aclose is not None:
        with contextlib.suppress(Exception):
            await aclose()
