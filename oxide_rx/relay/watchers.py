"""Who watches a generation: counted on each node, shared through the log as one flag per
node, so the owner's unwatched policy sees viewers on every node.

Counts change on every viewer's arrival and departure (a plain call, no await); only a change
between "none" and "some" is written to the log, by one task per node that writes the
current state, so quick arrivals and departures never land out of order.
"""

from __future__ import annotations

import asyncio
import logging

from .log import GenerationLog, RelayError

__all__ = ["Watchers"]

log = logging.getLogger("oxide_rx.relay")

# How long shutdown waits for the last flags to be written.
_FLUSH_TIMEOUT = 10.0


class Watchers:
    """Viewers per generation on one node, and whether each is watched anywhere."""

    def __init__(self, generation_log: GenerationLog, node: str) -> None:
        self.log = generation_log
        self.node = node
        self._counts: dict[str, int] = {}
        self._dirty: set[str] = set()
        self._task: asyncio.Task[None] | None = None

    def count(self, generation_id: str) -> int:
        """Viewers of the generation on this node."""
        return self._counts.get(generation_id, 0)

    def change(self, generation_id: str, delta: int) -> int:
        """Add ``delta`` viewers on this node; the new count."""
        before = self._counts.get(generation_id, 0)
        after = before + delta
        if after > 0:
            self._counts[generation_id] = after
        else:
            self._counts.pop(generation_id, None)
        if (before > 0) != (after > 0):
            self._dirty.add(generation_id)
            if self._task is None or self._task.done():
                self._task = asyncio.get_running_loop().create_task(self._share())
        return after

    async def watched(self, generation_id: str) -> bool:
        """Whether anyone, on this node or another, watches the generation."""
        if self.count(generation_id):
            return True
        try:
            return await self.log.watched(generation_id)
        except RelayError as exc:  # cannot tell: keep the generation rather than cut it
            log.warning("relay: could not ask who watches %s: %s", generation_id, exc)
            return True

    async def flush(self) -> None:
        """Wait until the log has this node's flags as they are now."""
        task = self._task
        if task is not None and not task.done():
            await asyncio.wait([task], timeout=_FLUSH_TIMEOUT)

    async def _share(self) -> None:
        while self._dirty:
            generation_id = self._dirty.pop()
            watching = self._counts.get(generation_id, 0) > 0
            try:
                await self.log.set_watching(generation_id, self.node, watching)
            except RelayError as exc:
                log.warning("relay: could not share who watches %s: %s", generation_id, exc)
