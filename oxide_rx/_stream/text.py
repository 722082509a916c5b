"""A stream's answer as plain async iterators, pulled at the consumer's pace.

Whatever arrived while the consumer was busy comes as one item (the pieces joined, or the
latest text), so a slow consumer never falls behind and never pays for text it did not ask
for. Used by ``stream.iter_text()`` / ``stream.iter_snapshots()``.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Callable

from reactivex import abc

from ..events import ContentDelta
from .fanout import TypedCallback
from .inbox import Inbox, drain_batches

__all__ = ["Attach", "iter_snapshots", "iter_text"]

Attach = Callable[[TypedCallback], abc.DisposableBase]
"""How a stream takes a subscriber (its ``_attach``)."""


def _deltas(
    attach: Attach, start: Callable[[], None]
) -> AsyncGenerator[list[ContentDelta], None]:
    def subscribe(inbox: Inbox[ContentDelta]) -> abc.DisposableBase:
        return attach(TypedCallback(ContentDelta, inbox.on_next, inbox))

    return drain_batches(subscribe, start)


async def iter_text(
    attach: Attach, start: Callable[[], None], choice: int = 0
) -> AsyncGenerator[str, None]:
    """The text of ``choice`` as it arrives; joined, the items are the whole text."""
    async for batch in _deltas(attach, start):
        text = "".join([event.delta for event in batch if event.choice == choice])
        if text:
            yield text


async def iter_snapshots(
    attach: Attach, start: Callable[[], None], choice: int = 0
) -> AsyncGenerator[str, None]:
    """The text of ``choice`` so far, each time something new arrived; the final text last.
    Several output text parts (Responses API) are joined in order, as ``output_text`` joins
    them."""
    earlier: list[str] = []  # final texts of the parts before the current one
    current: ContentDelta | None = None
    async for batch in _deltas(attach, start):
        fresh = False
        for event in batch:
            if event.choice != choice:
                continue
            if current is not None and current.output_index != event.output_index:
                earlier.append(current.snapshot)
            current, fresh = event, True
        if fresh and current is not None:
            yield "".join([*earlier, current.snapshot])
