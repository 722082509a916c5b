"""The stream's watchdog: cancels its pump when the next event is overdue.

Two deadlines (:class:`~oxide_rx.Timeout`): ``first_event``, counted from the start, while no
output has arrived yet; ``idle``, the gap since the last network read, after that (or from
the start when ``first_event`` is not set). :func:`due` is the policy, a pure function of
times; :class:`IdleWatchdog` applies it with the loop's clock and one timer.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, Literal, Protocol

__all__ = ["Clock", "IdleWatchdog", "due"]

Limit = Literal["idle", "first_event"]


def due(
    *,
    started: float,
    last: float,
    idle: float | None,
    first_event: float | None,
    output_started: bool,
) -> tuple[float, Limit] | None:
    """When the stream times out if nothing else arrives, and by which limit (``None``: it
    never does). ``started`` is when the stream started reading, ``last`` its last read.

    >>> due(started=0, last=50, idle=10, first_event=300, output_started=False)
    (300, 'first_event')
    >>> due(started=0, last=50, idle=10, first_event=300, output_started=True)
    (60, 'idle')
    """
    if first_event is not None and not output_started:
        return started + first_event, "first_event"
    if idle is None:
        return None
    return last + idle, "idle"


class Clock(Protocol):
    """What the watchdog needs of the event loop (a test passes a virtual one)."""

    def time(self) -> float: ...
    def call_at(self, when: float, callback: Callable[[], object]) -> asyncio.TimerHandle: ...


class IdleWatchdog:
    """Cancels ``task`` when :func:`due` says the stream is overdue.

    ``progress()`` is one attribute write per network read; the timer only re-arms itself
    when it fires early, so a fast stream pays nothing per event. While the first output is
    awaited it looks at least every ``idle`` seconds whether output has arrived
    (``output_started()``, only then), so that ``idle`` takes over at once. After it fired,
    ``fired`` says which limit passed (telling its cancellation apart from any other).
    """

    __slots__ = ("clock", "fired", "first_event", "handle", "idle", "last", "output_started",
                 "started", "task")

    def __init__(
        self,
        idle: float | None,
        task: asyncio.Task[Any],
        *,
        first_event: float | None = None,
        output_started: Callable[[], bool] = lambda: True,
        clock: Clock | None = None,
    ) -> None:
        self.idle = idle
        self.first_event = first_event
        self.output_started = output_started
        self.task = task
        self.clock: Clock = clock or asyncio.get_running_loop()
        self.started = self.last = self.clock.time()
        self.fired: Limit | None = None
        self.handle: asyncio.TimerHandle | None = None
        self._check()

    def progress(self, now: float) -> None:
        """Something arrived at ``now`` (the loop's time)."""
        self.last = now

    def _check(self) -> None:
        now = self.clock.time()
        waiting = self.first_event is not None and not self.output_started()
        deadline = due(started=self.started, last=self.last, idle=self.idle,
                       first_event=self.first_event, output_started=not waiting)
        if deadline is None:
            self.handle = None
            return
        when, limit = deadline
        if now >= when:
            self.fired = limit
            self.task.cancel()
            return
        if waiting and self.idle is not None:
            when = min(when, now + self.idle)  # look again: output may start meanwhile
        self.handle = self.clock.call_at(when, self._check)

    def cancel(self) -> None:
        if self.handle is not None:
            self.handle.cancel()
