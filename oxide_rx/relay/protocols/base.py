"""What every protocol encoder is, and the SSE framing they share."""

from __future__ import annotations

import typing
from collections.abc import Callable

from ..records import Record

__all__ = ["Encoder", "Protocol", "sse_frame"]


class Encoder(typing.Protocol):
    """Turns each record of one generation, in order, into the bytes to send."""

    def encode(self, entry_id: str, record: Record) -> bytes:
        """The bytes for ``record`` (``b""``: nothing to send). ``entry_id`` is its log id."""
        ...


Protocol = Callable[[], Encoder]
"""A protocol is a factory of fresh encoders (one per generation and node, plus one per
late viewer to rebuild the state it joins in)."""


def sse_frame(data: bytes, *, event: str | None = None, id: str | None = None) -> bytes:
    """One server-sent event; ``data`` must hold no newline (compact JSON never does).

    >>> sse_frame(b"{}", event="x", id="7")
    b'event: x\\nid: 7\\ndata: {}\\n\\n'
    """
    head = b""
    if event is not None:
        head += b"event: " + event.encode() + b"\n"
    if id is not None:
        head += b"id: " + id.encode() + b"\n"
    return head + b"data: " + data + b"\n\n"
