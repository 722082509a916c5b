"""The events of one background response across connections (Responses API resume)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import Protocol

from .._exceptions import APIConnectionError
from .retry import backoff_delay
from .sse_feed import SSEFeed

__all__ = ["DEFAULT_MAX_RESUMES", "Progress", "ResumingFeed"]

log = logging.getLogger("oxide_rx")

DEFAULT_MAX_RESUMES = 5


class Progress(Protocol):
    """What the feed needs to know of the response's accumulator to resume it."""

    @property
    def terminal(self) -> bool: ...
    @property
    def last_sequence_number(self) -> int | None: ...
    @property
    def response_id(self) -> str | None: ...


class ResumingFeed:
    """Payload batches of one response across connections.

    When a connection breaks (or ends cleanly) before a terminal event and ``max_resumes``
    allows, it reopens the stream with ``reopen(response_id, starting_after)``, after the
    last ``sequence_number`` the accumulator (``progress``) saw; the accumulator also drops
    anything at or below it, so every event is delivered exactly once, in order. The first
    reconnection after a connection that made progress is immediate (a dropped connection is
    usually a network blip, and waiting only widens the gap); reconnections that bring
    nothing new back off exponentially, and after ``max_resumes`` of them in a row the stream
    fails with :class:`APIConnectionError`.

    A connection that breaks before any event carried the response id cannot be resumed; nor
    can streams without ``sequence_number`` (pre-2025-09), which would replay from the start.
    """

    def __init__(
        self,
        first: SSEFeed,
        progress: Progress,
        *,
        max_resumes: int,
        reopen: Callable[[str, int | None], Awaitable[SSEFeed]],
        response_id: str | None = None,
    ) -> None:
        self._progress = progress
        self._max_resumes = max_resumes
        self._reopen = reopen
        self._response_id = response_id
        self._current = first
        self.headers: Mapping[str, str] = first.headers

    def _resumable(self) -> str | None:
        """The response id to resume, or ``None`` when this stream must not resume."""
        progress = self._progress
        if self._max_resumes <= 0 or progress.terminal:
            return None
        if progress.last_sequence_number is None:
            return None
        return self._response_id or progress.response_id

    async def __aiter__(self) -> AsyncIterator[list[bytes]]:
        fruitless = 0  # reconnections in a row that brought no new event
        while True:
            seen = self._progress.last_sequence_number
            try:
                async for batch in self._current:
                    yield batch
            except APIConnectionError:
                if self._resumable() is None:
                    raise
                self._current.abort()
            else:
                if self._resumable() is None:
                    return
                await self._current.finish()
            response_id = self._resumable()
            assert response_id is not None
            after = self._progress.last_sequence_number
            fruitless = 0 if after != seen else fruitless + 1
            if fruitless >= self._max_resumes:
                raise APIConnectionError(
                    f"Gave up resuming response {response_id} after {fruitless} attempts "
                    f"without progress (last event: {after})."
                )
            delay = backoff_delay(fruitless - 1) if fruitless else 0.0
            log.debug("resuming response %s after event %s in %.2fs", response_id, after, delay)
            await asyncio.sleep(delay)
            self._current = await self._reopen(response_id, after)

    async def finish(self) -> None:
        """The stream ended normally: let the connection go back to the pool."""
        await self._current.finish()

    def abort(self) -> None:
        """Close the current connection now."""
        self._current.abort()
