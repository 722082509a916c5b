"""What crosses the wire between a :class:`~oxide_rx.relay.redis_log.RedisLog` and Redis:
replies as rows, Redis's errors as the log's typed ones, and URLs with their password masked
(for logs, reprs and errors)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from redis.exceptions import OutOfMemoryError, RedisError, ResponseError

from . import redis_keys as k
from .log import GenerationNotFound, InvalidEventId, RelayError, RelayLimitError

__all__ = ["LogUnavailable", "ms", "redis_errors", "rows", "safe_url", "script_rows", "text",
           "xread_rows"]


class LogUnavailable(RelayError):
    """Redis could not be reached, timed out or refused a command (the message says which;
    it never carries a password)."""


def safe_url(url: str) -> str:
    """``url`` with its password (and any ``password=`` parameter) masked, for logs and reprs.

    >>> safe_url("redis://user:hunter2@cache:6379/0")
    'redis://user:***@cache:6379/0'
    """
    try:
        parts = urlsplit(url)
        netloc = parts.netloc
        if parts.password is not None:
            userinfo, _, host = netloc.rpartition("@")
            user = userinfo.partition(":")[0]
            netloc = f"{user}:***@{host}"
        query = urlencode([(key, "***" if key.lower() == "password" else value)
                           for key, value in parse_qsl(parts.query)], safe="*")
        return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))
    except ValueError:
        return "<a Redis URL>"


@contextlib.contextmanager
def redis_errors(where: str, generation_id: str = "") -> Iterator[None]:
    """Redis's errors as the log's typed ones, naming ``where`` (a masked URL) and
    the generation; no password, no chained cause."""
    try:
        yield
    except OutOfMemoryError:
        raise RelayLimitError("Redis is full (its maxmemory); nothing can be added.",
                              limit="bytes_total") from None
    except ResponseError as exc:
        code, _, rest = str(exc).partition(" ")
        if code == k.NOT_FOUND:
            raise GenerationNotFound(f"No generation {generation_id!r}.") from None
        if code == k.ENDED:
            raise RelayError(
                f"Generation {generation_id!r} has ended; nothing can be added.") from None
        if code == k.INVALID_ID:
            raise InvalidEventId("Not an event id of this generation.") from None
        if code == k.LIMIT:
            limit, _, value = rest.partition(" ")
            raise RelayLimitError(f"Generation {generation_id!r} reached {value} "
                                  f"{limit.split('_')[0]}.", limit=limit) from None
        raise LogUnavailable(f"Redis refused a command: {code}") from None
    except (RedisError, OSError) as exc:
        raise LogUnavailable(f"Redis at {where}: {type(exc).__name__}") from None


def ms(seconds: float) -> int:
    return max(1, round(seconds * 1000))


def text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def rows(entries: Any) -> list[tuple[str, bytes, bool]]:
    """``XRANGE``/``XREAD`` entries (``(id, {field: value})``) as (id, data, is last)."""
    return [(text(entry_id), fields[b"d"], b"e" in fields) for entry_id, fields in entries]


def xread_rows(reply: Any) -> list[tuple[str, bytes, bool]]:
    """One stream's ``XREAD`` reply (RESP2: ``[[key, entries]]``; RESP3: ``{key: [entries]}``)."""
    if not reply:
        return []
    if isinstance(reply, dict):
        ((entries,),) = reply.values()
        return rows(entries)
    ((_, entries),) = reply
    return rows(entries)


def script_rows(entries: Any) -> list[tuple[str, bytes, bool]]:
    """Entries as a script returns them: ``[id, [field, value, ...]]``."""
    rows = []
    for entry_id, flat in entries:
        fields = dict(zip(flat[::2], flat[1::2], strict=True))
        rows.append((text(entry_id), fields[b"d"], b"e" in fields))
    return rows
