"""Helper events: one vocabulary for Chat Completions and the Responses API.

Both accumulators (``_chat_state`` and ``_responses_state``) turn wire chunks into these
events, whatever the transport (SSE or WebSocket). Subscribe by type::

    stream.on(ox.ContentDelta, lambda e: print(e.delta, end=""))
    stream.events.pipe(ox.ops.of_type(ox.ToolCallDone)).subscribe(run_tool)

Events are small read-only objects. Snapshots (``ContentDelta.snapshot``,
``ToolCallDelta.arguments_snapshot`` ...) are *lazy*: an event keeps a reference to the
accumulator's append-only :class:`TextBuffer` and the length at the time of the event, and
builds the string only when asked. Emitting an event therefore costs the same on the first
token and the hundred-thousandth; reading a snapshot costs what building that string costs.

Events are frozen ``msgspec.Struct`` s with ``gc=False``: about 0.1 µs to build and invisible
to the garbage collector, which matters when thousands of streams run at once. The buffer and
length behind a lazy snapshot are private fields (``_buffer``, ``_length``); ``repr``, ``==``
and :meth:`Event.to_dict` show the public ``fields`` instead. Events are not wire objects:
encode ``to_dict()``, not the event.
"""

from __future__ import annotations

from typing import Any, ClassVar

import jiter
import msgspec

__all__ = [
    "Chunk",
    "ContentDelta",
    "ContentDone",
    "Done",
    "Event",
    "LogprobsDelta",
    "ReasoningDelta",
    "ReasoningDone",
    "RefusalDelta",
    "RefusalDone",
    "TextBuffer",
    "ToolCallDelta",
    "ToolCallDone",
    "Usage",
    "parse_partial_json",
]


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


def parse_partial_json(text: str) -> Any:
    """Parse JSON that may be cut short (a streaming tool call's arguments so far).

    Returns ``None`` when nothing parseable has arrived yet.

    >>> parse_partial_json('{"city": "Par')
    {'city': 'Par'}
    """
    if not text.strip():
        return None
    try:
        return jiter.from_json(text.encode(), partial_mode="trailing-strings")
    except ValueError:
        return None


class Event(msgspec.Struct, frozen=True, gc=False):
    """Base of every helper event. ``fields`` lists what ``repr``, ``==`` and ``to_dict`` show."""

    fields: ClassVar[tuple[str, ...]] = ()

    def to_dict(self) -> dict[str, Any]:
        """The event's fields (lazy snapshots included) as a plain dict."""
        return {name: getattr(self, name) for name in self.fields}

    def __repr__(self) -> str:
        body = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.fields)
        return f"{type(self).__name__}({body})"

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return self.to_dict() == other.to_dict()

    __hash__ = None  # type: ignore[assignment]


class Chunk(Event, frozen=True, gc=False):
    """A decoded Chat Completions wire chunk, delivered before the events it causes.

    ``chunk`` is the raw :class:`oxide_rx.types.chat.ChatCompletionChunk` (``obfuscation``
    included). Responses API wire events are not wrapped: each flows as itself.
    """

    fields = ("chunk",)
    chunk: Any


class _TextDelta(Event, frozen=True, gc=False):
    """A piece of text plus a lazy ``snapshot`` of the text so far (shared shape).

    Built as ``ContentDelta(delta, buffer, len(buffer), choice=...)``: the buffer the text was
    appended to and its length just after.
    """

    fields = ("delta", "snapshot", "choice")
    delta: str
    _buffer: TextBuffer
    _length: int
    choice: int = 0
    output_index: int | None = None

    @property
    def snapshot(self) -> str:
        return self._buffer.text(self._length)


class ContentDelta(_TextDelta, frozen=True, gc=False):
    """New answer text. ``snapshot`` is the text of this choice (or content part) so far."""


class ContentDone(Event, frozen=True, gc=False):
    """A choice's (or content part's) text is complete.

    ``parsed`` holds the structured output when a ``response_format`` type was given.
    """

    fields = ("content", "parsed", "choice")
    content: str
    parsed: Any = None
    choice: int = 0
    output_index: int | None = None


class RefusalDelta(_TextDelta, frozen=True, gc=False):
    """New refusal text; ``snapshot`` is the refusal so far."""


class RefusalDone(Event, frozen=True, gc=False):
    """The model's refusal is complete."""

    fields = ("refusal", "choice")
    refusal: str
    choice: int = 0
    output_index: int | None = None


class ToolCallDelta(Event, frozen=True, gc=False):
    """A fragment of a function call's arguments.

    ``arguments_snapshot`` is the argument text so far; ``parsed_arguments`` parses it as
    partial JSON on access (``None`` until something parseable has arrived).
    ``call_id`` is the id to answer the call with (chat: ``tool_calls[].id``; Responses:
    the item's ``call_id``, not the item id). Built with the arguments buffer and its length,
    as the text deltas are.
    """

    fields = ("index", "call_id", "name", "arguments_delta", "arguments_snapshot", "choice")
    index: int
    call_id: str
    name: str
    arguments_delta: str
    _buffer: TextBuffer
    _length: int
    choice: int = 0
    output_index: int | None = None

    @property
    def arguments_snapshot(self) -> str:
        return self._buffer.text(self._length)

    @property
    def parsed_arguments(self) -> Any:
        return parse_partial_json(self.arguments_snapshot)


class ToolCallDone(Event, frozen=True, gc=False):
    """One function call is complete: emitted as soon as that is known, before the stream ends.

    ``parsed_arguments`` is the decoded JSON arguments (a dict for well-formed calls,
    ``None`` when the arguments are not valid JSON), or an instance of the tool's argument
    type when one was registered.
    """

    fields = ("index", "call_id", "name", "arguments", "parsed_arguments", "choice")
    index: int
    call_id: str
    name: str
    arguments: str
    parsed_arguments: Any = None
    choice: int = 0
    output_index: int | None = None


class ReasoningDelta(_TextDelta, frozen=True, gc=False):
    """New reasoning text or reasoning summary text; ``snapshot`` is that part so far."""


class ReasoningDone(Event, frozen=True, gc=False):
    """A reasoning text or summary part is complete."""

    fields = ("text", "choice")
    text: str
    choice: int = 0
    output_index: int | None = None


class LogprobsDelta(Event, frozen=True, gc=False):
    """Token log-probabilities that arrived with one chunk (lists of wire ``TokenLogprob``)."""

    fields = ("content", "refusal", "choice")
    content: list[Any] | None = None
    refusal: list[Any] | None = None
    choice: int = 0
    output_index: int | None = None


class Usage(Event, frozen=True, gc=False):
    """Token usage arrived (the wire ``CompletionUsage`` or Responses ``ResponseUsage``)."""

    fields = ("usage",)
    usage: Any


class Done(Event, frozen=True, gc=False):
    """A choice (chat) or the whole response (Responses API) finished.

    ``finish_reason``: chat ``"stop" | "length" | "tool_calls" | "content_filter" | ...``;
    Responses: the terminal status ``"completed" | "incomplete" | "failed" | ...``.
    ``reason``: why a response is incomplete (``"max_output_tokens"``, ...), else ``None``.
    """

    fields = ("finish_reason", "choice", "reason")
    finish_reason: str | None
    choice: int = 0
    reason: str | None = None
