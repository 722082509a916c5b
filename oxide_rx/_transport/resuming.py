"""The events of one background response across connections (Responses API resume)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import Protocol

import msgspec

from .._core.response_completion import TERMINAL_STATUSES
from .._exceptions import APIConnectionError, APIStatusError
from ..types.responses import Response, ResponseStreamEvent, decode_response
from .retry import backoff_delay
from .sse_feed import SSEFeed

__all__ = ["DEFAULT_MAX_RESUMES", "Progress", "ResumingFeed"]

log = logging.getLogger("oxide_rx")

DEFAULT_MAX_RESUMES = 5

# A resume the server refuses for good: 400 "This response can no longer be streamed because
# it is more than 5 minutes old", or a gateway's expired cursor (409 / 410).
_UNRESUMABLE = frozenset({400, 409, 410})
_encode = msgspec.json.Encoder().encode


class Progress(Protocol):
    """What the feed needs to know of the response's accumulator to resume it."""

    @property
    def terminal(self) -> bool: ...
    @property
    def last_sequence_number(self) -> int | None: ...
    @property
    def response_id(self) -> str | None: ...
    def resume_after(self, sequence_number: int | None) -> None: ...
    def events_to_complete(self, final: Response) -> list[ResponseStreamEvent]: ...


class ResumingFeed:
    """Payload batches of one response across connections.

    When a connection breaks (or ends cleanly) before a terminal event and ``max_resumes``
    allows, it reopens the stream with ``reopen(response_id, starting_after)``, after the
    last ``sequence_number`` the accumulator (``progress``) saw, and tells the accumulator
    (``progress.resume_after``) so that it drops replays at or below it: every event is
    delivered exactly once, in order. The first
    reconnection after a connection that made progress is immediate (a dropped connection is
    usually a network blip, and waiting only widens the gap); reconnections that bring
    nothing new back off exponentially, and after ``max_resumes`` of them in a row the stream
    fails with :class:`APIConnectionError`.

    A connection that breaks before any event carried the response id cannot be resumed; nor
    can streams without ``sequence_number`` (pre-2025-09), which would replay from the start.

    When the server refuses to stream the response again (400 "more than 5 minutes old", or
    409 / 410 from a gateway) and ``retrieve`` is given, the response is fetched whole with
    ``retrieve(response_id)`` (its JSON; polled with backoff while still queued or in
    progress, within the stream's idle timeout) and the events the stream still misses
    (``progress.events_to_complete``) are delivered as one last batch, so the stream ends
    complete: the rest of the text, ``ContentDone``, ``ToolCallDone``, ``Done``.
    """

    def __init__(
        self,
        first: SSEFeed,
        progress: Progress,
        *,
        max_resumes: int,
        reopen: Callable[[str, int | None], Awaitable[SSEFeed]],
        response_id: str | None = None,
        retrieve: Callable[[str], Awaitable[bytes]] | None = None,
    ) -> None:
        self._progress = progress
        self._max_resumes = max_resumes
        self._reopen = reopen
        self._retrieve = retrieve
        self._response_id = response_id
        self._current: SSEFeed | None = first
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
        while self._current is not None:
            current = self._current
            seen = self._progress.last_sequence_number
            try:
                async with contextlib.aclosing(current.__aiter__()) as batches:  # see SSEFeed
                    async for batch in batches:
                        yield batch
            except APIConnectionError:
                if self._resumable() is None:
                    raise
                current.abort()
            else:
                if self._resumable() is None:
                    return
                await current.finish()
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
            try:
                self._current = await self._reopen(response_id, after)
            except APIStatusError as exc:
                if self._retrieve is None or exc.status_code not in _UNRESUMABLE:
                    raise
                log.debug("response %s cannot be streamed again (%d): retrieving it",
                          response_id, exc.status_code)
                self._current = None
                yield await self._completion(response_id)
                return
            self._progress.resume_after(after)

    async def _completion(self, response_id: str) -> list[bytes]:
        """The payloads that complete the stream from the response retrieved whole."""
        assert self._retrieve is not None
        polls = 0
        while True:
            final = decode_response(await self._retrieve(response_id))
            if final.status in TERMINAL_STATUSES:
                break
            # Still running (a background response can outlive the resume window): poll.
            await asyncio.sleep(backoff_delay(polls))
            polls += 1
        return [_encode(event) for event in self._progress.events_to_complete(final)]

    async def finish(self) -> None:
        """The stream ended normally: let the connection go back to the pool."""
        if self._current is not None:
            await self._current.finish()

    def abort(self) -> None:
        """Close the current connection now."""
        if self._current is not None:
            self._current.abort()
