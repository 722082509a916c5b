"""``iter_text`` / ``iter_snapshots``: a stream's answer as plain async iterators.

They pull at the consumer's pace: whatever arrived while the consumer was busy comes as one
item (the pieces joined, or the latest text), so a slow consumer never falls behind and never
pays for text it did not ask for. (These will become ``stream.iter_text()`` /
``stream.iter_snapshots()``.)
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Callable
from typing import TYPE_CHECKING, Any

from ..events import ContentDelta
from ..operators import of_type

if TYPE_CHECKING:  # the package imports ui before it defines its names
    from .. import StreamHandle

__all__ = ["iter_snapshots", "iter_text"]


class _Signal:
    """Wakes the consumer when something arrived or the stream ended."""

    __slots__ = ("end", "waiter")

    def __init__(self) -> None:
        self.waiter: asyncio.Future[None] | None = None
        self.end: tuple[Exception | None] | None = None

    def wake(self) -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(None)

    def fail(self, error: Exception) -> None:
        self.end = (error,)
        self.wake()

    def complete(self) -> None:
        self.end = (None,)
        self.wake()

    async def wait(self) -> None:
        self.waiter = asyncio.get_running_loop().create_future()
        try:
            await self.waiter
        finally:
            self.waiter = None

    def raise_if_failed(self) -> None:
        if self.end is not None and self.end[0] is not None:
            raise self.end[0]


async def _pulled(
    stream: StreamHandle[Any],
    arrived: Callable[[ContentDelta], bool],
    take: Callable[[], str | None],
) -> AsyncGenerator[str]:
    """Subscribe, start, then yield ``take()`` whenever ``arrived`` said something new came."""
    signal = _Signal()

    def on_delta(event: ContentDelta) -> None:
        if arrived(event):
            signal.wake()

    subscription = stream.events.pipe(of_type(ContentDelta)).subscribe(
        on_delta, signal.fail, signal.complete
    )
    try:
        stream.start()
        while True:
            item = take()
            if item is not None:
                yield item
            elif signal.end is not None:
                break
            else:
                await signal.wait()
    finally:
        subscription.dispose()
    signal.raise_if_failed()


def iter_text(stream: StreamHandle[Any], *, choice: int = 0) -> AsyncGenerator[str]:
    """The answer's text as it arrives; joined, the items are the whole text.

    Starts the stream (subscribe first if you want other consumers too). Raises what ended
    the stream if it failed, after the text that arrived before; leaving the loop early
    (``break``, cancellation) stops listening, which aborts the request if nobody else listens.

    >>> async for text in ox.ui.iter_text(stream):  # doctest: +SKIP
    ...     print(text, end="", flush=True)
    """
    pieces: list[str] = []

    def arrived(event: ContentDelta) -> bool:
        if event.choice != choice:
            return False
        pieces.append(event.delta)
        return True

    def take() -> str | None:
        if not pieces:
            return None
        text = "".join(pieces)
        pieces.clear()
        return text

    return _pulled(stream, arrived, take)


def iter_snapshots(stream: StreamHandle[Any], *, choice: int = 0) -> AsyncGenerator[str]:
    """The answer so far, each time the consumer asks and new text arrived; always the final
    text last. Several output text parts (Responses API) are joined in order, as
    ``output_text`` joins them.

    What Gradio, Panel and NiceGUI generators yield; a consumer that renders slowly simply
    skips the intermediate texts (each item costs one string of the text so far).

    >>> async for text in ox.ui.iter_snapshots(stream):  # doctest: +SKIP
    ...     yield text
    """
    earlier_parts: list[str] = []  # final texts of the parts before the current one
    current: list[ContentDelta] = []  # the newest delta of the current part
    fresh: list[bool] = [False]  # something arrived since the consumer last looked

    def arrived(event: ContentDelta) -> bool:
        if event.choice != choice:
            return False
        if current and current[0].output_index != event.output_index:
            earlier_parts.append(current[0].snapshot)
        current[:] = [event]
        fresh[0] = True
        return True

    def take() -> str | None:
        if not fresh[0]:
            return None
        fresh[0] = False
        return "".join([*earlier_parts, current[0].snapshot])

    return _pulled(stream, arrived, take)
