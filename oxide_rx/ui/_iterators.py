"""``iter_text`` / ``iter_snapshots``: the streams' own plain iterators, as functions for
code that takes a stream (see :meth:`oxide_rx.ChatStream.iter_text`)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from .._stream.lifetime import StreamHandle

__all__ = ["iter_snapshots", "iter_text"]


def iter_text(stream: StreamHandle[Any], *, choice: int = 0) -> AsyncIterator[str]:
    """``stream.iter_text(choice)``: the answer's text as it arrives, pulled at the
    consumer's pace.

    >>> async for text in ox.ui.iter_text(stream):  # doctest: +SKIP
    ...     print(text, end="", flush=True)
    """
    return stream.iter_text(choice)


def iter_snapshots(stream: StreamHandle[Any], *, choice: int = 0) -> AsyncIterator[str]:
    """``stream.iter_snapshots(choice)``: the text so far, each time new text arrived.

    >>> async for text in ox.ui.iter_snapshots(stream):  # doctest: +SKIP
    ...     yield text
    """
    return stream.iter_snapshots(choice)
