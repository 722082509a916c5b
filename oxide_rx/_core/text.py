"""Append-only text with cheap reads of any earlier prefix: what lazy snapshots point into."""

from __future__ import annotations

__all__ = ["FOLD", "TextBuffer"]

FOLD = 256
"""Pending pieces joined into one block at a time."""


class TextBuffer:
    """Append-only text; any earlier prefix can be read back later.

    Appending is O(len(piece)); :meth:`text` joins pending pieces once and caches the result,
    so reading the latest text after every append costs O(total) per read, never per append.
    Unread pieces are folded into blocks of ``FOLD`` pieces, so a long stream nobody reads
    keeps about its text's size, not one Python string object per 4-character delta.

    The accumulators' hottest paths append inline (``pending.append``, ``length +=``,
    :meth:`fold` at ``FOLD`` pieces): a method call per token is a measurable share of a
    stream's cost. ``length`` and ``pending`` are public for them; anything else uses
    :meth:`append`.

    >>> buf = TextBuffer()
    >>> buf.append("Hel"); buf.append("lo")
    >>> buf.text(), buf.text(3), len(buf)
    ('Hello', 'Hel', 5)
    """

    __slots__ = ("_blocks", "_joined", "length", "pending")

    def __init__(self, initial: str = "") -> None:
        self._joined = initial
        self._blocks: list[str] = []
        self.pending: list[str] = []
        """Pieces appended since the last fold or read."""
        self.length = len(initial)
        """The text's length in characters."""

    def append(self, piece: str) -> None:
        if piece:
            pending = self.pending
            pending.append(piece)
            self.length += len(piece)
            if len(pending) >= FOLD:
                self.fold()

    def fold(self) -> None:
        """Join the pending pieces into one block (bounds the objects a long text holds)."""
        self._blocks.append("".join(self.pending))
        self.pending.clear()

    def text(self, length: int | None = None) -> str:
        """The text so far, or its first ``length`` characters."""
        if self.pending or self._blocks:
            self._joined = "".join([self._joined, *self._blocks, *self.pending])
            self._blocks.clear()
            self.pending.clear()
        if length is None or length >= self.length:
            return self._joined
        return self._joined[:length]

    def __len__(self) -> int:
        return self.length

    def __repr__(self) -> str:
        return f"TextBuffer({self.text()!r})"
