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
import weakref
from collections.abc import AsyncGenerator, Iterator
from typing import Any

import aiohttp

from .errors import connection_error, safe_cause

__all__ = ["body_reads", "ending_with_connection"]


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


def _fail_unfinished(content: aiohttp.StreamReader) -> None:
    if not content.is_eof() and content.exception() is None:
        content.set_exception(aiohttp.ClientPayloadError(
            "the connection closed before the body ended (invalid framing from the server, "
            "or a lost connection)"
        ))


@contextlib.contextmanager
def ending_with_connection(response: aiohttp.ClientResponse) -> Iterator[None]:
    """While inside, a body left unfinished by a lost connection fails at once
    (``ClientPayloadError``) instead of waiting forever."""
    content = response.content
    closed = _closed_future(response)
    if closed is True:
        _fail_unfinished(content)
        yield
        return
    if not isinstance(closed, asyncio.Future):
        yield
        return

    def on_closed(_: object) -> None:
        _fail_unfinished(content)

    _observe(closed)
    closed.add_done_callback(on_closed)
    try:
        yield
    finally:
        # A pooled connection outlives this body: leave no callback (and reference) on it.
        closed.remove_done_callback(on_closed)


async def body_reads(response: aiohttp.ClientResponse) -> AsyncGenerator[bytes, None]:
    """The body as network reads (``iter_any``). A broken connection or body is an
    :class:`~oxide_rx.APIConnectionError` (typed by :func:`.errors.connection_error`),
    raised after the bytes that had arrived before the break were yielded."""
    content = response.content
    with ending_with_connection(response):
        try:
            async for data in content.iter_any():
                yield data
                del data  # an idle stream holds no read (see push_batches)
            return
        except (aiohttp.ClientError, OSError) as exc:
            broken = exc
    rest = _unread_bytes(content)
    if rest:
        yield rest
    raise connection_error(broken, mid_body=True) from safe_cause(broken)
