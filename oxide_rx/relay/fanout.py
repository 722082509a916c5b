"""Fan-out on one node: each event encoded once per protocol, its bytes shared by every viewer.

A :class:`Channel` serves one generation in one protocol. Its task reads the log (blocking
tail), runs the protocol's encoder once per record, and appends the frames to a buffer that
all its viewers read by index; frames every viewer has taken are dropped, so the buffer holds
only what the slowest viewer has not written yet (bounded: a viewer more than ``max_lag``
frames behind is cut off and reconnects with ``Last-Event-ID``, reading the log instead).

A viewer that joins late, or resumes from an id, is caught up by a private encoder that
replays the log up to where the channel stands, keeping the frames after the viewer's id;
then it reads the shared buffer. Nothing is lost (the buffer keeps every frame from the
moment the viewer is registered) and nothing is sent twice (the catch-up stops exactly where
the buffer begins).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from . import records
from .log import GenerationLog, OwnerLost, RelayError
from .protocols.base import Encoder

__all__ = ["Channel", "Viewer", "ViewerTooSlow"]

log = logging.getLogger("oxide_rx.relay")

_PAGE = 4096


class ViewerTooSlow(RelayError):
    """A viewer fell too far behind the live tail; it should reconnect with its last id."""


class Viewer:
    """One client reading a :class:`Channel`. Use :meth:`next` until it returns None."""

    __slots__ = ("backlog", "channel", "closed", "index", "skip_through", "too_slow", "waiter")

    def __init__(self, channel: Channel, index: int) -> None:
        self.channel = channel
        self.index = index
        """Absolute index of the next shared frame this viewer takes."""
        self.backlog: list[bytes] = []
        """Catch-up frames, sent before the shared ones."""
        self.skip_through: str | None = None
        """Drop shared frames up to and including this entry id (a resume ahead of the
        channel's own position)."""
        self.waiter: asyncio.Future[None] | None = None
        self.too_slow = False
        self.closed = False

    async def next(self) -> bytes | None:
        """The bytes to write next; ``b""`` when nothing came within the channel's ``tick``
        (time to check the client and maybe send a keep-alive); None once the generation's
        last frame was taken. Raises :class:`ViewerTooSlow` or what ended the channel's
        reading.

        The wait has no timer of its own: the channel wakes every waiting viewer once per
        tick, so a thousand idle viewers cost one timer, not a thousand per event.
        """
        if self.backlog:
            data = b"".join(self.backlog)
            self.backlog.clear()
            return data
        for waited in (False, True):
            if self.too_slow:
                raise ViewerTooSlow("This viewer fell behind the live stream; resume by id.")
            data = self.channel.take(self)
            if data:
                return data
            if self.channel.finished:
                if self.channel.error is not None:
                    raise self.channel.error
                return None
            if waited:
                break
            self.waiter = asyncio.get_running_loop().create_future()
            try:
                await self.waiter
            finally:
                self.waiter = None
        return b""

    def wake(self) -> None:
        waiter = self.waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def close(self) -> None:
        """Leave the channel (idempotent). Leaving never stops the generation."""
        if not self.closed:
            self.closed = True
            self.channel.detach(self)


class Channel:
    """One generation in one protocol on this node: one encoder, any number of viewers."""

    def __init__(
        self,
        log_: GenerationLog,
        generation_id: str,
        protocol: Callable[[], Encoder],
        *,
        block: float = 15.0,
        max_lag: int = 10_000,
        tick: float = 1.0,
        on_empty: Callable[[Channel], None] | None = None,
        on_owner_lost: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self.log = log_
        self.generation_id = generation_id
        self.protocol = protocol
        self.block = block
        self.max_lag = max_lag
        self.tick = tick
        self._ticker: asyncio.TimerHandle | None = None
        self.encoded = 0
        """Records encoded by the shared encoder (for tests and benchmarks)."""
        self._on_empty = on_empty
        self._on_owner_lost = on_owner_lost
        self._stopped = False
        self._encoder = protocol()
        self._frames: list[tuple[str, bytes]] = []
        self._base = 0
        self._position: str | None = None
        self._viewers: set[Viewer] = set()
        self._next_trim = 256
        self.finished = False
        self.error: BaseException | None = None
        self._task: asyncio.Task[None] | None = None

    @property
    def viewers(self) -> int:
        return len(self._viewers)

    # --- viewers --------------------------------------------------------------------------

    async def attach(self, after: str | None = None) -> Viewer:
        """A new viewer of every frame after entry ``after`` (None: from the first).

        Raises :class:`~oxide_rx.relay.log.InvalidEventId` for an id not in the log.
        """
        if after is not None:
            await self.log.read(self.generation_id, after, count=0)  # validates the id
        # Registered at once, so the shared buffer keeps every frame from here on.
        viewer = Viewer(self, self._base + len(self._frames))
        self._viewers.add(viewer)
        if self._task is None:
            self._stopped = False
            self._task = asyncio.get_running_loop().create_task(self._run())
        if self._ticker is None:
            self._ticker = asyncio.get_running_loop().call_later(self.tick, self._tick)
        position = self._position
        try:
            if position is None:
                viewer.skip_through = after
            else:
                await self._catch_up(viewer, after, position)
        except BaseException:
            viewer.close()
            raise
        return viewer

    async def _catch_up(self, viewer: Viewer, after: str | None, position: str) -> None:
        """Replay the log up to ``position`` through a private encoder (the protocol state at
        that point), keeping the frames of entries after ``after``."""
        encoder = self.protocol()
        keep = after is None
        cursor: str | None = None
        while True:
            entries = await self.log.read(self.generation_id, cursor, count=_PAGE)
            if not entries:
                raise RelayError(f"Generation {self.generation_id!r}: log ended before "
                                 f"{position!r} while catching a viewer up.")
            for entry in entries:
                data = encoder.encode(entry.id, records.decode(entry.data))
                if keep and data:
                    viewer.backlog.append(data)
                if entry.id == after:
                    keep = True
                if entry.id == position:
                    if not keep:  # the viewer is ahead of this node's channel
                        viewer.skip_through = after
                    return
            cursor = entries[-1].id

    def take(self, viewer: Viewer) -> bytes:
        """The shared frames ``viewer`` has not taken yet, joined."""
        start = viewer.index - self._base
        frames = self._frames
        if start >= len(frames):
            return b""
        viewer.index = self._base + len(frames)
        pending = frames[start:]
        skip = viewer.skip_through
        if skip is not None:
            for n, (entry_id, _) in enumerate(pending):
                if entry_id == skip:
                    viewer.skip_through = None
                    pending = pending[n + 1:]
                    break
            else:
                return b""
        if len(pending) == 1:
            return pending[0][1]
        return b"".join(data for _, data in pending)

    def detach(self, viewer: Viewer) -> None:
        self._viewers.discard(viewer)
        viewer.wake()
        if not self._viewers:
            self._stop()
            if self._on_empty is not None:
                self._on_empty(self)

    # --- the shared reader ----------------------------------------------------------------

    async def _run(self) -> None:
        encoder = self._encoder
        cursor: str | None = None
        try:
            # The flag as well as the cancel: some redis-py releases swallow a cancel that
            # lands mid-command, and a reading loop must still end within one read.
            while not self.finished and not self._stopped:
                try:
                    entries = await self.log.read(self.generation_id, cursor, block=self.block)
                except OwnerLost:
                    if self._on_owner_lost is None:
                        raise
                    await self._on_owner_lost()  # its end is in the log now: read it
                    continue
                for entry in entries:
                    record = records.decode(entry.data)
                    data = encoder.encode(entry.id, record)
                    self.encoded += 1
                    self._position = cursor = entry.id
                    if data:
                        self._frames.append((entry.id, data))
                    if isinstance(record, records.End):
                        self.finished = True
                if entries:
                    self._publish()
        except asyncio.CancelledError:
            raise
        except BaseException as exc:  # the log failed or dropped the generation
            log.warning("relay channel for %s ended: %s", self.generation_id, exc)
            self.error = exc
            self.finished = True
            self._publish()

    def _publish(self) -> None:
        if len(self._frames) >= self._next_trim:
            self._trim()
        for viewer in self._viewers:
            viewer.wake()

    def _tick(self) -> None:
        """Wake every viewer once per tick (their only timeout), while there are viewers."""
        self._ticker = None
        if self._viewers:
            for viewer in self._viewers:
                viewer.wake()
            self._ticker = asyncio.get_running_loop().call_later(self.tick, self._tick)

    def _trim(self) -> None:
        """Drop frames every viewer has taken; cut off viewers too far behind."""
        end = self._base + len(self._frames)
        for viewer in self._viewers:
            if end - viewer.index > self.max_lag:
                viewer.too_slow = True
        live = [v.index for v in self._viewers if not v.too_slow]
        low = min(live, default=end)
        if low > self._base:
            del self._frames[: low - self._base]
            self._base = low
        self._next_trim = max(256, 2 * len(self._frames))

    def _stop(self) -> None:
        self._stopped = True
        ticker, self._ticker = self._ticker, None
        if ticker is not None:
            ticker.cancel()
        task, self._task = self._task, None
        if task is not None and not task.done():
            task.cancel()

    async def aclose(self) -> None:
        """Stop reading and end every viewer (the generation itself goes on)."""
        task = self._task
        self._stop()
        if task is not None:
            await asyncio.wait([task], timeout=self.block + 5.0)
        self.finished = True
        for viewer in list(self._viewers):
            viewer.wake()
