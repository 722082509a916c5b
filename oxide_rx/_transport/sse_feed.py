"""The SSE feed of an HTTP response: network reads in, batches of payloads out.

One batch per network read keeps the per-event path free of awaits: the stream's pump awaits
once per read, then pushes every complete payload of that read in a tight loop.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator, Mapping

import aiohttp

from .._exceptions import SSEError
from ..sse import SSEDecoder
from .reads import body_reads

__all__ = ["DRAIN_SECONDS", "SSEFeed", "body_reads"]

# After the terminal event usually only the chunked-encoding trailer is left; reading it lets
# the connection go back to the pool instead of being closed. Bounded so that a chatty
# server cannot keep a finished stream alive.
DRAIN_SECONDS = 0.1
DRAIN_BYTES = 64 * 1024


class SSEFeed:
    """Batches of payloads (each event's data, as bytes) from one response.

    The owner iterates it, then calls :meth:`finish` (the stream ended normally: drain and
    return the connection to the pool) or :meth:`abort` (close the connection now).
    """

    def __init__(self, response: aiohttp.ClientResponse, max_event_size: int | None) -> None:
        self.response = response
        self.headers: Mapping[str, str] = response.headers
        self.decoder = SSEDecoder(max_event_size=max_event_size)

    async def __aiter__(self) -> AsyncGenerator[list[bytes], None]:
        feed = self.decoder.feed_data
        # Closed here when the stream stops early (at `[DONE]`, before EOF): left to the
        # garbage collector, an async generator is closed through the loop's finalizer hook,
        # a thread-safe wake-up and a task per stream.
        async with contextlib.aclosing(body_reads(self.response)) as reads:
            async for data in reads:
                try:
                    payloads = feed(data)
                except SSEError as exc:
                    if exc.events:
                        yield exc.events  # what was complete before the oversized event
                    raise
                if payloads:
                    yield payloads
                del data, payloads  # an idle stream holds no read (see push_batches)
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
