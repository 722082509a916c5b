"""What a stream reads from: a feed of payload batches, whatever the transport."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import Protocol

__all__ = ["Feed"]


class Feed(Protocol):
    """Batches of payloads (one event's data each, as bytes) for one response.

    A batch is what one network read completed, so the stream awaits once per read and pushes
    the batch through its chain without awaiting per event. After iterating, the owner calls
    :meth:`finish` (ended normally: let the connection be reused) or :meth:`abort` (close it
    now). Errors raised while iterating are :class:`~oxide_rx.OxideRxError` s.
    """

    headers: Mapping[str, str]
    """The response headers (case-insensitive for HTTP; empty for a WebSocket response)."""

    def __aiter__(self) -> AsyncIterator[list[bytes]]: ...
    async def finish(self) -> None: ...
    def abort(self) -> None: ...
