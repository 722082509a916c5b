"""The SSE feed of an HTTP response: network reads in, batches of payloads out.

One batch per network read keeps the per-event path free of awaits: the stream's pump awaits
once per read, then pushes every complete payload of that read in a tight loop.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

import aiohttp

from .._exceptions import SSEError
from ..sse import SSEDecoder
from .reads import BodyReads

__all__ = ["DRAIN_SECONDS", "SSEFeed"]

# After the terminal event usually only the chunked-encoding trailer is left; reading it lets
# the connection go back to the pool instead of being closed. Bounded so that a chatty
# server cannot keep a finished stream alive.
DRAIN_SECONDS = 0.1
DRAIN_BYTES = 64 * 1024


class SSEFeed:
    """Batches of payloads (each event's data, as bytes) from one response.

    The owner iterates it once (it is its own iterator), then calls :meth:`finish` (the
    stream ended normally: drain and return the connection to the pool) or :meth:`abort`
    (close the connection now).
    """

    __slots__ = ("_failed", "_reads", "decoder", "headers", "response")

    def __init__(self, response: aiohttp.ClientResponse, max_event_size: int | None) -> None:
        self.response = response
        self.headers: Mapping[str, str] = response.headers
        self.decoder = SSEDecoder(max_event_size=max_event_size)
        self._reads: BodyReads | None = None
        self._failed: SSEError | None = None

    def __aiter__(self) -> SSEFeed:
        if self._reads is None:
            self._reads = BodyReads(self.response)
        return self

    async def __anext__(self) -> list[bytes]:
        # A method, not an async generator: an idle stream waits in this one frame, which
        # holds no read between batches (see push_batches).
        reads = self._reads
        assert reads is not None, "iterate the feed with async for"
        if self._failed is not None:
            raise self._failed
        feed = self.decoder.feed_data
        while True:
            try:
                payloads = feed(await reads.__anext__())
            except StopAsyncIteration:
                # The decoder drops an event without its blank line at EOF (WHATWG).
                self.decoder.finish()
                raise
            except SSEError as exc:
                if not exc.events:
                    raise
                self._failed = exc
                return exc.events  # what was complete before the oversized event
            if payloads:
                return payloads

    async def aclose(self) -> None:
        """Stop reading; called when the stream stops early (at ``[DONE]``, before EOF)."""
        if self._reads is not None:
            self._reads.close()

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
