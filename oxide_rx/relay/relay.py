"""The relay: starts generations, writes their events to the log, serves viewers, stops them.

Policies (one place, here):

- **A viewer leaving is not a cancel.** The generation goes on; its answer stays readable.
- **Unwatched generations stop.** When a running generation has had no viewer for
  ``unwatched_timeout`` seconds, its upstream request is cancelled (status ``"unwatched"``);
  the partial answer is kept. Viewers on other nodes count (the log shares one flag per
  node): when the owner's timer fires and another node still has viewers, it waits another
  ``unwatched_timeout``, so a generation watched elsewhere stops between one and two
  timeouts after its last viewer left.
- **A lost owner** (another node that stopped beating, with a Redis log): the first reader
  to notice writes the end for it, ``status="failed"``, ``error_type="OwnerLost"``, with the
  partial answer rebuilt from the log (:mod:`~oxide_rx.relay.orphans`).
- **An explicit stop** (:meth:`Relay.stop`, from any node through the log) cancels the
  upstream request; the partial answer is kept (status ``"stopped"``).
- **Bounds**: a generation that hits a :class:`~oxide_rx.relay.log.LogLimits` bound stops
  with status ``"failed"`` and ``error_type`` ``"RelayLimitError"``; its partial is kept.
  Ended generations stay readable for ``retention`` seconds.

Time-based policies run on a reactivex scheduler (the asyncio one by default), so tests drive
them on virtual time.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import secrets
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from reactivex import abc
from reactivex.scheduler.eventloop import AsyncIOScheduler

import oxide_rx as ox

from . import records
from .fanout import Channel, Viewer
from .generation import OwnedGeneration, open_upstream
from .log import GenerationLog, GenerationNotFound, MemoryLog, OwnerLost
from .orphans import end_for_lost_owner
from .policy import Api, RelayPolicy
from .protocols import ChatCompletionsSSE, OxideSSE, ResponsesSSE, UIMessageStream
from .protocols.base import Encoder
from .watchers import Watchers

if TYPE_CHECKING:
    from .redis_log import RedisLog

__all__ = ["Api", "ProtocolName", "Relay", "RelayPolicy", "Started", "protocol_encoders"]

log = logging.getLogger("oxide_rx.relay")

ProtocolName = Literal["oxide", "ui", "chat", "responses"]

_KEY = re.compile(r"[A-Za-z0-9_.:-]{1,128}")


@dataclass(frozen=True)
class Started:
    """What :meth:`Relay.start` did: ``created`` False means it joined an existing one."""

    id: str
    created: bool


def protocol_encoders(protocol: ProtocolName, *, message_id: str) -> Callable[[], Encoder]:
    """A factory of ``protocol`` encoders; ``message_id`` is the UI message stream's message."""
    if protocol == "oxide":
        return OxideSSE
    if protocol == "ui":
        return lambda: UIMessageStream(message_id)
    if protocol == "chat":
        return ChatCompletionsSSE
    if protocol == "responses":
        return ResponsesSSE
    raise ValueError(f"unknown protocol {protocol!r}")


class Relay:
    """One paid generation, relayed to many viewers in several protocols.

    >>> async def main() -> None:                                     # doctest: +SKIP
    ...     async with ox.OpenAI.from_env() as client, Relay(client) as relay:
    ...         started = await relay.start("chat", {"model": "gpt-4o-mini",
    ...             "messages": [{"role": "user", "content": "Hi"}]})
    ...         async for chunk in relay.frames(started.id, "oxide"):
    ...             print(chunk.decode(), end="")

    The log is in this process unless given: ``log=`` (yours to close), or ``redis=`` a URL
    (``pip install 'oxide_rx[redis]'``; the relay closes that log) to share generations
    between nodes::

        relay = Relay(ox.OpenAI.from_env(), redis="redis://127.0.0.1:6379/0")
    """

    def __init__(
        self,
        client: ox.OpenAI,
        *,
        log: GenerationLog | None = None,
        redis: str | None = None,
        policy: RelayPolicy | None = None,
        scheduler: abc.SchedulerBase | None = None,
        clock: Callable[[], float] = time.time,
        node: str | None = None,
    ) -> None:
        if log is not None and redis is not None:
            raise ValueError("Give the relay a log or a Redis URL, not both.")
        self.client = client
        self._own_log: RedisLog | None = None
        if redis is not None:
            from .redis_log import RedisLog

            self._own_log = RedisLog.from_url(redis)
            log = self._own_log
        self.log: GenerationLog = log if log is not None else MemoryLog()
        self.policy = policy or RelayPolicy()
        self.clock = clock
        self.node = node or "node-" + secrets.token_hex(4)
        self._scheduler = scheduler
        self._owned: dict[str, OwnedGeneration] = {}
        self._channels: dict[tuple[str, str], Channel] = {}
        self._watchers = Watchers(self.log, self.node)

    def __repr__(self) -> str:
        return f"Relay(node={self.node!r}, log={self.log!r})"

    async def __aenter__(self) -> Relay:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    @property
    def scheduler(self) -> abc.SchedulerBase:
        if self._scheduler is None:
            self._scheduler = AsyncIOScheduler(asyncio.get_running_loop())
        return self._scheduler

    # --- generations ----------------------------------------------------------------------

    async def start(
        self, api: Api, params: dict[str, Any], *, key: str | None = None,
        prompt: str | None = None,
    ) -> Started:
        """Start a generation (``params`` as for ``create_stream``), or join the one that
        ``key`` names. Upstream HTTP errors raise here (``ox.APIStatusError``), after the
        log recorded them for anyone who joined meanwhile."""
        if key is not None and not _KEY.fullmatch(key):
            raise ValueError("A generation key is 1-128 characters of A-Z a-z 0-9 _ . : -")
        generation_id = key or "gen_" + secrets.token_hex(12)
        if not await self.log.create(generation_id, owner=self.node):
            return Started(generation_id, created=False)
        started = self.clock()
        try:
            stream = await open_upstream(self.client, api, params)
        except BaseException as exc:
            end = records.End("failed", type(exc).__name__, str(exc), self.clock() - started)
            await self.log.end(generation_id, [records.encode(end)],
                               retention=self.policy.retention)
            raise
        model = params.get("model")
        begin = records.Begin(api, model if isinstance(model, str) else None, started, prompt,
                              stream.request_id)
        await self.log.append(generation_id, [records.encode(begin)])
        owned = OwnedGeneration(self, generation_id, stream, started)
        self._owned[generation_id] = owned
        owned.done.add_done_callback(lambda _: self._owned.pop(generation_id, None))
        stream.events.subscribe(owned.on_next, owned.on_error, owned.on_completed)
        loop = asyncio.get_running_loop()
        owned.tasks = [loop.create_task(owned.pump()), loop.create_task(owned.watch_stop())]
        stream.start()
        if not self._watchers.count(generation_id):
            self._arm_unwatched(owned)
        return Started(generation_id, created=True)

    async def stop(self, generation_id: str) -> records.End | None:
        """Stop a generation from any node: the owner cancels the upstream request and keeps
        the partial answer. Returns its last record (None if it did not end in time)."""
        await self.log.request_stop(generation_id)
        return await self.wait_end(generation_id, self.policy.stop_timeout)

    async def wait_end(self, generation_id: str, timeout: float) -> records.End | None:
        """The generation's ``End`` record, waiting up to ``timeout`` seconds for it."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                async for record in self.records(generation_id):
                    if isinstance(record, records.End):
                        return record
        return None

    async def records(
        self, generation_id: str, after: str | None = None
    ) -> AsyncIterator[records.Record]:
        """Every record of a generation, in order, to its end (waits on the live tail)."""
        cursor = after
        while True:
            try:
                entries = await self.log.read(generation_id, cursor,
                                              block=self.policy.keepalive)
            except OwnerLost:
                await self.end_for_lost_owner(generation_id)
                continue
            for entry in entries:
                record = records.decode(entry.data)
                yield record
                if isinstance(record, records.End):
                    return
            if entries:
                cursor = entries[-1].id

    async def info(self, generation_id: str) -> dict[str, Any]:
        """What a generation is: api, model, prompt, status, viewers (on this node)."""
        begin: records.Begin | None = None
        end: records.End | None = None
        count = 0
        cursor: str | None = None
        while True:
            entries = await self.log.read(generation_id, cursor)
            if not entries:
                break
            for entry in entries:
                count += 1
                record = records.decode(entry.data)
                if isinstance(record, records.Begin):
                    begin = record
                elif isinstance(record, records.End):
                    end = record
            cursor = entries[-1].id
        return {
            "id": generation_id,
            "api": begin.api if begin else None,
            "model": begin.model if begin else None,
            "prompt": begin.prompt if begin else None,
            "created": begin.created if begin else None,
            "status": end.status if end else "running",
            "events": count,
            "viewers": self._watchers.count(generation_id),
        }

    async def end_for_lost_owner(self, generation_id: str) -> None:
        """End a generation whose owner stopped beating, with its partial answer (readers
        call this on :class:`~oxide_rx.relay.log.OwnerLost`; only the first one writes)."""
        await end_for_lost_owner(self.log, generation_id, retention=self.policy.retention,
                                 clock=self.clock)

    # --- viewers --------------------------------------------------------------------------

    def encoder_factory(self, generation_id: str, protocol: ProtocolName) -> Callable[[], Encoder]:
        """The encoders of ``protocol`` for this generation."""
        return protocol_encoders(protocol, message_id="msg_" + generation_id)

    @contextlib.asynccontextmanager
    async def viewer(
        self, generation_id: str, protocol: ProtocolName, after: str | None = None
    ) -> AsyncIterator[Viewer]:
        """Watch a generation in ``protocol`` from entry ``after``; leaving is not a cancel.

        Raises :class:`GenerationNotFound` or
        :class:`~oxide_rx.relay.log.InvalidEventId` before yielding.
        """
        if await self.log.owner(generation_id) is None:
            raise GenerationNotFound(f"No generation {generation_id!r}.")
        key = (generation_id, protocol)
        channel = self._channels.get(key)
        if channel is None:
            channel = Channel(
                self.log, generation_id, self.encoder_factory(generation_id, protocol),
                block=self.policy.keepalive, max_lag=self.policy.max_viewer_lag,
                tick=self.policy.tick, on_empty=lambda c: self._forget_channel(key, c),
                on_owner_lost=lambda: self.end_for_lost_owner(generation_id),
            )
            self._channels[key] = channel
        self._watch(generation_id, +1)
        try:
            viewer = await channel.attach(after)
            try:
                yield viewer
            finally:
                viewer.close()
        finally:
            self._watch(generation_id, -1)

    async def frames(
        self, generation_id: str, protocol: ProtocolName, after: str | None = None
    ) -> AsyncIterator[bytes]:
        """The bytes of a generation in ``protocol``, to its end (keep-alives left out)."""
        async with self.viewer(generation_id, protocol, after) as viewer:
            while (data := await viewer.next()) is not None:
                if data:
                    yield data

    @contextlib.contextmanager
    def watching(self, generation_id: str) -> Iterator[None]:
        """Count a watcher that reads no channel (a request waiting for the whole answer),
        so the unwatched policy leaves its generation alone."""
        self._watch(generation_id, +1)
        try:
            yield
        finally:
            self._watch(generation_id, -1)

    def viewers(self, generation_id: str) -> int:
        """Viewers of a generation on this node, all protocols together."""
        return self._watchers.count(generation_id)

    def unwatched_timer_armed(self, generation_id: str) -> bool:
        """Whether this node owns the generation and its unwatched timer runs (nobody
        watches it here; when the timer fires, the owner asks whether other nodes do)."""
        owned = self._owned.get(generation_id)
        return owned is not None and owned.unwatched_timer is not None

    def channel(self, generation_id: str, protocol: ProtocolName) -> Channel | None:
        """The live channel of a generation in a protocol on this node, if any viewer has one."""
        return self._channels.get((generation_id, protocol))

    def _forget_channel(self, key: tuple[str, str], channel: Channel) -> None:
        if self._channels.get(key) is channel:
            del self._channels[key]

    def _watch(self, generation_id: str, delta: int) -> None:
        count = self._watchers.change(generation_id, delta)
        owned = self._owned.get(generation_id)
        if owned is None:
            return
        if count > 0 and owned.unwatched_timer is not None:
            owned.unwatched_timer.dispose()
            owned.unwatched_timer = None
        elif count <= 0:
            self._arm_unwatched(owned)

    def _arm_unwatched(self, owned: OwnedGeneration) -> None:
        if owned.unwatched_timer is not None:
            owned.unwatched_timer.dispose()
        loop = asyncio.get_running_loop()

        def fire(scheduler: abc.SchedulerBase, state: Any = None) -> None:
            owned.unwatched_timer = None
            if not owned.done.done():
                owned.tasks.append(loop.create_task(self._stop_unless_watched(owned)))

        owned.unwatched_timer = self.scheduler.schedule_relative(
            self.policy.unwatched_timeout, fire
        )

    async def _stop_unless_watched(self, owned: OwnedGeneration) -> None:
        if await self._watchers.watched(owned.id):  # by viewers on other nodes
            if not owned.done.done() and owned.unwatched_timer is None:
                self._arm_unwatched(owned)
            return
        if not owned.done.done():
            await owned.cancel_upstream("unwatched")

    # --- shutdown -------------------------------------------------------------------------

    async def aclose(self) -> None:
        """Stop every generation this node owns (status ``"stopped"``) and every channel."""
        for owned in list(self._owned.values()):
            await owned.cancel_upstream("stopped")
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.policy.stop_timeout):
                    await asyncio.shield(owned.done)
            for task in owned.tasks:
                task.cancel()
        for channel in list(self._channels.values()):
            await channel.aclose()
        self._channels.clear()
        await self._watchers.flush()
        if self._own_log is not None:
            await self._own_log.aclose()
