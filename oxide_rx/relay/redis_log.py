"""A :class:`~oxide_rx.relay.log.GenerationLog` on Redis Streams, for relays on several nodes.

Any node serves any viewer: the owner (the node holding the upstream request) appends with
``XADD`` (bounded ``MAXLEN``), viewers anywhere read with ``XREAD BLOCK``, and the Redis entry
id is the SSE event id, so a ``Last-Event-ID`` from one node resumes on another with nothing
lost or duplicated. Records are stored once (msgspec), whatever the viewers speak. A stop
from any node is an entry in a control stream the owner blocks on. Needs the ``redis``
package: ``pip install 'oxide_rx[redis]'``.

Policies where Redis gives a choice (key layout in :mod:`~oxide_rx.relay.redis_keys`):

- **Bounds**: ``LogLimits.entries_per_generation`` and ``bytes_per_generation`` are checked
  in the append script (shared by every node); ``XADD MAXLEN ~`` is set just above them, as
  the engine's own guard, and ``~`` never trims below it, so no id a viewer may resume from
  disappears. The total (``bytes_total``, ``generations``) is Redis's ``maxmemory``: an
  ``OOM`` reply becomes :class:`~oxide_rx.relay.log.RelayLimitError` (``limit="bytes_total"``).
- **Expiry**: a running generation's keys expire ``idle_ttl`` seconds (an hour) after its last
  append; once it ended, after the relay's retention. An alias (a ``useChat`` chat id)
  expires ``idle_ttl`` after it was set.
- **Liveness**: each node sets ``Pnode:{name}`` every ``heartbeat`` seconds (1 s), with a TTL of
  ``owner_timeout`` (5 s). A blocking read waits at most ``heartbeat`` per ``XREAD``, then
  checks the owner's key: a dead owner is noticed within ``owner_timeout + heartbeat`` and
  the read raises :class:`~oxide_rx.relay.log.OwnerLost` (the relay then writes the end for
  it, with the partial answer). An owner that comes back after that finds its log ended and
  cancels its upstream request.

>>> async def main() -> None:                                          # doctest: +SKIP
...     async with RedisLog.from_url("redis://127.0.0.1:6379/0") as log:
...         relay = Relay(ox.OpenAI.from_env(), log=log)
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import re
import time
from collections.abc import Sequence
from typing import Any

try:
    import redis.asyncio as aioredis
    from redis.exceptions import RedisError
except ImportError as exc:  # pragma: no cover - the redis extra installs it
    raise ImportError(
        "The Redis generation log needs the redis package: pip install 'oxide_rx[redis]'"
    ) from exc

from . import redis_keys as k
from .log import (
    ENTRY_OVERHEAD,
    Entry,
    GenerationNotFound,
    InvalidEventId,
    LogLimits,
    OwnerLost,
    check_alias,
)
from .redis_wire import (
    LogUnavailable,
    ms,
    redis_errors,
    rows,
    safe_url,
    script_rows,
    text,
    xread_rows,
)

__all__ = ["LogUnavailable", "RedisLog", "safe_url"]

log = logging.getLogger("oxide_rx.relay")

# A Redis stream id as XADD makes it: milliseconds-sequence, no leading zeros.
_ENTRY_ID = re.compile(r"(0|[1-9][0-9]{0,19})-(0|[1-9][0-9]{0,19})")
# Entries an end may add beyond the bound (the partial answer and the end record).
_END_ROOM = 16
# Cursors this log handed out, remembered so the live tail skips re-validating them.
_CURSORS = 4096
# Index members checked on each create: expired generations leave it as new ones come.
_PRUNE = 8


class RedisLog:
    """A :class:`~oxide_rx.relay.log.GenerationLog` on Redis Streams (see the module).

    ``redis``: a ``redis.asyncio.Redis`` without ``decode_responses`` (records are bytes);
    :meth:`from_url` makes one, which :meth:`aclose` then closes. ``prefix`` keeps several
    relays (or tests) apart on one Redis.

    >>> log = RedisLog.from_url("redis://:secret@127.0.0.1:6379/0", heartbeat=0.5)
    >>> log
    RedisLog('redis://:***@127.0.0.1:6379/0', prefix='oxide_rx:relay:')
    """

    def __init__(
        self,
        redis: aioredis.Redis,
        *,
        limits: LogLimits | None = None,
        prefix: str = "oxide_rx:relay:",
        heartbeat: float = 1.0,
        owner_timeout: float = 5.0,
        idle_ttl: float = 3600.0,
        name: str = "a Redis client",
        close_client: bool = False,
    ) -> None:
        if not heartbeat > 0 or not owner_timeout >= 2 * heartbeat:
            raise ValueError("heartbeat must be > 0 and owner_timeout at least twice it, or a "
                             "live owner could look dead between two beats")
        if not idle_ttl > owner_timeout:
            raise ValueError("idle_ttl must be longer than owner_timeout")
        self.limits = limits or LogLimits()
        self.prefix = prefix
        self.heartbeat = heartbeat
        self.owner_timeout = owner_timeout
        self.idle_ttl = idle_ttl
        self.beats = 0
        """Heartbeats sent (for tests and tools)."""
        self._redis = redis
        self._name = name
        self._close_client = close_client
        self._nodes: set[str] = set()
        self._beating: asyncio.Task[None] | None = None
        self._closed = False
        self._cursors: collections.OrderedDict[tuple[str, str], bool] = (
            collections.OrderedDict())
        self._create = redis.register_script(k.CREATE)
        self._append = redis.register_script(k.APPEND)
        self._end = redis.register_script(k.END)
        self._end_orphan = redis.register_script(k.END_ORPHAN)
        self._read = redis.register_script(k.READ)
        self._stop = redis.register_script(k.STOP)
        self._watch = redis.register_script(k.WATCH)

    @classmethod
    def from_url(
        cls,
        url: str,
        *,
        limits: LogLimits | None = None,
        prefix: str = "oxide_rx:relay:",
        heartbeat: float = 1.0,
        owner_timeout: float = 5.0,
        idle_ttl: float = 3600.0,
        max_connections: int = 1000,
    ) -> RedisLog:
        """A log on the Redis at ``url`` (``redis://[:password@]host:port/db``,
        ``rediss://``, ``unix://``). Connecting waits at most 5 s, a command at most
        ``heartbeat + 5`` s: a Redis that stops answering is an error, never a hang.

        Each channel (a generation in a protocol with viewers on this node) and each owned
        generation holds one connection while it waits, at most ``heartbeat`` seconds at a
        time; past ``max_connections`` in use, a command waits for one to come back (up to
        ``heartbeat + 5`` s) rather than fail at once."""
        timeout = heartbeat + 5.0
        try:
            pool = aioredis.BlockingConnectionPool.from_url(
                url, max_connections=max_connections, timeout=timeout,
                socket_connect_timeout=5.0, socket_timeout=timeout, decode_responses=False)
        except ValueError:
            raise ValueError(f"Not a Redis URL: {safe_url(url)}") from None
        client = aioredis.Redis.from_pool(pool)
        return cls(client, limits=limits, prefix=prefix, heartbeat=heartbeat,
                   owner_timeout=owner_timeout, idle_ttl=idle_ttl, name=safe_url(url),
                   close_client=True)

    def __repr__(self) -> str:
        return f"RedisLog({self._name!r}, prefix={self.prefix!r})"

    async def __aenter__(self) -> RedisLog:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Stop beating (this node's running generations, if any, are orphans at once) and
        close the client if :meth:`from_url` made it."""
        self._closed = True
        beating, self._beating = self._beating, None
        if beating is not None:
            # Some redis-py releases (8.2.0) can swallow a cancel that lands mid-command: the
            # loop also ends on the flag, within one beat.
            beating.cancel()
            await asyncio.wait([beating], timeout=self.heartbeat + 5.0)
        with contextlib.suppress(RedisError, OSError):
            if self._nodes:
                await self._redis.delete(*[self._node_key(n) for n in self._nodes])
        self._nodes.clear()
        if self._close_client:
            await self._redis.aclose()

    # --- writers ------------------------------------------------------------------------

    async def create(self, generation_id: str, *, owner: str) -> bool:
        keys = self._keys(generation_id)
        self._register(owner)
        args: list[str | int] = [owner, generation_id, int(time.time() * 1000),
                                 ms(self.idle_ttl), ms(self.owner_timeout)]
        with redis_errors(self._name, generation_id):
            created = await self._create(
                keys=[*keys.all, self._index, self._node_key(owner)], args=args)
            if created:  # a few of the oldest ids out of the index once their keys expired
                await self._prune(await self._redis.zrange(self._index, 0, _PRUNE - 1))
        return bool(created)

    async def append(self, generation_id: str, entries: Sequence[bytes]) -> list[str]:
        if not entries:
            return []
        limits = self.limits
        args: list[Any] = [limits.entries_per_generation, limits.bytes_per_generation,
                           ms(self.idle_ttl), limits.entries_per_generation + _END_ROOM,
                           ENTRY_OVERHEAD, *entries]
        with redis_errors(self._name, generation_id):
            ids = await self._append(keys=self._keys(generation_id).all, args=args)
        return [text(entry_id) for entry_id in ids]

    async def end(self, generation_id: str, last: Sequence[bytes], *, retention: float) -> str:
        if not last:
            raise ValueError("end needs at least one entry (the end record)")
        args: list[bytes | int] = [ms(retention), *last]
        with redis_errors(self._name, generation_id):
            last_id = await self._end(keys=self._keys(generation_id).all, args=args)
        return text(last_id)

    async def end_orphan(
        self, generation_id: str, last: Sequence[bytes], *, after: str | None, retention: float
    ) -> str | None:
        if not last:
            raise ValueError("end_orphan needs at least one entry (the end record)")
        owner = await self.owner(generation_id)
        if owner is None:
            raise GenerationNotFound(f"No generation {generation_id!r}.")
        keys = self._keys(generation_id)
        args: list[bytes | int | str] = [ms(retention), owner, after or "", *last]
        with redis_errors(self._name, generation_id):
            last_id = await self._end_orphan(keys=[*keys.all, self._node_key(owner)], args=args)
        return None if last_id is None else text(last_id)

    # --- readers ------------------------------------------------------------------------

    async def read(
        self, generation_id: str, after: str | None = None, *, block: float = 0.0,
        count: int = 4096,
    ) -> list[Entry]:
        if after is not None and not _ENTRY_ID.fullmatch(after):
            raise InvalidEventId(f"{after!r} is not an event id of this generation.")
        keys = self._keys(generation_id)
        cursor = after or "0-0"
        final = None if after is None else self._cursors.get((generation_id, after))
        if final is None or count <= 0:
            # An id from outside (or the first read): validated by the script, which also
            # returns the first page and whether the log has ended.
            with redis_errors(self._name, generation_id):
                ended, page = await self._read(keys=[keys.meta, keys.log],
                                               args=[after or "", max(count, 0)])
            entries = self._issue(generation_id, script_rows(page))
            if entries or ended or block <= 0 or count <= 0:
                return entries
        elif final:  # the caller holds this log's last id: nothing will follow
            return []
        elif block <= 0:
            with redis_errors(self._name, generation_id):
                page = await self._redis.xrange(keys.log, "(" + cursor, "+", count=count)
            return self._issue(generation_id, rows(page))
        return await self._wait(generation_id, cursor, block, count)

    async def _wait(self, generation_id: str, cursor: str, block: float, count: int
                    ) -> list[Entry]:
        """Wait for entries after ``cursor`` in ``XREAD BLOCK`` slices of at most one
        heartbeat, checking after each empty one that the generation and its owner live."""
        keys = self._keys(generation_id)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + block
        while True:
            wait = min(self.heartbeat, max(deadline - loop.time(), 0.001))
            with redis_errors(self._name, generation_id):
                reply = await self._redis.xread({keys.log: cursor}, count=count,
                                                block=max(1, round(wait * 1000)))
            entries = self._issue(generation_id, xread_rows(reply))
            if entries:
                return entries
            with redis_errors(self._name, generation_id):
                owner, ended = await self._redis.hmget(keys.meta, ["owner", "end"])
                if owner is None:
                    raise GenerationNotFound(f"No generation {generation_id!r}.")
                if ended is not None:  # ended after our XREAD began: take the rest now
                    page = await self._redis.xrange(keys.log, "(" + cursor, "+",
                                                    count=count)
                    return self._issue(generation_id, rows(page))
                alive = await self._redis.exists(self._node_key(text(owner)))
            if not alive:
                raise OwnerLost(
                    f"Generation {generation_id!r}: its owner {text(owner)!r} sent no "
                    f"heartbeat for {self.owner_timeout} s; nothing more will come from it.",
                    owner=text(owner))
            if loop.time() >= deadline:
                return []

    def _issue(self, generation_id: str, found: list[tuple[str, bytes, bool]]) -> list[Entry]:
        """The entries of ``found``; their last id is remembered as a valid cursor."""
        if found:
            cursors = self._cursors
            cursors[(generation_id, found[-1][0])] = found[-1][2]
            if len(cursors) > _CURSORS:
                cursors.popitem(last=False)
        return [Entry(entry_id, data) for entry_id, data, _ in found]

    async def owner(self, generation_id: str) -> str | None:
        with redis_errors(self._name, generation_id):
            owner = await self._redis.hget(self._keys(generation_id).meta, "owner")
        return None if owner is None else text(owner)

    async def ids(self) -> list[str]:
        with redis_errors(self._name):
            return await self._prune(await self._redis.zrange(self._index, 0, -1))

    async def _prune(self, found: list[Any]) -> list[str]:
        """The generations of ``found`` (index members) still kept; the others leave the
        index (their keys expired: the index is the one key without a TTL)."""
        members = [text(m) for m in found if isinstance(m, bytes | str)]
        if not members:
            return []
        pipe = self._redis.pipeline(transaction=False)
        for generation_id in members:
            pipe.exists(self._keys(generation_id).meta)
        kept = await pipe.execute()
        gone = [m for m, exists in zip(members, kept, strict=True) if not exists]
        if gone:
            await self._redis.zrem(self._index, *gone)
        return [m for m, exists in zip(members, kept, strict=True) if exists]

    # --- stop -----------------------------------------------------------------------------

    async def request_stop(self, generation_id: str) -> None:
        keys = self._keys(generation_id)
        with redis_errors(self._name, generation_id):
            await self._stop(keys=[keys.meta, keys.stop])

    async def wait_stop(self, generation_id: str, timeout: float) -> bool:
        keys = self._keys(generation_id)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        with redis_errors(self._name, generation_id):
            if not await self._redis.exists(keys.meta):
                raise GenerationNotFound(f"No generation {generation_id!r}.")
            while True:
                wait = min(self.heartbeat, max(deadline - loop.time(), 0.001))
                if await self._redis.xread({keys.stop: "0-0"}, count=1,
                                           block=max(1, round(wait * 1000))):
                    return True
                if loop.time() >= deadline:
                    return False

    # --- what the nodes share -------------------------------------------------------------

    async def set_watching(self, generation_id: str, node: str, watching: bool) -> None:
        keys = self._keys(generation_id)
        if watching:
            self._register(node)
        with redis_errors(self._name, generation_id):
            await self._watch(keys=[keys.meta, keys.watchers, self._node_key(node)],
                              args=[node, int(watching), ms(self.owner_timeout)])

    async def watched(self, generation_id: str) -> bool:
        with redis_errors(self._name, generation_id):
            nodes = await self._redis.smembers(self._keys(generation_id).watchers)
            if not nodes:
                return False
            alive = await self._redis.exists(*[self._node_key(text(n)) for n in nodes])
        return bool(alive)

    async def set_alias(self, alias: str, generation_id: str) -> None:
        check_alias(alias)
        with redis_errors(self._name, generation_id):
            if not await self._redis.exists(self._keys(generation_id).meta):
                raise GenerationNotFound(f"No generation {generation_id!r}.")
            await self._redis.set(self._alias_key(alias), generation_id,
                                  px=ms(self.idle_ttl))

    async def alias(self, alias: str) -> str | None:
        if not alias or len(alias) > 256:
            return None
        with redis_errors(self._name):
            generation_id = await self._redis.get(self._alias_key(alias))
        return None if generation_id is None else text(generation_id)

    # --- heartbeats -----------------------------------------------------------------------

    def _register(self, node: str) -> None:
        """Beat for ``node`` from now on (a node that owns or watches something)."""
        self._nodes.add(node)
        if not self._closed and (self._beating is None or self._beating.done()):
            self._beating = asyncio.get_running_loop().create_task(self._beat())

    async def _beat(self) -> None:
        while not self._closed:
            try:
                pipe = self._redis.pipeline(transaction=False)
                for node in self._nodes:
                    pipe.set(self._node_key(node), b"1", px=ms(self.owner_timeout))
                await pipe.execute()
                self.beats += 1
            except (RedisError, OSError) as exc:
                # Other nodes will think this one dead after owner_timeout: they end its
                # generations, and this node's next append finds them ended and stops.
                log.warning("relay: heartbeat to %s failed: %s", self._name,
                            type(exc).__name__)
            await asyncio.sleep(self.heartbeat)

    # --- keys and errors ------------------------------------------------------------------

    def _keys(self, generation_id: str) -> k.GenerationKeys:
        return k.GenerationKeys.of(self.prefix, generation_id)

    @property
    def _index(self) -> str:
        return self.prefix + "generations"

    def _node_key(self, node: str) -> str:
        return f"{self.prefix}node:{node}"

    def _alias_key(self, alias: str) -> str:
        return f"{self.prefix}alias:{alias}"
