"""Structured output in progress: content deltas that carry their partial value.

When a stream asked for a ``response_format`` / ``text_format`` type, its accumulator passes
each chunk's (or wire event's) helper events through :func:`with_parsed_content`, which gives
every text part a :class:`~oxide_rx._core.partial.PartialDocument` and turns its
``ContentDelta`` s into ones whose ``parsed`` reads that document as of the event. Streams
without a format never come here: their per-delta path stays as tuned.
"""

from __future__ import annotations

from typing import Any, TypeVar

from ..events import _LazyContentDelta, _LazyParsedContentDelta
from .partial import PartialDocument
from .text import TextBuffer

__all__ = ["with_parsed_content"]

_E = TypeVar("_E")


def with_parsed_content(
    events: list[_E], documents: dict[TextBuffer, PartialDocument], target: Any
) -> list[_E]:
    """``events`` with each plain ``ContentDelta`` replaced by one that has ``parsed``.

    ``documents`` maps a text part's buffer (one per chat choice, one per Responses output
    text part) to its document; ``target`` is the structured format's type.
    """
    for position, event in enumerate(events):
        if type(event) is _LazyContentDelta:
            buffer: TextBuffer = event._buffer  # type: ignore[attr-defined]
            document = documents.get(buffer)
            if document is None:
                document = documents[buffer] = PartialDocument(target)
            delta: str = event.delta  # type: ignore[attr-defined]
            document.append(delta)
            events[position] = _LazyParsedContentDelta(  # type: ignore[assignment]
                delta, "", event.choice, event.output_index,  # type: ignore[attr-defined]
                buffer, event._length, document,  # type: ignore[attr-defined]
            )
    return events
