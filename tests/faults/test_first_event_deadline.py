"""Issue 11: ``Timeout(first_event=...)``, a deadline for the first output apart from the idle gap.

The policy and the watchdog run on virtual time (an injected clock: nothing here sleeps to
test a deadline); the end-to-end cases over raw sockets assert which deadline ended the
stream and what it kept, never how long it took.
"""

from __future__ import annotations

import asyncio
import heapq
from collections.abc import Callable
from typing import Any

import pytest
from rawsocket import RawConnection, chat_done, chat_text, chunk, event, responses_text, sse_head
from runs import chat_stream, responses_stream

import oxide_rx as ox
from oxide_rx._transport.watchdog import IdleWatchdog, due

# --- the policy ------------------------------------------------------------------------------


@pytest.mark.parametrize(("idle", "first", "output", "expected"), [
    (10, None, False, (60, "idle")),         # no first_event: idle from the last read
    (10, 300, False, (300, "first_event")),  # before output: first_event from the start
    (10, 300, True, (60, "idle")),           # after output: idle only
    (None, 300, True, None),                 # no idle: nothing after the first output
    (None, None, False, None),
    (600, 5, False, (5, "first_event")),     # first_event may be the shorter one
])
def test_which_deadline_applies(idle: float | None, first: float | None, output: bool,
                                expected: tuple[float, str] | None) -> None:
    assert due(started=0, last=50, idle=idle, first_event=first,
               output_started=output) == expected


# --- the watchdog on virtual time -----------------------------------------------------------


class VirtualClock:
    """A clock and timer queue the test moves by hand."""

    def __init__(self) -> None:
        self.now = 0.0
        self.timers: list[tuple[float, int, Callable[[], object]]] = []
        self.count = 0

    def time(self) -> float:
        return self.now

    def call_at(self, when: float, callback: Callable[[], object]) -> Any:
        self.count += 1
        heapq.heappush(self.timers, (when, self.count, callback))
        return _Handle(self, self.count)

    def advance(self, to: float) -> None:
        while self.timers and self.timers[0][0] <= to:
            when, _, callback = heapq.heappop(self.timers)
            self.now = when
            callback()
        self.now = to


class _Handle:
    def __init__(self, clock: VirtualClock, number: int) -> None:
        self.clock, self.number = clock, number

    def cancel(self) -> None:
        self.clock.timers = [t for t in self.clock.timers if t[1] != self.number]
        heapq.heapify(self.clock.timers)


class FakeTask:
    def __init__(self, clock: VirtualClock) -> None:
        self.clock = clock
        self.cancelled_at: float | None = None

    def cancel(self) -> None:
        self.cancelled_at = self.clock.now


def _watchdog(idle: float | None, first: float | None,
              output: Callable[[], bool]) -> tuple[VirtualClock, FakeTask, IdleWatchdog]:
    clock = VirtualClock()
    task = FakeTask(clock)
    dog = IdleWatchdog(idle, task, first_event=first, output_started=output,  # type: ignore[arg-type]
                       clock=clock)
    return clock, task, dog


def test_lifecycle_events_do_not_end_the_wait_for_the_first_output() -> None:
    clock, task, dog = _watchdog(idle=10, first=300, output=lambda: False)
    for t in range(5, 300, 5):  # a read every 5 s that carries no output
        clock.advance(t)
        dog.progress(t)
    assert task.cancelled_at is None
    clock.advance(400)
    assert (task.cancelled_at, dog.fired) == (300, "first_event")


def test_once_output_flows_a_stall_is_noticed_after_the_idle_gap() -> None:
    output = False
    clock, task, dog = _watchdog(idle=10, first=900, output=lambda: output)
    clock.advance(100)  # a reasoning model thinks, far longer than idle
    output = True
    dog.progress(100)
    clock.advance(1000)
    assert (task.cancelled_at, dog.fired) == (110, "idle")


def test_a_first_event_deadline_shorter_than_idle_fires_first() -> None:
    clock, task, dog = _watchdog(idle=600, first=5, output=lambda: False)
    clock.advance(1000)
    assert (task.cancelled_at, dog.fired) == (5, "first_event")


def test_without_first_event_the_idle_gap_applies_from_the_start() -> None:
    clock, task, dog = _watchdog(idle=10, first=None, output=lambda: False)
    clock.advance(7)
    dog.progress(7)
    clock.advance(100)
    assert (task.cancelled_at, dog.fired) == (17, "idle")


def test_with_no_idle_gap_nothing_fires_after_the_first_output() -> None:
    clock, task, dog = _watchdog(idle=None, first=30, output=lambda: True)
    clock.advance(10_000)
    assert task.cancelled_at is None and dog.fired is None


def test_cancel_stops_the_watchdog() -> None:
    clock, task, dog = _watchdog(idle=10, first=30, output=lambda: False)
    dog.cancel()
    clock.advance(1000)
    assert task.cancelled_at is None


# --- end to end over raw sockets -------------------------------------------------------------

PAUSE = 0.4  # a server's "thinking" pause: longer than the idle gap set below


def _paced(first: bytes, later: bytes, then_hold: bool = False) -> Any:
    async def handler(conn: RawConnection) -> None:
        if await conn.request() is None:
            return
        conn.send(first)
        await conn.flush()
        await asyncio.sleep(PAUSE)
        conn.send(later)
        await conn.flush()
        if then_hold:
            await conn.wait_closed_by_client()
        conn.close()

    return handler


CHAT_END = chunk(event(chat_text("", "stop"))) + chunk(chat_done()) + chunk(b"")


async def test_a_long_think_before_the_first_token_is_not_an_idle_timeout() -> None:
    handler = _paced(sse_head(), chunk(event(chat_text("Hi"))) + CHAT_END)
    outcome = await chat_stream(handler, timeout=ox.Timeout(idle=0.1, first_event=10))
    assert outcome.error is None, outcome.error
    assert outcome.result.choices[0].message.content == "Hi"


async def test_a_stall_after_the_first_token_is_an_idle_timeout_with_the_partial() -> None:
    handler = _paced(sse_head() + chunk(event(chat_text("Hel"))), b"", then_hold=True)
    outcome = await chat_stream(handler, timeout=ox.Timeout(idle=0.2, first_event=60))
    assert isinstance(outcome.error, ox.APITimeoutError), outcome.error
    assert "idle timeout" in str(outcome.error)
    assert outcome.partial_text == "Hel"
    assert outcome.requests == 1


async def test_no_output_within_first_event_is_a_first_event_timeout() -> None:
    lifecycle = b"".join(chunk(event(e)) for e in responses_text(["x"])[:2])
    handler = _paced(sse_head() + lifecycle, b"", then_hold=True)
    outcome = await responses_stream(handler, timeout=ox.Timeout(idle=60, first_event=0.2))
    assert isinstance(outcome.error, ox.APITimeoutError), outcome.error
    assert "first_event" in str(outcome.error)
    assert outcome.partial_text == ""
    assert outcome.error.partial.status == "in_progress"


async def test_responses_lifecycle_events_then_a_long_think_then_text() -> None:
    events = responses_text(["Thought ", "through."])
    early = b"".join(chunk(event(e)) for e in events[:4])  # created ... content_part.added
    rest = b"".join(chunk(event(e)) for e in events[4:]) + chunk(b"")
    outcome = await responses_stream(_paced(sse_head() + early, rest),
                                     timeout=ox.Timeout(idle=0.1, first_event=10))
    assert outcome.error is None, outcome.error
    assert outcome.result.output_text == "Thought through."
