"""The SSE feed of an HTTP response: network reads in, batches of payloads out.

One batch per network read keeps the per-event path free of awaits: the stream's pump awaits
once per read, then pushes every complete payload of that read in a tight loop.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping

import aiohttp

from .._exceptions import SSEError
from ..sse import SSEDecoder
from .errors import connection_error, safe_cause

__all__ = ["DRAIN_SECONDS", "SSEFeed", "body_reads"]

# After the terminal event usually only the chunked-encoding trailer is left; reading it lets
# the connection go back to the pool instead of being closed. Bounded so that a chatty
# server cannot keep a finished stream alive.
DRAIN_SECONDS = 0.1
DRAIN_BYTES = 64 * 1024


def _unread_bytes(content: aiohttp.StreamReader) -> bytes:
    """What aiohttp received but had not handed out when the connection broke.

    aiohttp raises a stored connection error *before* returning buffered data, so a stream
    that was read later than it arrived (not started yet, or a busy loop) would lose events
    the server did send. The buffer is read through aiohttp's private helper; if a future
    aiohttp drops it, nothing is salvaged (the error is still raised).
    """
    read_buffered = getattr(content, "_read_nowait", None)
    if read_buffered is None or not getattr(content, "_buffer", None):
        return b""
    try:
        data = read_buffered(-1)
    except Exception:
        return b""
    return data if isinstance(data, bytes) else b""


async def body_reads(response: aiohttp.ClientResponse) -> AsyncIterator[bytes]:
    """The body as network reads (``iter_any``). A broken connection is an
    :class:`~oxide_rx.APIConnectionError` (typed by :func:`.errors.connection_error`), raised
    after the bytes that had arrived before the break were yielded."""
    content = response.content
    try:
        async for data in content.iter_any():
            yield data
        return
    except (aiohttp.ClientError, OSError) as exc:
        broken = exc
    rest = _unread_bytes(content)
    if rest:
        yield rest
    raise connection_error(broken, mid_body=True) from safe_cause(broken)


class SSEFeed:
    """Batches of payloads (each event's data, as bytes) from one response.

    The owner iterates it, then calls :meth:`finish` (the stream ended normally: drain and
    return the connection to the pool) or :meth:`abort` (close the connection now).
    """

    def __init__(self, response: aiohttp.ClientResponse, max_event_size: int | None) -> None:
        self.response = response
        self.headers: Mapping[str, str] = response.headers
        self.decoder = SSEDecoder(max_event_size=max_event_size)

    async def __aiter__(self) -> AsyncIterator[list[bytes]]:
        feed = self.decoder.feed_data
        async for data in body_reads(self.response):
            try:
                payloads = feed(data)
            except SSEError as exc:
                if exc.events:
                    yield exc.events  # what was complete before the oversized event
                raise
            if payloads:
                yield payloads
        # The decoder drops an event without its blank line at EOF (WHATWG): nothing to yield.
        self.decoder.finish()

    async def finish(self) -> None:
        """Read what little is left of a finished stream so its connection can be reused."""
        response = self.response
        try:
            async with asyncio.timeout(DRAIN_SECONDS):
                read = 0
                while read <= DRAIN_BYTES:
                    data = await response.content.readany()
                    if not data:
                        response.release()
                        return
                    read += len(data)
        except (TimeoutError, aiohttp.ClientError, OSError):
            pass
        response.close()

    def abort(self) -> None:
        """Close the connection at once (the server sees the client go away)."""
        self.response.close()
