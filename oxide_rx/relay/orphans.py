"""The end of a generation whose owner died, written by whichever node notices first.

A log whose owners live in other processes (Redis) raises
:class:`~oxide_rx.relay.log.OwnerLost` from a blocking read once the owner stopped beating.
Nothing will ever append the generation's ``End`` then, so a reader writes it instead: the
partial answer rebuilt from the upstream payloads in the log (``Final``, the same object the
owner would have written), then ``End(status="failed", error_type="OwnerLost")``. The log
writes it only if the owner is still gone and nothing was appended since it was read, so
two nodes never both end it and the partial is never short of what viewers saw.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from typing import Any

import msgspec

import oxide_rx as ox
from oxide_rx.types.chat import CHUNK_DECODER
from oxide_rx.types.responses import decode_event

from . import records
from .log import GenerationLog, GenerationNotFound

__all__ = ["LOST_MESSAGE", "end_for_lost_owner"]

log = logging.getLogger("oxide_rx.relay")

LOST_MESSAGE = ("The relay node that owned this generation stopped responding; "
                "the answer is partial.")

_json = msgspec.json.Encoder().encode
_PAGE = 4096


class _Partial:
    """The accumulated object of one generation, rebuilt from its ``Wire`` records."""

    def __init__(self, api: str) -> None:
        self.feed: Callable[[bytes], Any]
        self.snapshot: Callable[[], Any]
        if api == "chat":
            chat = ox.ChatCompletionAccumulator()
            self.feed = lambda data: chat.handle_chunk(CHUNK_DECODER.decode(data))
            self.snapshot = chat.completion
        else:
            responses = ox.ResponseAccumulator()
            self.feed = lambda data: responses.handle_event(decode_event(data))
            self.snapshot = responses.response


async def end_for_lost_owner(
    generation_log: GenerationLog, generation_id: str, *, retention: float,
    clock: Callable[[], float],
) -> str | None:
    """End ``generation_id`` for its lost owner; the end's id, or None if the log refused
    (the owner is back, someone else ended it, or an entry arrived meanwhile)."""
    begin: records.Begin | None = None
    partial: _Partial | None = None
    cursor: str | None = None
    try:
        while entries := await generation_log.read(generation_id, cursor, count=_PAGE):
            for entry in entries:
                record = records.decode(entry.data)
                if isinstance(record, records.End):
                    return None
                if isinstance(record, records.Begin):
                    begin, partial = record, _Partial(record.api)
                elif isinstance(record, records.Wire) and partial is not None:
                    # A payload the owner relayed but that does not decode: the partial goes
                    # without it rather than not at all.
                    with contextlib.suppress(msgspec.DecodeError, msgspec.ValidationError,
                                             ox.OxideRxError):
                        partial.feed(record.data)
            cursor = entries[-1].id
    except GenerationNotFound:
        return None
    last = []
    if partial is not None:
        last.append(records.encode(records.Final(_json(partial.snapshot()))))
    elapsed = clock() - begin.created if begin is not None else 0.0
    end = records.End("failed", "OwnerLost", LOST_MESSAGE, max(elapsed, 0.0))
    last.append(records.encode(end))
    ended = await generation_log.end_orphan(generation_id, last, after=cursor,
                                            retention=retention)
    if ended is not None:
        log.warning("relay: %s lost its owner; ended it with its partial answer", generation_id)
    return ended
