"""``smooth``: re-chunk streamed text by word, line or pattern, paced by its arrival rate.

Networks deliver text in bursts: ten tokens in one read, then nothing for 200 ms. ``smooth``
cuts the text of ``ContentDelta`` events into pieces (words, lines, or matches of a pattern)
and releases them at the pace the text arrives, so a reader sees it flow evenly.

Pacing, in three rules (all times from the scheduler's clock):

1. **Reading pace.** The arrival rate is measured in characters per second over the last
   ``_RATE_WINDOW`` arrivals. After a piece of ``n`` characters is shown, the next may follow
   ``n / (rate * _HEADROOM)`` seconds later. The headroom (reading a little faster than text
   arrives) means a steady stream never builds a backlog: when the previous piece has been
   "read", a new piece goes out the moment it is complete — a fast stream is not slowed.
2. **Latency cap.** No character is held longer than ``max_latency`` after it arrived.
   Pieces waiting in the queue are spread evenly over the time left to their deadlines
   (with ``i`` pieces to show by ``deadline_i``, the next is due an ``i``-th of the way from
   the last one shown), so a burst larger than the pace allows reads evenly within the cap
   instead of all at once at the deadline. An unfinished word also goes out at its deadline.
3. **End.** Completion or an error flushes everything pending at once, then ends.

Before two arrivals there is no rate: the first piece goes out at once and the rest of a first
burst is spread over the cap. No timer is set closer than ``_MIN_TICK``: pieces that fall due
meanwhile go out together at the next tick (each keeps its slot in the schedule, so the pace
holds; the cap holds too, since a timer is never set past a deadline).

Other events keep their order relative to the text: an event that arrives while text is
pending waits for exactly that text and goes out right after the piece that completes it
(it is never delayed by text that came after it, and never overtakes text that came before).
With nothing pending it passes through at once. ``ContentDone`` and ``Done`` mark the end of
a text, so the unfinished last word is released without waiting for its deadline; so does a
``ContentDelta`` of another choice or output part (interleaved choices, ``n > 1``, are therefore
re-chunked per delta, not per word). Empty text deltas (the role-only first chunk's) carry no
text and are dropped.
"""

from __future__ import annotations

import asyncio
import math
import re
import unicodedata
from collections import deque
from collections.abc import Callable
from typing import Any, Literal, TypeAlias, TypeVar

from reactivex import Observable, abc
from reactivex.disposable import CompositeDisposable, Disposable, SerialDisposable
from reactivex.scheduler.eventloop import AsyncIOScheduler

from .._core.text import TextBuffer
from ..events import ContentDelta, ContentDone, Done, _LazyContentDelta

__all__ = ["DEFAULT_MAX_LATENCY", "Chunking", "smooth_impl", "word_pattern"]

_T = TypeVar("_T")

Chunking: TypeAlias = Literal["word", "line"] | str | re.Pattern[str]
"""``"word"`` (CJK-aware), ``"line"``, or a regular expression: a piece ends where a match
ends (the text before the match is part of the piece)."""

DEFAULT_MAX_LATENCY = 0.25
"""Seconds. Long enough to even out the bursts of a typical network read pattern, short
enough that nobody notices the wait."""

_HEADROOM = 1.25
_RATE_WINDOW = 16
_MIN_TICK = 0.01
# A piece due this soon goes out now: timers fire a hair early or late (clock resolution).
_EARLY = 0.001

# Scripts written without spaces between words: segmented by character in "word" mode.
_NO_SPACE_RANGES = (
    (0x0E00, 0x0EFF),  # Thai, Lao
    (0x1000, 0x109F),  # Myanmar
    (0x1100, 0x11FF),  # Hangul Jamo
    (0x1780, 0x17FF),  # Khmer
    (0x2E80, 0x2FDF),  # CJK radicals, Kangxi radicals
    (0x3001, 0x303F),  # CJK symbols and punctuation (not U+3000, the ideographic space)
    (0x3040, 0x30FF),  # Hiragana, Katakana
    (0x3100, 0x318F),  # Bopomofo, Hangul compatibility Jamo
    (0x31F0, 0x31FF),  # Katakana phonetic extensions
    (0x3400, 0x4DBF),  # CJK Unified Ideographs extension A
    (0x4E00, 0x9FFF),  # CJK Unified Ideographs
    (0xAC00, 0xD7AF),  # Hangul syllables
    (0xF900, 0xFAFF),  # CJK compatibility ideographs
    (0xFF01, 0xFFEF),  # half-width and full-width forms
    (0x20000, 0x3134F),  # CJK extensions B-G
)
# Combining marks of those scripts (Thai vowels and tones, kana voicing ...) stay with the
# character before them; found with unicodedata so no table goes stale by hand.
_MARK_BLOCKS = ((0x0300, 0x036F), (0x0E00, 0x0EFF), (0x1000, 0x109F), (0x1160, 0x11FF),
                (0x1780, 0x17FF), (0x3099, 0x309A), (0xFE00, 0xFE0F), (0x200D, 0x200D))


def _char_class(ranges: tuple[tuple[int, int], ...]) -> str:
    return "".join(f"{re.escape(chr(a))}-{re.escape(chr(b))}" for a, b in ranges)


def _marks() -> str:
    marks = [
        chr(code)
        for low, high in _MARK_BLOCKS
        for code in range(low, high + 1)
        if unicodedata.category(chr(code)) in ("Mn", "Mc", "Me") or code == 0x200D
    ]
    return "".join(re.escape(mark) for mark in marks)


def word_pattern() -> re.Pattern[str]:
    """The ``"word"`` chunking: a word and the spaces after it; in scripts without spaces
    (Han, Kana, Hangul, Thai, ...) one character and its combining marks.

    A character of those scripts is complete once something other than a combining mark
    follows it; a word once a space or such a character follows it.

    >>> [m.group() for m in word_pattern().finditer("Hi there 你好。x")]
    ['Hi ', 'there ', '你', '好', '。']
    """
    cjk = _char_class(_NO_SPACE_RANGES)
    marks = _marks()
    return re.compile(
        rf"[^\s{cjk}]+(?:\s+|(?=[{cjk}]))"  # a word, then spaces or a CJK character
        rf"|[{cjk}][{marks}]*(?=[^{marks}])\s*"  # one CJK character, marks and spaces
    )


_WORD = word_pattern()
_LINE = re.compile(r"\n[\r\n]*")


def _compile(chunking: Chunking) -> re.Pattern[str]:
    if isinstance(chunking, re.Pattern):
        return chunking
    if chunking == "word":
        return _WORD
    if chunking == "line":
        return _LINE
    return re.compile(chunking)


def _content_delta(
    delta: str, buffer: TextBuffer, choice: int, output_index: int | None
) -> ContentDelta:
    """The one place that builds the re-chunked events: ``snapshot`` is ``buffer`` so far,
    built only if read (a lazy event, as the accumulators emit)."""
    buffer.append(delta)
    return _LazyContentDelta(delta, "", choice, output_index, buffer, buffer.length)


_Key: TypeAlias = tuple[int, "int | None"]


class _Piece:
    """Text ready to show, when it must be shown at the latest, and events that follow it."""

    __slots__ = ("deadline", "events", "key", "text")

    def __init__(self, text: str, key: _Key, deadline: float) -> None:
        self.text = text
        self.key = key
        self.deadline = deadline
        self.events: list[Any] = []


class _Smoother:
    """The state of one subscription: a queue of pieces, the unfinished tail, the pace."""

    def __init__(
        self,
        observer: abc.ObserverBase[Any],
        pattern: re.Pattern[str],
        max_latency: float,
        scheduler: abc.SchedulerBase,
        now: Callable[[], float],
    ) -> None:
        self.observer = observer
        self.pattern = pattern
        self.max_latency = max_latency
        self.scheduler = scheduler
        self.now = now
        self.timer = SerialDisposable()
        self.pieces: deque[_Piece] = deque()
        # Run-length deadlines of ``pieces`` ([deadline, count]): the spread bound per group.
        self.groups: deque[list[Any]] = deque()
        self.buffers: dict[_Key, TextBuffer] = {}
        # The unfinished end of the current text: its key, text, where each arrival starts
        # in it (offset, time), and events that arrived after a given offset of it.
        self.tail_key: _Key | None = None
        self.tail = ""
        self.tail_arrivals: list[tuple[int, float]] = []
        self.tail_events: list[tuple[int, Any]] = []
        # Arrival rate: (time, characters received so far) of the last arrivals.
        self.arrivals: deque[tuple[float, int]] = deque(maxlen=_RATE_WINDOW)
        self.received = 0
        self.last_shown_at = -math.inf
        self.last_shown_chars = 0
        self.draining = False
        self.stopped = False

    # -- input ------------------------------------------------------------------------------

    def on_next(self, event: Any) -> None:
        if isinstance(event, ContentDelta):
            if event.delta:
                self._text(event)
            return
        if isinstance(event, (ContentDone, Done)):
            self._close_tail()
        self._other(event)
        self._drain()

    def on_error(self, error: Exception) -> None:
        self._flush()
        if not self.stopped:
            self.stopped = True
            self.observer.on_error(error)

    def on_completed(self) -> None:
        self._flush()
        if not self.stopped:
            self.stopped = True
            self.observer.on_completed()

    def dispose(self) -> None:
        self.stopped = True
        self.timer.dispose()

    def _text(self, event: ContentDelta) -> None:
        now = self.now()
        key: _Key = (event.choice, event.output_index)
        if key != self.tail_key:
            self._close_tail()
            self.tail_key = key
            if key not in self.buffers:
                # Subscribed mid-text: snapshots continue from what came before.
                snapshot = event.snapshot
                self.buffers[key] = TextBuffer(snapshot[: len(snapshot) - len(event.delta)])
        delta = event.delta
        self.received += len(delta)
        arrivals = self.arrivals
        if arrivals and arrivals[-1][0] >= now:
            arrivals[-1] = (arrivals[-1][0], self.received)
        else:
            arrivals.append((now, self.received))
        self.tail_arrivals.append((len(self.tail), now))
        self.tail += delta
        self._cut(closed=False)
        self._drain()

    def _other(self, event: Any) -> None:
        if self.tail:
            self.tail_events.append((len(self.tail), event))
        elif self.pieces:
            self.pieces[-1].events.append(event)
        elif not self.stopped:
            self.observer.on_next(event)

    # -- cutting the tail into pieces ---------------------------------------------------------

    def _cut(self, *, closed: bool) -> None:
        """Move the complete pieces at the start of the tail (all of it if ``closed``) to
        the queue, each with its deadline and the events that arrived inside it."""
        text, key = self.tail, self.tail_key
        if not text or key is None:
            return
        search = self.pattern.search
        start = pos = 0
        ends: list[int] = []
        while start < len(text):
            match = search(text, pos)
            if match is None:
                break
            end = match.end()
            if end <= start:  # an empty match where a piece starts: look further on
                pos = match.start() + 1
                if pos > len(text):
                    break
                continue
            ends.append(end)
            start = pos = end
        if closed and start < len(text):
            ends.append(len(text))
        if not ends:
            return
        arrivals, events = self.tail_arrivals, self.tail_events
        last = len(arrivals) - 1
        index = 0  # the arrival that brought the character at ``piece_start``
        piece_start = 0
        for end in ends:
            while index < last and arrivals[index + 1][0] <= piece_start:
                index += 1
            # The piece's deadline: when its first character arrived, plus the cap.
            piece = _Piece(text[piece_start:end], key, arrivals[index][1] + self.max_latency)
            while events and events[0][0] <= end:
                piece.events.append(events.pop(0)[1])
            self._push(piece)
            piece_start = end
        consumed = ends[-1]
        self.tail = text[consumed:]
        while index < last and arrivals[index + 1][0] <= consumed:
            index += 1
        self.tail_arrivals = (
            [(max(0, offset - consumed), time) for offset, time in arrivals[index:]]
            if self.tail else []
        )
        self.tail_events = [(offset - consumed, event) for offset, event in events]

    def _close_tail(self) -> None:
        """The current text ended (or another began): its last piece is complete."""
        self._cut(closed=True)
        self.tail_key = None

    def _push(self, piece: _Piece) -> None:
        self.pieces.append(piece)
        groups = self.groups
        if groups and groups[-1][0] == piece.deadline:
            groups[-1][1] += 1
        else:
            groups.append([piece.deadline, 1])

    # -- output ---------------------------------------------------------------------------------

    def _drain(self) -> None:
        """Show what is due now; arm the timer for what is due later."""
        if self.draining or self.stopped:
            return
        self.draining = True
        try:
            while not self.stopped:
                now = self.now()
                if self.tail and self._tail_deadline() <= now + _EARLY:
                    self._cut(closed=True)  # an unfinished word reached its deadline
                if self.pieces:
                    due = self._due()
                    if due <= now + _EARLY:
                        # Pieces shown in a batch keep their own slot in the schedule (so the
                        # pace holds across ticks); after an idle spell the schedule restarts.
                        self._show(due if due >= now - _MIN_TICK else now)
                        continue
                    # No timer closer than a tick: what falls due meanwhile goes out in one
                    # batch. Never later than a deadline, though: the cap holds.
                    self._arm(min(max(due - now, _MIN_TICK), self._next_deadline() - now))
                    return
                if self.tail:
                    self._arm(self._tail_deadline() - now)
                    return
                self.timer.disposable = Disposable()
                return
        finally:
            self.draining = False

    def _due(self) -> float:
        """When the head of the queue is due.

        Both bounds are measured from when the last piece was (virtually) shown, so they stay
        put when the timer fires: the reading pace of the last piece, and the deadlines spread
        evenly over the queue (with ``count`` pieces to show by ``deadline``, the next is due
        a ``count``-th of the way there).
        """
        last = self.last_shown_at
        if last == -math.inf:
            return last  # nothing shown yet: the first piece goes out at once
        rate = self._rate()
        due = math.inf if rate is None else last + self.last_shown_chars / (rate * _HEADROOM)
        count = 0
        for deadline, n in self.groups:
            count += n
            due = min(due, last + (deadline - last) / count)
        if self.tail:
            due = min(due, last + (self._tail_deadline() - last) / (count + 1))
        return due

    def _tail_deadline(self) -> float:
        return self.tail_arrivals[0][1] + self.max_latency

    def _next_deadline(self) -> float:
        deadline = self.pieces[0].deadline if self.pieces else math.inf
        if self.tail:
            deadline = min(deadline, self._tail_deadline())
        return deadline

    def _rate(self) -> float | None:
        """Characters per second over the recent arrivals (``None`` before two of them)."""
        arrivals = self.arrivals
        if len(arrivals) < 2:
            return None
        (first_time, first_count), (last_time, last_count) = arrivals[0], arrivals[-1]
        if last_time <= first_time:
            return None
        return (last_count - first_count) / (last_time - first_time)

    def _show(self, at: float) -> None:
        piece = self.pieces.popleft()
        head = self.groups[0]
        head[1] -= 1
        if head[1] == 0:
            self.groups.popleft()
        self.last_shown_at = at
        self.last_shown_chars = len(piece.text)
        self._emit(piece)

    def _emit(self, piece: _Piece) -> None:
        choice, output_index = piece.key
        on_next = self.observer.on_next
        on_next(_content_delta(piece.text, self.buffers[piece.key], choice, output_index))
        for event in piece.events:
            if self.stopped:
                return
            on_next(event)

    def _arm(self, delay: float) -> None:
        self.timer.disposable = self.scheduler.schedule_relative(max(0.0, delay), self._tick)

    def _tick(self, _: abc.SchedulerBase, __: Any = None) -> None:
        self._drain()

    def _flush(self) -> None:
        """Everything pending, at once: consecutive pieces of one text joined into one delta."""
        self.timer.dispose()
        if self.stopped:
            return
        self._close_tail()
        pieces, self.pieces = self.pieces, deque()
        self.groups.clear()
        while pieces and not self.stopped:
            piece = pieces.popleft()
            while pieces and not piece.events and pieces[0].key == piece.key:
                following = pieces.popleft()
                following.text = piece.text + following.text
                piece = following
            self._emit(piece)


def _default_scheduler(given: abc.SchedulerBase | None) -> abc.SchedulerBase:
    """Timers must run on the event loop: reactivex's default timer uses threads."""
    if isinstance(given, AsyncIOScheduler):
        return given
    return AsyncIOScheduler(asyncio.get_running_loop())


def smooth_impl(
    chunking: Chunking = "word",
    *,
    max_latency: float = DEFAULT_MAX_LATENCY,
    scheduler: abc.SchedulerBase | None = None,
) -> Callable[[Observable[_T]], Observable[_T]]:
    if max_latency < 0:
        raise ValueError("max_latency must be >= 0")
    pattern = _compile(chunking)

    def operator(source: Observable[_T]) -> Observable[_T]:
        def subscribe(
            observer: abc.ObserverBase[_T], subscribe_scheduler: abc.SchedulerBase | None = None
        ) -> abc.DisposableBase:
            timers = scheduler or _default_scheduler(subscribe_scheduler)

            def now() -> float:
                return timers.to_seconds(timers.now)

            smoother = _Smoother(observer, pattern, max_latency, timers, now)
            subscription = source.subscribe(
                smoother.on_next, smoother.on_error, smoother.on_completed,
                scheduler=subscribe_scheduler,
            )
            return CompositeDisposable(subscription, Disposable(smoother.dispose))

        return Observable(subscribe)

    return operator
