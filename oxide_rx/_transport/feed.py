"""The SSE feed of an HTTP response: network reads in, batches of events out.

One batch per network read keeps the per-event path free of awaits: the stream's pump
awaits once per read, then pushes every complete event of that read in a tight loop.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import aiohttp

from ..sse import ServerSentEvent, SSEDecoder
from .errors import connection_error, safe_cause

__all__ = ["DRAIN_SECONDS", "SSEFeed", "unread_bytes"]

# After the terminal event usually only the chunked-encoding trailer is left; reading it lets
# the connection go back to the pool instead of being closed. Bounded so that a chatty
# server cannot keep a finished stream alive.
DRAIN_SECONDS = 0.1
DRAIN_BYTES = 64 * 1024


def unread_bytes(content: aiohttp.StreamReader) -> bytes:
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


class SSEFeed:
    """Batches of server-sent events from one response.

    The owner iterates it, then calls :meth:`finish` (the stream ended normally: drain and
    return the connection to the pool) or :meth:`abort` (close the connection now).
    """

    def __init__(self, response: aiohttp.ClientResponse, decoder: SSEDecoder) -> None:
        self.response = response
        self.decoder = decoder

    async def __aiter__(self) -> AsyncIterator[list[ServerSentEvent]]:
        decoder = self.decoder
        content = self.response.content
        broken: BaseException | None = None
        try:
            async for data in content.iter_any():
                events = decoder.feed(data)
                if events:
                    yield events
        except (aiohttp.ClientError, OSError) as exc:
            broken = exc
        if broken is not None:
            # Events that arrived before the break are delivered before the error.
            events = decoder.feed(unread_bytes(content))
            if events:
                yield events
            raise connection_error(broken, mid_body=True) from safe_cause(broken)
        tail = decoder.finish()
        if tail:
            yield tail

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
