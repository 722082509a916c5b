"""Append-only text with cheap reads of any earlier prefix: what lazy snapshots point into."""

from __future__ import annotations

__all__ = ["TextBuffer"]


class TextBuffer:
    """Append-only text; any earlier prefix can be read back later.

    Appending is O(len(piece)); :meth:`text` joins pending pieces once and caches the result,
    so reading the latest text after every append costs O(total) per read, never per append.
    Unread pieces are folded into blocks of ``FOLD`` pieces, so a long stream nobody reads
    keeps about its text's size, not one Python string object per 4-character delta.

    >>> buf = TextBuffer()
    >>> buf.append("Hel"); buf.append("lo")
    >>> buf.text(), buf.text(3), len(buf)
    ('Hello', 'Hel', 5)
    """

    FOLD = 256

    __slots__ = ("_blocks", "_joined", "_length", "_pending")

    def __init__(self, initial: str = "") -> None:
        self._joined = initial
        self._blocks: list[str] = []
        self._pending: list[str] = []
        self._length = len(initial)

    def append(self, piece: str) -> None:
        if piece:
            pending = self._pending
            pending.append(piece)
            self._length += len(piece)
            if len(pending) >= self.FOLD:
                self._blocks.append("".join(pending))
                pending.clear()

    def text(self, length: int | None = None) -> str:
        """The text so far, or its first ``length`` characters."""
        if self._pending or self._blocks:
            self._joined = "".join([self._joined, *self._blocks, *self._pending])
            self._blocks.clear()
            self._pending.clear()
        if length is None or length >= self._length:
            return self._joined
        return self._joined[:length]

    def __len__(self) -> int:
        return self._length

    def __repr__(self) -> str:
        return f"TextBuffer({self.text()!r})"
