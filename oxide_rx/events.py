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

Why plain slotted classes and not ``msgspec.Struct``: a Struct has no place for a hidden,
lazily-read field, and every field of a Struct is encoded. The wire types (``oxide_rx.types``)
are Structs; these are not wire objects.
"""

from __future__ import annotations

from typing import Any, ClassVar

import jiter

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

    >>> buf = TextBuffer()
    >>> buf.append("Hel"); buf.append("lo")
    >>> buf.text(), buf.text(3), len(buf)
    ('Hello', 'Hel', 5)
    """

    __slots__ = ("_joined", "_length", "_pending")

    def __init__(self, initial: str = "") -> None:
        self._joined = initial
        self._pending: list[str] = []
        self._length = len(initial)

    def append(self, piece: str) -> None:
        if piece:
            self._pending.append(piece)
            self._length += len(piece)

    def text(self, length: int | None = None) -> str:
        """The text so far, or its first ``length`` characters."""
        if self._pending:
            self._pending.insert(0, self._joined)
            self._joined = "".join(self._pending)
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


class Event:
    """Base of every helper event. Fields are listed in ``fields``.

    One event object is shared by every subscriber: treat it as read-only. (No runtime
    guard: a ``__setattr__`` that refuses writes made each event several times dearer.)
    """

    __slots__ = ()
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


class Chunk(Event):
    """A decoded Chat Completions wire chunk, delivered before the events it causes.

    ``chunk`` is the raw :class:`oxide_rx.types.chat.ChatCompletionChunk` (``obfuscation``
    included). Responses API wire events are not wrapped: each flows as itself.
    """

    __slots__ = ("chunk",)
    fields = ("chunk",)
    chunk: Any

    def __init__(self, chunk: Any) -> None:
        self.chunk = chunk


class _TextDelta(Event):
    """A piece of text plus a lazy ``snapshot`` of the text so far (shared shape)."""

    __slots__ = ("_buffer", "_length", "choice", "delta", "output_index")
    fields = ("delta", "snapshot", "choice")
    delta: str
    choice: int
    output_index: int | None
    _buffer: TextBuffer
    _length: int

    def __init__(
        self, delta: str, buffer: TextBuffer, *, choice: int = 0, output_index: int | None = None
    ) -> None:
        self.delta = delta
        self._buffer = buffer
        self._length = len(buffer)
        self.choice = choice
        self.output_index = output_index

    @property
    def snapshot(self) -> str:
        return self._buffer.text(self._length)


class ContentDelta(_TextDelta):
    """New answer text. ``snapshot`` is the text of this choice (or content part) so far."""

    __slots__ = ()


class ContentDone(Event):
    """A choice's (or content part's) text is complete.

    ``parsed`` holds the structured output when a ``response_format`` type was given.
    """

    __slots__ = ("choice", "content", "output_index", "parsed")
    fields = ("content", "parsed", "choice")
    content: str
    parsed: Any
    choice: int
    output_index: int | None

    def __init__(
        self, content: str, *, parsed: Any = None, choice: int = 0, output_index: int | None = None
    ) -> None:
        self.content = content
        self.parsed = parsed
        self.choice = choice
        self.output_index = output_index


class RefusalDelta(_TextDelta):
    """New refusal text; ``snapshot`` is the refusal so far."""

    __slots__ = ()


class RefusalDone(Event):
    """The model's refusal is complete."""

    __slots__ = ("choice", "output_index", "refusal")
    fields = ("refusal", "choice")
    refusal: str
    choice: int
    output_index: int | None

    def __init__(self, refusal: str, *, choice: int = 0, output_index: int | None = None) -> None:
        self.refusal = refusal
        self.choice = choice
        self.output_index = output_index


class ToolCallDelta(Event):
    """A fragment of a function call's arguments.

    ``arguments_snapshot`` is the argument text so far; ``parsed_arguments`` parses it as
    partial JSON on access (``None`` until something parseable has arrived).
    ``call_id`` is the id to answer the call with (chat: ``tool_calls[].id``; Responses:
    the item's ``call_id``, not the item id).
    """

    __slots__ = (
        "_buffer", "_length", "arguments_delta", "call_id", "choice", "index", "name",
        "output_index",
    )
    fields = ("index", "call_id", "name", "arguments_delta", "arguments_snapshot", "choice")
    index: int
    call_id: str
    name: str
    arguments_delta: str
    choice: int
    output_index: int | None
    _buffer: TextBuffer
    _length: int

    def __init__(
        self,
        *,
        index: int,
        call_id: str,
        name: str,
        arguments_delta: str,
        buffer: TextBuffer,
        choice: int = 0,
        output_index: int | None = None,
    ) -> None:
        self.index = index
        self.call_id = call_id
        self.name = name
        self.arguments_delta = arguments_delta
        self._buffer = buffer
        self._length = len(buffer)
        self.choice = choice
        self.output_index = output_index

    @property
    def arguments_snapshot(self) -> str:
        return self._buffer.text(self._length)

    @property
    def parsed_arguments(self) -> Any:
        return parse_partial_json(self.arguments_snapshot)


class ToolCallDone(Event):
    """One function call is complete: emitted as soon as that is known, before the stream ends.

    ``parsed_arguments`` is the decoded JSON arguments (a dict for well-formed calls,
    ``None`` when the arguments are not valid JSON), or an instance of the tool's argument
    type when one was registered.
    """

    __slots__ = ("arguments", "call_id", "choice", "index", "name", "output_index",
                 "parsed_arguments")
    fields = ("index", "call_id", "name", "arguments", "parsed_arguments", "choice")
    index: int
    call_id: str
    name: str
    arguments: str
    parsed_arguments: Any
    choice: int
    output_index: int | None

    def __init__(
        self,
        *,
        index: int,
        call_id: str,
        name: str,
        arguments: str,
        parsed_arguments: Any = None,
        choice: int = 0,
        output_index: int | None = None,
    ) -> None:
        self.index = index
        self.call_id = call_id
        self.name = name
        self.arguments = arguments
        self.parsed_arguments = parsed_arguments
        self.choice = choice
        self.output_index = output_index


class ReasoningDelta(_TextDelta):
    """New reasoning text or reasoning summary text; ``snapshot`` is that part so far."""

    __slots__ = ()


class ReasoningDone(Event):
    """A reasoning text or summary part is complete."""

    __slots__ = ("choice", "output_index", "text")
    fields = ("text", "choice")
    text: str
    choice: int
    output_index: int | None

    def __init__(self, text: str, *, choice: int = 0, output_index: int | None = None) -> None:
        self.text = text
        self.choice = choice
        self.output_index = output_index


class LogprobsDelta(Event):
    """Token log-probabilities that arrived with one chunk (lists of wire ``TokenLogprob``)."""

    __slots__ = ("choice", "content", "output_index", "refusal")
    fields = ("content", "refusal", "choice")
    content: list[Any] | None
    refusal: list[Any] | None
    choice: int
    output_index: int | None

    def __init__(
        self,
        *,
        content: list[Any] | None = None,
        refusal: list[Any] | None = None,
        choice: int = 0,
        output_index: int | None = None,
    ) -> None:
        self.content = content
        self.refusal = refusal
        self.choice = choice
        self.output_index = output_index


class Usage(Event):
    """Token usage arrived (the wire ``CompletionUsage`` or Responses ``ResponseUsage``)."""

    __slots__ = ("usage",)
    fields = ("usage",)
    usage: Any

    def __init__(self, usage: Any) -> None:
        self.usage = usage


class Done(Event):
    """A choice (chat) or the whole response (Responses API) finished.

    ``finish_reason``: chat ``"stop" | "length" | "tool_calls" | "content_filter" | ...``;
    Responses: the terminal status ``"completed" | "incomplete" | "failed" | ...``.
    ``reason``: why a response is incomplete (``"max_output_tokens"``, ...), else ``None``.
    """

    __slots__ = ("choice", "finish_reason", "reason")
    fields = ("finish_reason", "choice", "reason")
    finish_reason: str | None
    choice: int
    reason: str | None

    def __init__(
        self, finish_reason: str | None, *, choice: int = 0, reason: str | None = None
    ) -> None:
        self.finish_reason = finish_reason
        self.choice = choice
        self.reason = reason
