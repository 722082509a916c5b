"""Helper events: one vocabulary for Chat Completions and the Responses API.

Both accumulators turn wire objects into these events, whatever the transport (SSE or
WebSocket). Subscribe by type, or ``match`` on the stream's union::

    stream.on(ox.ContentDelta, lambda e: print(e.delta, end=""))
    async for event in stream:
        match event:
            case ox.ToolCallDone(name=name, parsed_arguments=args): run(name, args)
            case ox.Done(finish_reason=reason): print(reason)

Events are frozen ``msgspec.Struct`` s with public keyword constructors, so a test can build
the events its code expects (``ox.ContentDelta(delta="lo", snapshot="Hello")``); equality and
``repr`` cover every public field.

Snapshots (``ContentDelta.snapshot``, ``ToolCallDelta.arguments_snapshot`` ...) are *lazy* on
the events a stream emits: such an event is a private subclass that keeps the accumulator's
append-only :class:`~oxide_rx._core.text.TextBuffer` and the length at the time of the event,
and builds the string only when asked. Emitting an event therefore costs the same on the
first token and the hundred-thousandth; reading a snapshot costs what building that string
costs. ``isinstance`` (and ``match``) see the public class; use :meth:`Event.to_dict` rather
than ``msgspec.structs.asdict`` to read every field of a lazy event. The buffers belong to
the event loop's thread: hand :meth:`Event.detached` to another thread, not the event.

``gc=False``: events hold only strings, numbers and wire objects, so the garbage collector
need not track them; about 0.07 µs to build, which matters when thousands of streams run.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar, Literal, Self, TypeAlias, TypeVar

import msgspec
from msgspec.structs import force_setattr

from oxide_rx._core.partial import PartialDocument, Reading, parse_once
from oxide_rx._core.text import TextBuffer
from oxide_rx.types import chat, responses

__all__ = [
    "ChatEvent",
    "ChatRunEvent",
    "Chunk",
    "ContentDelta",
    "ContentDone",
    "Done",
    "Event",
    "LogprobsDelta",
    "Metrics",
    "ReasoningDelta",
    "ReasoningDone",
    "RefusalDelta",
    "RefusalDone",
    "ResponseEvent",
    "ResponseRunEvent",
    "ToolCallDelta",
    "ToolCallDone",
    "ToolResult",
    "ToolStarted",
    "Usage",
    "parse_partial_json",
]


def parse_partial_json(text: str) -> Any:
    """Parse JSON that may be cut short (a tool call's arguments so far), in one go.

    A helper for text you hold; a stream's events parse incrementally instead
    (``ToolCallDelta.parsed_arguments``). What shows is prefix-consistent with the whole
    document: strings in progress, numbers and ``true``/``false``/``null`` only once complete
    (``{"n": 4`` shows no ``n``: ``42`` may follow). ``None`` before anything parseable; for
    text that is not JSON, what was parsed before the error.

    >>> parse_partial_json('{"city": "Par')
    {'city': 'Par'}
    >>> parse_partial_json('{"city": "Paris", "n": 4')
    {'city': 'Paris'}
    """
    return parse_once(text)[0]


class Event(msgspec.Struct, frozen=True, gc=False):
    """Base of every helper event."""

    def to_dict(self) -> dict[str, Any]:
        """The event's public fields (lazy snapshots built) as a plain dict.

        >>> ContentDone(content="Hi").to_dict()
        {'content': 'Hi', 'parsed': None, 'choice': 0, 'output_index': None}
        """
        return {name: getattr(self, name) for name in _public_fields(type(self))}

    def detached(self) -> Self:
        """This event with its lazy fields (snapshots, partial values) read now: an event of
        the public class that holds its own values, to keep or to hand to another thread.
        Call it on the event loop's thread, where the stream's buffers grow.

        >>> event = ContentDelta(delta="lo", snapshot="Hello")
        >>> event.detached() is event  # built by hand: nothing lazy to read
        True
        """
        return self

    def __hash__(self) -> int:
        # The same hash as a lazy event with equal fields (see _Lazy).
        return hash((type(self), tuple(getattr(self, name) for name in self.__struct_fields__)))


_Public = TypeVar("_Public", bound=Event)


def _public_fields(cls: type[Event]) -> tuple[str, ...]:
    return tuple(name for name in cls.__struct_fields__ if not name.startswith("_"))


class _Lazy:
    """What the lazy event subclasses share: equality, hash and repr over the public fields
    (their snapshot properties included), as if they were the public class."""

    __slots__ = ()
    _public: ClassVar[type[Event]]
    _fields: ClassVar[tuple[str, ...]]

    def _values(self) -> tuple[Any, ...]:
        return tuple(getattr(self, name) for name in self._fields)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, self._public):
            return NotImplemented
        return self._values() == tuple(getattr(other, name) for name in self._fields)

    def __hash__(self) -> int:
        return hash((self._public, self._values()))

    def __repr__(self) -> str:
        body = ", ".join(f"{name}={getattr(self, name)!r}" for name in self._fields)
        return f"{self._public.__name__}({body})"

    def detached(self) -> Any:
        return self._public(*self._values())

    def __reduce__(self) -> tuple[type[Event], tuple[Any, ...]]:
        # Pickled (and copied) as the public class, with the snapshot built.
        return self._public, self._values()


def _text_so_far(self: Any) -> str:
    return self._buffer.text(self._length)  # type: ignore[no-any-return]


def _parsed_so_far(self: Any) -> Reading:
    """The partial value as of this event: parsed on the first read, kept on the event for
    later reads (see :mod:`oxide_rx._core.partial` for what a later read gives)."""
    reading: Reading | None = self._parsed
    document: PartialDocument | None = self._document
    if reading is None:
        buffer: TextBuffer = self._buffer
        if document is None:
            value, error = parse_once(buffer.text(self._length))
            reading = (value, error, None)
        else:
            reading = document.read(self._length, buffer)
    elif document is not None:
        again = document.again(self._length, reading)
        if again is reading:
            return reading
        reading = again
    else:
        return reading
    force_setattr(self, "_parsed", reading)
    return reading


def _parsed_value(self: Any) -> Any:
    return _parsed_so_far(self)[0]


def _parsed_error(self: Any) -> str | None:
    return _parsed_so_far(self)[1]


def _lazy(
    public: type[_Public], text_field: str, parsed: tuple[str, str] | None = None
) -> Callable[..., _Public]:
    """A private subclass of ``public`` whose ``text_field`` is read from the accumulator's
    buffer on access. Built positionally: the public fields (the text field's own slot is
    unused), then the buffer and the length at the time of the event. It carries the public
    class's name, so ``type(event).__name__`` (logs, tables keyed by name) reads as users
    expect.

    ``parsed`` names the properties (value, error) that read the partial JSON of that text as
    of the event; the class then takes the :class:`PartialDocument` as a third private
    argument (``None``: parse the event's own text once, on the first read)."""
    annotations = {"_buffer": "TextBuffer | None", "_length": "int"}
    namespace: dict[str, Any] = {
        "_buffer": None,
        "_length": 0,
        "_public": public,
        "_fields": _public_fields(public),
        text_field: property(_text_so_far),
    }
    if parsed is not None:
        annotations |= {"_document": "PartialDocument | None", "_parsed": "Reading | None"}
        namespace |= {
            "_document": None,
            "_parsed": None,
            parsed[0]: property(_parsed_value),
            parsed[1]: property(_parsed_error),
        }
    namespace["__annotations__"] = annotations
    lazy = type(public.__name__, (_Lazy, public), namespace)
    lazy.__qualname__ = public.__qualname__
    return lazy


class Chunk(Event, frozen=True, gc=False):
    """A decoded Chat Completions wire chunk, delivered before the events it causes.

    ``chunk`` keeps every field the library models (``obfuscation`` included); ``raw`` is the
    payload exactly as the server sent it, so fields the library does not know yet stay
    reachable (``None`` for chunks not decoded by a stream). Responses API wire events are
    not wrapped: each flows as itself and has its own ``raw``.
    """

    chunk: chat.ChatCompletionChunk

    @property
    def raw(self) -> bytes | None:
        return self.chunk.raw


class ContentDelta(Event, frozen=True, gc=False):
    """New answer text. ``snapshot`` is the text of this choice (or content part) so far,
    ``delta`` included.

    >>> ContentDelta(delta="lo", snapshot="Hello")
    ContentDelta(delta='lo', snapshot='Hello', choice=0, output_index=None)
    """

    delta: str
    snapshot: str
    choice: int = 0
    output_index: int | None = None

    @property
    def parsed(self) -> Any:
        """The structured output so far, as of this event, when the stream asked for a
        ``response_format`` / ``text_format`` type: an instance of that type's partial class
        (same fields, each optional) holding the fields complete so far, ``None`` for the
        rest. ``None`` on other streams (and on events built by hand).

        A typed view is immutable and is rebuilt only when a field completes, so reading it
        after every delta is O(1). The final instance is ``ContentDone.parsed``.
        """
        return None

    @property
    def parse_error(self) -> str | None:
        """Why the structured output so far is not valid (JSON, or a completed field that
        does not validate), as of this event; ``None`` while it is. Never raised."""
        return None


class ContentDone(Event, frozen=True, gc=False):
    """A choice's (or content part's) text is complete.

    ``parsed`` holds the structured output when a ``response_format`` / ``text_format`` type
    was given (an instance of that type).
    """

    content: str
    parsed: Any = None
    choice: int = 0
    output_index: int | None = None


class RefusalDelta(Event, frozen=True, gc=False):
    """New refusal text; ``snapshot`` is the refusal so far."""

    delta: str
    snapshot: str
    choice: int = 0
    output_index: int | None = None



class RefusalDone(Event, frozen=True, gc=False):
    """The model's refusal is complete."""

    refusal: str
    choice: int = 0
    output_index: int | None = None


class ReasoningDelta(Event, frozen=True, gc=False):
    """New reasoning text or reasoning summary text; ``snapshot`` is that part so far."""

    delta: str
    snapshot: str
    choice: int = 0
    output_index: int | None = None



class ReasoningDone(Event, frozen=True, gc=False):
    """A reasoning text or summary part is complete."""

    text: str
    choice: int = 0
    output_index: int | None = None


class ToolCallDelta(Event, frozen=True, gc=False):
    """A fragment of a function call's arguments.

    ``arguments_snapshot`` is the argument text so far. ``parsed_arguments`` is its partial
    JSON value as of this event (``None`` until something parseable has arrived): strings in
    progress show, numbers and ``true``/``false``/``null`` once complete, never a wrong value.
    On a stream it is parsed incrementally, so reading it after every delta costs each delta
    once, however long the arguments. Read in order it is the parser's *live* value, which
    grows as later deltas are read: ``copy.deepcopy`` it to keep it. Read again later, the
    event gives its value as it was (details: :mod:`oxide_rx._core.partial`). With an argument
    type registered for the tool (``tool_types``, or a tool from :func:`oxide_rx.tool`) it is
    instead an instance of that type's partial class: the arguments complete so far, the
    others ``None`` (immutable). ``arguments_error`` says why the arguments are not valid JSON
    (or a complete argument does not validate); it is never raised. ``call_id`` is the id to
    answer the call with (chat: ``tool_calls[].id``; Responses: the item's ``call_id``, not
    the item id).

    >>> ToolCallDelta(index=0, call_id="call_1", name="get_weather",
    ...               arguments_delta='"Par', arguments_snapshot='{"city": "Par').parsed_arguments
    {'city': 'Par'}
    """

    index: int
    call_id: str
    name: str
    arguments_delta: str
    arguments_snapshot: str
    choice: int = 0
    output_index: int | None = None

    @property
    def parsed_arguments(self) -> Any:
        """The arguments so far as partial JSON (see the class docstring)."""
        return parse_once(self.arguments_snapshot)[0]

    @property
    def arguments_error(self) -> str | None:
        """Why the arguments so far are not valid JSON (or a completed argument does not
        validate as its type), as of this event; ``None`` while they are."""
        return parse_once(self.arguments_snapshot)[1]


class ToolCallDone(Event, frozen=True, gc=False):
    """One function call is complete: emitted as soon as that is known, before the stream ends.

    ``parsed_arguments`` is the decoded JSON arguments (a dict for well-formed calls,
    ``None`` when the arguments are not valid JSON), or an instance of the tool's argument
    type when one was registered.
    """

    index: int
    call_id: str
    name: str
    arguments: str
    parsed_arguments: Any = None
    choice: int = 0
    output_index: int | None = None


Logprobs: TypeAlias = list[chat.ChatCompletionTokenLogprob] | list[responses.Logprob]


class LogprobsDelta(Event, frozen=True, gc=False):
    """Token log-probabilities that arrived with one chunk or text delta."""

    content: Logprobs | None = None
    refusal: list[chat.ChatCompletionTokenLogprob] | None = None
    choice: int = 0
    output_index: int | None = None


class Usage(Event, frozen=True, gc=False):
    """Token usage arrived (Chat Completions ``CompletionUsage`` or Responses ``ResponseUsage``)."""

    usage: chat.CompletionUsage | responses.ResponseUsage


class Done(Event, frozen=True, gc=False):
    """A choice (chat) or the whole response (Responses API) finished.

    ``finish_reason``: chat ``"stop" | "length" | "tool_calls" | "content_filter" | ...``;
    Responses: the terminal status ``"completed" | "incomplete" | "failed" | ...``.
    ``reason``: why a response is incomplete (``"max_output_tokens"``, ...), else ``None``.
    """

    finish_reason: str | None
    choice: int = 0
    reason: str | None = None


_LazyContentDelta = _lazy(ContentDelta, "snapshot")
_LazyParsedContentDelta = _lazy(ContentDelta, "snapshot", ("parsed", "parse_error"))
_LazyRefusalDelta = _lazy(RefusalDelta, "snapshot")
_LazyReasoningDelta = _lazy(ReasoningDelta, "snapshot")
_LazyToolCallDelta = _lazy(ToolCallDelta, "arguments_snapshot",
                           ("parsed_arguments", "arguments_error"))

DEFAULT_STALL_THRESHOLD = 1.0
"""Seconds between two events beyond which the gap counts as a stall. Models stream a token
every 10-50 ms; a pause of a whole second is something a reader notices."""


class Metrics(Event, frozen=True, gc=False, kw_only=True):
    """How a stream went: latency, throughput and stalls (times in seconds).

    ``time_to_first_token``: from the request to the first output delta (text, refusal,
    reasoning or tool-call arguments); ``None`` if none arrived.
    ``tokens_per_second``: output per second of generation (first output delta to the end),
    counted in ``rate_unit``: ``"tokens"`` when the server reported usage
    (``completion_tokens`` / ``output_tokens``, kept in ``output_tokens``), else ``"deltas"``
    (one delta is about one token on OpenAI's streams). ``None`` until there is a window to
    measure over.
    ``stalls``: gaps between consecutive events (or the last event and the end) longer than
    ``stall_threshold``; ``longest_gap`` is the longest gap, stall or not. Waiting for the
    first event is the time to first token, not a stall.

    >>> Metrics(time_to_first_token=0.4, total_time=2.1, output_deltas=3, stalls=1)
    ... # doctest: +ELLIPSIS
    Metrics(time_to_first_token=0.4, tokens_per_second=None, rate_unit='deltas', ...)
    """

    time_to_first_token: float | None = None
    tokens_per_second: float | None = None
    rate_unit: Literal["tokens", "deltas"] = "deltas"
    output_tokens: int | None = None
    output_deltas: int = 0
    events: int = 0
    stalls: int = 0
    longest_gap: float = 0.0
    stall_threshold: float = DEFAULT_STALL_THRESHOLD
    total_time: float = 0.0

    def summary(self) -> str:
        """One line for people.

        >>> Metrics(time_to_first_token=0.412, tokens_per_second=52.34, rate_unit="tokens",
        ...         stalls=1, longest_gap=2.4, total_time=3.1).summary()
        'TTFT 0.41 s · 52.3 tokens/s · 1 stall (longest gap 2.4 s) · total 3.10 s'
        """
        ttft = "-" if self.time_to_first_token is None else f"{self.time_to_first_token:.2f} s"
        rate = "-" if self.tokens_per_second is None else f"{self.tokens_per_second:.1f}"
        stalls = f"{self.stalls} stall{'' if self.stalls == 1 else 's'}"
        if self.stalls:
            stalls += f" (longest gap {self.longest_gap:.1f} s)"
        return (f"TTFT {ttft} · {rate} {self.rate_unit}/s · {stalls} · "
                f"total {self.total_time:.2f} s")


class ToolStarted(Event, frozen=True, gc=False, kw_only=True):
    """A tool runner started a tool (``client.chat.completions.run_tools`` /
    ``client.responses.run_tools``).

    ``early`` is true when it started the moment the call's arguments closed as JSON, before
    the stream said the call was done (``ToolCallDone``). ``arguments`` is the JSON text;
    ``parsed_arguments`` what the tool receives (keyword arguments by parameter name).
    ``round`` counts the model requests of the run from 1.

    >>> ToolStarted(call_id="call_1", name="get_weather", arguments='{"city":"Paris"}')
    ... # doctest: +ELLIPSIS
    ToolStarted(call_id='call_1', name='get_weather', arguments='{"city":"Paris"}', ...)
    """

    call_id: str
    name: str
    arguments: str
    parsed_arguments: Any = None
    early: bool = False
    index: int = 0
    choice: int = 0
    output_index: int | None = None
    round: int = 1


class ToolResult(Event, frozen=True, gc=False, kw_only=True):
    """A tool finished (or failed, timed out, or was not approved); ``output`` is the text
    sent back to the model for this call.

    ``status``: ``"ok"``; ``"error"`` (the tool raised, or its arguments did not validate:
    ``error`` says what); ``"timeout"``; ``"denied"`` (the approval hook said no).
    ``value`` is what the tool returned (``None`` unless ``"ok"``).

    >>> ToolResult(call_id="call_1", name="get_weather", output="18 °C").status
    'ok'
    """

    call_id: str
    name: str
    output: str
    status: Literal["ok", "error", "timeout", "denied"] = "ok"
    error: str | None = None
    value: Any = None
    index: int = 0
    choice: int = 0
    output_index: int | None = None
    round: int = 1


ChatEvent: TypeAlias = (
    Chunk | ContentDelta | ContentDone | RefusalDelta | RefusalDone | ToolCallDelta
    | ToolCallDone | LogprobsDelta | Usage | Done | Metrics
)
"""Everything a :class:`~oxide_rx.ChatStream` emits."""

ResponseEvent: TypeAlias = (
    responses.ResponseStreamEvent | responses.UnknownEvent
    | ContentDelta | ContentDone | RefusalDelta | RefusalDone | ReasoningDelta | ReasoningDone
    | ToolCallDelta | ToolCallDone | LogprobsDelta | Usage | Done | Metrics
)
"""Everything a :class:`~oxide_rx.ResponseStream` emits: the wire events, then helper events."""

ChatRunEvent: TypeAlias = ChatEvent | ToolStarted | ToolResult
"""Everything a chat tool run emits: each round's stream events, and its tools' events."""

ResponseRunEvent: TypeAlias = ResponseEvent | ToolStarted | ToolResult
"""Everything a Responses tool run emits: each round's stream events, and its tools' events."""
