"""A response body as network reads: nothing that arrived is lost, a broken body never hangs.

Two aiohttp behaviours would break the library's promises, and are handled here, for every
body the library reads (event streams, JSON bodies, error bodies, ``ox.from_aiohttp``):

- aiohttp raises a stored connection error *before* returning data it had buffered, so a body
  read later than it arrived would lose events the server did send. What was buffered is
  read out first (:func:`_unread_bytes`).
- When aiohttp's HTTP parser rejects the framing mid-body (a chunk size that is not hex, a
  chunk longer than declared), it closes the transport but never ends the body: no EOF, no
  error, and a reader waits for its idle timeout (600 s by default). The connection's
  ``closed`` future tells when it is gone; a body neither complete nor failed by then is
  failed at once (:func:`ending_with_connection`).

Both use aiohttp details outside its documented API (``StreamReader._read_nowait``,
``ResponseHandler.closed``), each looked up with ``getattr`` and skipped if a future aiohttp
drops it: the error is then still raised, only later or with less salvaged.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import weakref
from collections.abc import Callable, Iterator
from typing import Any

import aiohttp

from .errors import connection_error, safe_cause

__all__ = ["BodyReads", "ending_with_connection"]


def _unread_bytes(content: aiohttp.StreamReader) -> bytes:
    """What aiohttp received but had not handed out when the connection broke."""
    read_buffered = getattr(content, "_read_nowait", None)
    if read_buffered is None or not getattr(content, "_buffer", None):
        return b""
    try:
        data = read_buffered(-1)
    except Exception:
        return b""
    return data if isinstance(data, bytes) else b""


def _closed_future(response: aiohttp.ClientResponse) -> asyncio.Future[Any] | bool | None:
    """The connection's ``closed`` future; ``True`` if it is already gone, ``None`` if
    unknown (released to the pool, or an aiohttp without the future)."""
    connection = response.connection
    protocol = None if connection is None else connection.protocol
    if protocol is None:
        return None
    closed = getattr(protocol, "closed", None)
    if closed is None:
        # The property returns None once the connection was lost before anyone asked.
        return not getattr(protocol, "is_connected", lambda: True)()
    return closed if isinstance(closed, asyncio.Future) else None


# ``closed`` futures this module made aiohttp create (the property makes it on first access).
# aiohttp sets an exception on one when its connection is lost with an error; unread, that
# exception is reported ("Future exception was never retrieved") when the future is
# collected. Each gets one permanent callback that reads it, so a pooled connection used by
# many streams still carries one callback, not one per stream.
_OBSERVED: weakref.WeakSet[asyncio.Future[Any]] = weakref.WeakSet()


def _observe(closed: asyncio.Future[Any]) -> None:
    if closed not in _OBSERVED:
        _OBSERVED.add(closed)
        closed.add_done_callback(_consume)


def _consume(closed: asyncio.Future[Any]) -> None:
    if not closed.cancelled():
        closed.exception()


def _fail_unfinished(content: aiohttp.StreamReader, _: object = None) -> None:
    # (The second parameter: the ``closed`` future, when called back by it.)
    if not content.is_eof() and content.exception() is None:
        content.set_exception(aiohttp.ClientPayloadError(
            "the connection closed before the body ended (invalid framing from the server, "
            "or a lost connection)"
        ))


_Watch = tuple[asyncio.Future[Any], Callable[[object], None]]


def watch_connection(response: aiohttp.ClientResponse) -> _Watch | None:
    """Until :func:`unwatch`, a body left unfinished by a lost connection fails at once
    (``ClientPayloadError``) instead of waiting forever. ``None``: nothing to unwatch."""
    content = response.content
    closed = _closed_future(response)
    if closed is True:
        _fail_unfinished(content)
        return None
    if not isinstance(closed, asyncio.Future):
        return None
    on_closed = functools.partial(_fail_unfinished, content)
    _observe(closed)
    closed.add_done_callback(on_closed)
    return closed, on_closed


def unwatch(watch: _Watch | None) -> None:
    # A pooled connection outlives the body: leave no callback (and reference) on it.
    if watch is not None:
        watch[0].remove_done_callback(watch[1])


@contextlib.contextmanager
def ending_with_connection(response: aiohttp.ClientResponse) -> Iterator[None]:
    """:func:`watch_connection` while inside."""
    watch = watch_connection(response)
    try:
        yield
    finally:
        unwatch(watch)


class BodyReads:
    """The body of an aiohttp response as network reads (``readany``), an async iterator.

    A broken connection or body is an :class:`~oxide_rx.APIConnectionError` (typed by
    :func:`.errors.connection_error`), raised after the bytes that had arrived before the
    break. The connection is watched (:func:`watch_connection`) until the body ends or
    :meth:`aclose`. A class, not an async generator: an idle stream waits in one
    ``__anext__`` frame instead of a generator's and a context manager's.
    """

    __slots__ = ("_broken", "_content", "_watch")

    def __init__(self, response: aiohttp.ClientResponse) -> None:
        self._content: aiohttp.StreamReader | None = response.content
        self._broken: BaseException | None = None
        self._watch = watch_connection(response)

    def __aiter__(self) -> BodyReads:
        return self

    async def __anext__(self) -> bytes:
        content, broken = self._content, self._broken
        if content is None:
            raise StopAsyncIteration
        if broken is None:
            try:
                data = await content.readany()
            except (aiohttp.ClientError, OSError) as exc:
                broken = exc
                rest = _unread_bytes(content)
                if rest:
                    self._broken = broken  # raised by the next read
                    return rest
            else:
                if data:
                    return data
        self.close()
        if broken is None:
            raise StopAsyncIteration
        raise connection_error(broken, mid_body=True) from safe_cause(broken)

    def close(self) -> None:
        """Stop reading (idempotent): later reads end the iteration."""
        self._content = self._broken = None
        watch, self._watch = self._watch, None
        unwatch(watch)

    async def aclose(self) -> None:
        self.close()
