"""The lazy parts of chat streams: queued events, chunks and ``ParsedChatCompletion`` snapshots.

A raw chunk or a helper event is queued as a :class:`~._lazy.Deferred` *item* holding what it
is made of (the chunk's JSON text, captured text lengths) and built when the consumer takes
it; its ``chunk`` and ``snapshot`` fields are built when read.

Every ``chunk`` event carries the completion so far, and it must be exact when read, however
much later that is. Building it per event costs O(text so far) per event, quadratic over a
stream, so a snapshot is built only when read, from state captured when its chunk was handled:

- a *base*: the completion as API data at the last chunk that changed more than text
  (the first chunk, tool calls, logprobs, a finish reason, usage, ...), built then;
- per choice, the content and refusal :class:`Text` with their lengths at that chunk (an
  O(1) capture of an append-only text's prefix), and the ``parsed`` value of the moment.

>>> text = Text()
>>> text.append("Hel")
>>> base = {"id": "c1", "choices": [{"index": 0, "message": {"content": "Hel"}}]}
>>> snapshot = Snapshot(base, ChoiceText(0, text, text.length))
>>> text.append("lo")
>>> snapshot.get().choices[0].message.content, TextPrefix(text, 5).compute()
('Hel', 'Hello')
"""

from __future__ import annotations

from typing import Any

import msgspec

from ._core import decode_json
from ._lazy import Deferred
from ._models import construct, instantiate, model_class

__all__ = ["ChoiceText", "ChunkEventItem", "ContentDeltaItem", "RawChunk", "RefusalDeltaItem",
           "Snapshot", "Text", "TextPrefix"]


class Text:
    """Append-only text of one choice; any earlier prefix can be read, from any thread.

    The synchronous client reads snapshots on the caller's thread while the event loop's
    thread keeps appending, so reading never mutates what appending touches: pieces are
    folded into blocks (one string per ``FOLD`` pieces, so a long stream is not one Python
    string per delta) by *replacing* the pending list, and a reader's cache of the joined
    blocks is its own.
    """

    FOLD = 256

    __slots__ = ("_blocks", "_cache", "_pending", "length")

    def __init__(self) -> None:
        self._blocks: list[str] = []
        self._pending: list[str] = []
        self._cache: tuple[int, str] = (0, "")
        self.length = 0

    def append(self, piece: str) -> None:
        if piece:
            pending = self._pending
            pending.append(piece)
            self.length += len(piece)
            if len(pending) >= self.FOLD:
                self._blocks.append("".join(pending))
                self._pending = []  # replaced, not cleared: a reader may be joining it

    def prefix(self, length: int) -> str:
        """The first ``length`` characters (``length`` <= what was appended so far)."""
        # Pending first: if a fold happens after this read, the blocks read below already
        # hold everything up to ``length``, and the stale pending list is not needed.
        pending = self._pending
        count, joined = self._cache
        blocks = self._blocks
        total = len(blocks)
        if total > count:
            joined = "".join([joined, *blocks[count:total]])
            self._cache = (total, joined)
        if len(joined) < length:
            joined += "".join(pending)
        return joined if len(joined) == length else joined[:length]

    def text(self) -> str:
        return self.prefix(self.length)


class TextPrefix(Deferred, gc=False):
    """A delta event's ``snapshot``: the choice's text as it was at that event."""

    text: Text
    length: int

    def compute(self) -> str:
        return self.text.prefix(self.length)


class ChoiceText(msgspec.Struct, gc=False):
    """One choice's text state at one chunk."""

    index: int
    content: Text | None = None
    content_length: int = 0
    refusal: Text | None = None
    refusal_length: int = 0
    parsed: Any = None
    parsed_final: bool = False


class Snapshot(Deferred, gc=False):
    """One ``ParsedChatCompletion`` snapshot, built on first :meth:`get` and then kept.

    ``first`` and ``others`` are the choices' text states (a stream with one choice, the
    usual case, needs no tuple).
    """

    base: dict[str, Any] | None = None
    first: ChoiceText | None = None
    others: tuple[ChoiceText, ...] = ()
    value: Any = None

    @classmethod
    def built(cls, value: Any) -> Snapshot:
        """A snapshot already built (a chunk that changed more than text)."""
        return cls(value=value)

    def get(self) -> Any:
        value = self.value
        if value is None:
            base, first, others = self.base, self.first, self.others
            if base is None:  # another thread has just built it
                return self.value
            texts = others if first is None else (first, *others)
            value = self.value = construct("ParsedChatCompletion", with_texts(base, texts))
            self.base, self.first, self.others = None, None, ()  # no longer needed
        return value

    compute = get


def with_texts(base: dict[str, Any], texts: tuple[ChoiceText, ...]) -> dict[str, Any]:
    """``base`` with each choice's text and ``parsed`` as captured (copies; base is shared)."""
    captured = {text.index: text for text in texts}
    choices = []
    for choice in base.get("choices") or []:
        text = captured.get(choice["index"])
        if text is None:
            choices.append(choice)
            continue
        message = dict(choice["message"])
        if text.content is not None:
            message["content"] = text.content.prefix(text.content_length)
        if text.refusal is not None:
            message["refusal"] = text.refusal.prefix(text.refusal_length)
        if text.parsed_final or text.parsed is not None:
            message["parsed"] = text.parsed
        else:
            message.pop("parsed", None)
        choices.append({**choice, "message": message})
    return {**base, "choices": choices}


class RawChunk(Deferred, gc=False):
    """An official ``ChatCompletionChunk`` to build from the ``data`` it was sent as.

    Queued as it is: the consumer builds the object when it takes it, so a read's worth of
    chunks waits in the queue as plain strings.
    """

    data: str

    def compute(self) -> Any:
        return construct("ChatCompletionChunk", decode_json(self.data))


_CHUNK_EVENT = model_class("ChunkEvent")
_CONTENT_DELTA = model_class("ContentDeltaEvent")
_REFUSAL_DELTA = model_class("RefusalDeltaEvent")


class ChunkEventItem(Deferred, gc=False):
    """A ``chunk`` event, built when the consumer takes it; its fields when they are read."""

    data: str
    snapshot: Snapshot

    def compute(self) -> Any:
        return instantiate(_CHUNK_EVENT, {"type": "chunk", "chunk": RawChunk(self.data),
                                          "snapshot": self.snapshot})


class ContentDeltaItem(Deferred, gc=False):
    """A ``content.delta`` event, built when the consumer takes it."""

    delta: str
    snapshot: TextPrefix
    parsed: Any

    def compute(self) -> Any:
        return instantiate(_CONTENT_DELTA, {"type": "content.delta", "delta": self.delta,
                                            "snapshot": self.snapshot, "parsed": self.parsed})


class RefusalDeltaItem(Deferred, gc=False):
    """A ``refusal.delta`` event, built when the consumer takes it."""

    delta: str
    snapshot: TextPrefix

    def compute(self) -> Any:
        return instantiate(_REFUSAL_DELTA, {"type": "refusal.delta", "delta": self.delta,
                                            "snapshot": self.snapshot})
