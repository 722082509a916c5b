"""The idle watchdog: cancels a stream's pump when no event arrived for too long."""

from __future__ import annotations

import asyncio
from typing import Any

__all__ = ["IdleWatchdog"]


class IdleWatchdog:
    """Cancels ``task`` when :meth:`progress` was not called for ``idle`` seconds.

    ``progress()`` is one attribute write per network read; the timer only re-arms itself
    when it fires early, so a fast stream pays nothing per event. After it fired, ``fired``
    tells the task's cancellation apart from any other.
    """

    __slots__ = ("fired", "handle", "idle", "last", "loop", "task")

    def __init__(self, idle: float, task: asyncio.Task[Any]) -> None:
        self.idle = idle
        self.task = task
        self.loop = asyncio.get_running_loop()
        self.last = self.loop.time()
        self.fired = False
        self.handle = self.loop.call_at(self.last + idle, self._check)

    def progress(self, now: float) -> None:
        """Something arrived at ``now`` (the loop's time)."""
        self.last = now

    def _check(self) -> None:
        due = self.last + self.idle
        if self.loop.time() >= due:
            self.fired = True
            self.task.cancel()
        else:
            self.handle = self.loop.call_at(due, self._check)

    def cancel(self) -> None:
        self.handle.cancel()
