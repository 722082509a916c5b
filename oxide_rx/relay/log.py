"""The generation log: each generation's records, in order, with ids viewers resume from.

:class:`GenerationLog` is the interface; :class:`MemoryLog` keeps everything in this process.
The interface is shaped so that a Redis Streams log implements it unchanged: ``append`` is
``XADD`` (one per entry, or a pipeline), ``read`` is ``XRANGE``/``XREAD BLOCK`` from the last
id delivered, ``end`` adds the last entry and sets ``EXPIRE``, ``create`` is ``SET NX`` of an
owner key, and a stop is a key the owner waits on. Entry ids are opaque strings to viewers
(``"17"`` here, ``"1526919030474-0"`` on Redis): compare them only for equality.

What several nodes must agree on lives here too: which nodes have viewers of a generation
(the unwatched policy), aliases (a ``useChat`` chat id names its generation), and whether the
owner is alive. A log whose owners can die (another process's) raises :class:`OwnerLost`
from a blocking ``read`` once the owner stopped beating; a reader then writes the end on its
behalf with :meth:`GenerationLog.end_orphan`, so every viewer gets a typed end, never a hang.

Every ``read`` waits at most ``block`` seconds, so nothing hangs on a generation whose
producer died. Bounds (:class:`LogLimits`) are checked on ``create`` and ``append``; hitting
one raises :class:`RelayLimitError`, which the relay turns into a failed generation with its
partial answer kept.

>>> import asyncio
>>> async def demo() -> list[str]:
...     log = MemoryLog()
...     await log.create("gen_1", owner="node-a")
...     await log.append("gen_1", [b"first", b"second"])
...     return [entry.id for entry in await log.read("gen_1", after="1")]
>>> asyncio.run(demo())
['2']
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple, Protocol, runtime_checkable

import oxide_rx as ox

__all__ = [
    "Entry",
    "GenerationLog",
    "GenerationNotFound",
    "InvalidEventId",
    "LogLimits",
    "MemoryLog",
    "OwnerLost",
    "RelayError",
    "RelayLimitError",
]

# What an entry costs beyond its bytes (list slot, bytes header, id string); an estimate
# that keeps the memory bound honest for streams of tiny deltas.
ENTRY_OVERHEAD = 96


class RelayError(ox.OxideRxError):
    """Base of the relay's errors."""


class GenerationNotFound(RelayError, LookupError):
    """No generation with that id (never created, or expired after it ended)."""


class InvalidEventId(RelayError, ValueError):
    """A ``Last-Event-ID`` that is not an id of this generation's log."""


class RelayLimitError(RelayError):
    """A memory bound was hit. ``limit`` names it: ``"entries_per_generation"``,
    ``"bytes_per_generation"``, ``"bytes_total"`` or ``"generations"``."""

    def __init__(self, message: str, *, limit: str) -> None:
        super().__init__(message)
        self.limit = limit


class OwnerLost(RelayError):
    """The node that owns a running generation stopped sending heartbeats: nothing more will
    be appended. ``owner`` names it. Raised by a blocking :meth:`GenerationLog.read`; the
    reader ends the generation for it (:meth:`GenerationLog.end_orphan`)."""

    def __init__(self, message: str, *, owner: str) -> None:
        super().__init__(message)
        self.owner = owner


class Entry(NamedTuple):
    """One stored record: its id and its bytes."""

    id: str
    data: bytes


@dataclass(frozen=True)
class LogLimits:
    """Memory bounds of a :class:`MemoryLog` (defaults fit a small server).

    >>> LogLimits(bytes_per_generation=1 << 20).bytes_total
    268435456
    """

    entries_per_generation: int = 200_000
    bytes_per_generation: int = 32 << 20
    bytes_total: int = 256 << 20
    generations: int = 10_000


@runtime_checkable
class GenerationLog(Protocol):
    """Where generations' records live; the relay's only shared state.

    A generation's log is written by one owner (the node that holds the upstream request)
    and read by any number of viewers on any node.
    """

    async def create(self, generation_id: str, *, owner: str) -> bool:
        """Create an empty log owned by ``owner``; False if it exists (then join it)."""
        ...

    async def append(self, generation_id: str, entries: Sequence[bytes]) -> list[str]:
        """Append entries in order; their ids. Raises :class:`RelayLimitError` at a bound."""
        ...

    async def end(self, generation_id: str, last: Sequence[bytes], *, retention: float) -> str:
        """Append the last entries (the partial answer and the end record: never refused by
        a bound), refuse further appends, and keep the log for ``retention`` seconds.
        Returns the last entry's id."""
        ...

    async def read(
        self, generation_id: str, after: str | None = None, *, block: float = 0.0,
        count: int = 4096,
    ) -> list[Entry]:
        """Up to ``count`` entries after id ``after`` (``None``: from the first). When there
        are none yet and the log has not ended, wait up to ``block`` seconds for some; an
        empty list means "nothing new in time". Raises :class:`GenerationNotFound`,
        :class:`InvalidEventId`."""
        ...

    async def owner(self, generation_id: str) -> str | None:
        """The owner given to :meth:`create`, or None when there is no such log."""
        ...

    async def ids(self) -> list[str]:
        """The generations kept now, oldest first."""
        ...

    async def request_stop(self, generation_id: str) -> None:
        """Ask the owner to stop the generation (from any node)."""
        ...

    async def wait_stop(self, generation_id: str, timeout: float) -> bool:
        """The owner's side: True once a stop was requested, False after ``timeout``."""
        ...

    async def end_orphan(
        self, generation_id: str, last: Sequence[bytes], *, after: str | None, retention: float
    ) -> str | None:
        """:meth:`end` on behalf of an owner that is gone, only if it is gone, the log has
        not ended and its last entry is still ``after`` (what the caller read, None: empty).
        Returns the last entry's id, or None when it did nothing."""
        ...

    async def set_watching(self, generation_id: str, node: str, watching: bool) -> None:
        """Say whether ``node`` has viewers of the generation now (nothing if it is gone)."""
        ...

    async def watched(self, generation_id: str) -> bool:
        """Whether any live node has viewers of the generation."""
        ...

    async def set_alias(self, alias: str, generation_id: str) -> None:
        """Let ``alias`` (up to 256 characters) name the generation while it is kept."""
        ...

    async def alias(self, alias: str) -> str | None:
        """The generation ``alias`` names, or None."""
        ...


@dataclass(eq=False)
class _Generation:
    owner: str
    entries: list[bytes] = field(default_factory=list)
    size: int = 0
    ended_at: float | None = None
    expires_at: float | None = None
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    waiter: asyncio.Future[None] | None = None
    watchers: set[str] = field(default_factory=set)
    aliases: set[str] = field(default_factory=set)

    def wake(self) -> None:
        waiter, self.waiter = self.waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_result(None)


class MemoryLog:
    """A :class:`GenerationLog` in this process's memory, bounded by :class:`LogLimits`.

    Ended generations are kept for their retention time, and dropped earlier (oldest end
    first) when room is needed for a running one. ``clock`` is injectable for tests.
    """

    def __init__(
        self, limits: LogLimits | None = None, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.limits = limits or LogLimits()
        self._clock = clock
        self._generations: dict[str, _Generation] = {}
        self._aliases: dict[str, str] = {}
        self._size = 0

    @property
    def size(self) -> int:
        """Bytes held (entries plus an estimate of their overhead)."""
        return self._size

    # --- writers ------------------------------------------------------------------------

    async def create(self, generation_id: str, *, owner: str) -> bool:
        self._expire()
        if generation_id in self._generations:
            return False
        if len(self._generations) >= self.limits.generations:
            self._evict_ended(need_slots=1)
        if len(self._generations) >= self.limits.generations:
            raise RelayLimitError(
                f"The relay holds {len(self._generations)} generations (the limit).",
                limit="generations",
            )
        self._generations[generation_id] = _Generation(owner)
        return True

    async def append(self, generation_id: str, entries: Sequence[bytes]) -> list[str]:
        generation = self._get(generation_id)
        if generation.ended_at is not None:
            raise RelayError(f"Generation {generation_id!r} has ended; nothing can be added.")
        added = sum(len(data) + ENTRY_OVERHEAD for data in entries)
        limits = self.limits
        if len(generation.entries) + len(entries) > limits.entries_per_generation:
            raise RelayLimitError(
                f"Generation {generation_id!r} reached {limits.entries_per_generation} events.",
                limit="entries_per_generation",
            )
        if generation.size + added > limits.bytes_per_generation:
            raise RelayLimitError(
                f"Generation {generation_id!r} reached {limits.bytes_per_generation} bytes.",
                limit="bytes_per_generation",
            )
        if self._size + added > limits.bytes_total:
            self._evict_ended(need_bytes=added)
            if self._size + added > limits.bytes_total:
                raise RelayLimitError(
                    f"The relay holds {self._size} bytes of generations (the limit is "
                    f"{limits.bytes_total}).",
                    limit="bytes_total",
                )
        return self._add(generation, entries, added)

    async def end(self, generation_id: str, last: Sequence[bytes], *, retention: float) -> str:
        generation = self._get(generation_id)
        if generation.ended_at is not None:
            return str(len(generation.entries))
        size = sum(len(data) + ENTRY_OVERHEAD for data in last)
        last_id = self._add(generation, last, size)[-1]
        now = self._clock()
        generation.ended_at = now
        generation.expires_at = now + retention
        return last_id

    def _add(self, generation: _Generation, entries: Sequence[bytes], added: int) -> list[str]:
        start = len(generation.entries)
        generation.entries.extend(entries)
        generation.size += added
        self._size += added
        generation.wake()
        return [str(n) for n in range(start + 1, start + len(entries) + 1)]

    # --- readers ------------------------------------------------------------------------

    async def read(
        self, generation_id: str, after: str | None = None, *, block: float = 0.0,
        count: int = 4096,
    ) -> list[Entry]:
        generation = self._get(generation_id)
        position = self._position(generation, after)
        if position == len(generation.entries) and generation.ended_at is None and block > 0:
            if generation.waiter is None:
                generation.waiter = asyncio.get_running_loop().create_future()
            try:
                await asyncio.wait_for(asyncio.shield(generation.waiter), block)
            except TimeoutError:
                return []
        stop = min(len(generation.entries), position + count)
        entries = generation.entries
        return [Entry(str(n + 1), entries[n]) for n in range(position, stop)]

    def _position(self, generation: _Generation, after: str | None) -> int:
        if after is None:
            return 0
        try:
            position = int(after)
        except ValueError:
            position = -1
        if not 0 <= position <= len(generation.entries) or str(position) != after:
            raise InvalidEventId(f"{after!r} is not an event id of this generation.")
        return position

    async def owner(self, generation_id: str) -> str | None:
        self._expire()
        generation = self._generations.get(generation_id)
        return None if generation is None else generation.owner

    async def ids(self) -> list[str]:
        self._expire()
        return list(self._generations)

    def ended(self, generation_id: str) -> bool:
        """Whether the generation's last entry is in (this log only; for tests and tools)."""
        return self._get(generation_id).ended_at is not None

    # --- stop -----------------------------------------------------------------------------

    async def request_stop(self, generation_id: str) -> None:
        self._get(generation_id).stop.set()

    async def wait_stop(self, generation_id: str, timeout: float) -> bool:
        stop = self._get(generation_id).stop
        try:
            await asyncio.wait_for(stop.wait(), timeout)
        except TimeoutError:
            return False
        return True

    async def end_orphan(
        self, generation_id: str, last: Sequence[bytes], *, after: str | None, retention: float
    ) -> str | None:
        self._get(generation_id)
        return None  # the owner lives in this process: it is never lost while the log is

    # --- what the nodes share -------------------------------------------------------------

    async def set_watching(self, generation_id: str, node: str, watching: bool) -> None:
        self._expire()
        generation = self._generations.get(generation_id)
        if generation is None:
            return
        if watching:
            generation.watchers.add(node)
        else:
            generation.watchers.discard(node)

    async def watched(self, generation_id: str) -> bool:
        self._expire()
        generation = self._generations.get(generation_id)
        return generation is not None and bool(generation.watchers)

    async def set_alias(self, alias: str, generation_id: str) -> None:
        check_alias(alias)
        generation = self._get(generation_id)
        previous = self._aliases.get(alias)
        if previous is not None and previous in self._generations:
            self._generations[previous].aliases.discard(alias)
        self._aliases[alias] = generation_id
        generation.aliases.add(alias)

    async def alias(self, alias: str) -> str | None:
        self._expire()
        return self._aliases.get(alias)

    # --- housekeeping ---------------------------------------------------------------------

    def _get(self, generation_id: str) -> _Generation:
        self._expire()
        generation = self._generations.get(generation_id)
        if generation is None:
            raise GenerationNotFound(f"No generation {generation_id!r}.")
        return generation

    def _expire(self) -> None:
        now = self._clock()
        for generation_id, generation in list(self._generations.items()):
            if generation.expires_at is not None and generation.expires_at <= now:
                self._drop(generation_id)

    def _evict_ended(self, *, need_bytes: int = 0, need_slots: int = 0) -> None:
        """Drop ended generations, oldest end first, until the need is met."""
        ended = sorted(
            (g.ended_at, gid) for gid, g in self._generations.items() if g.ended_at is not None
        )
        for _, generation_id in ended:
            bytes_ok = self._size + need_bytes <= self.limits.bytes_total
            slots_ok = len(self._generations) + need_slots <= self.limits.generations
            if bytes_ok and slots_ok:
                return
            self._drop(generation_id)

    def _drop(self, generation_id: str) -> None:
        generation = self._generations.pop(generation_id)
        self._size -= generation.size
        for alias in generation.aliases:
            if self._aliases.get(alias) == generation_id:
                del self._aliases[alias]
        generation.wake()


MAX_ALIAS = 256


def check_alias(alias: str) -> None:
    """Refuse an alias no log should store (empty, or longer than 256 characters)."""
    if not alias or len(alias) > MAX_ALIAS:
        raise ValueError(f"An alias is 1-{MAX_ALIAS} characters.")
