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
than ``msgspec.structs.asdict`` to read every field of a lazy event.

``gc=False``: events hold only strings, numbers and wire objects, so the garbage collector
need not track them; about 0.07 µs to build, which matters when thousands of streams run.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar, Literal, TypeAlias, TypeVar

import jiter
import msgspec

from oxide_rx.types import chat, responses

__all__ = [
    "ChatEvent",
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
    "ToolCallDelta",
    "ToolCallDone",
    "Usage",
    "parse_partial_json",
]


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
    """Base of every helper event."""

    def to_dict(self) -> dict[str, Any]:
        """The event's public fields (lazy snapshots built) as a plain dict.

        >>> ContentDone(content="Hi").to_dict()
        {'content': 'Hi', 'parsed': None, 'choice': 0, 'output_index': None}
        """
        return {name: getattr(self, name) for name in _public_fields(type(self))}

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

    def __reduce__(self) -> tuple[type[Event], tuple[Any, ...]]:
        # Pickled (and copied) as the public class, with the snapshot built.
        return self._public, self._values()


def _text_so_far(self: Any) -> str:
    return self._buffer.text(self._length)  # type: ignore[no-any-return]


def _lazy(public: type[_Public], text_field: str) -> Callable[..., _Public]:
    """A private subclass of ``public`` whose ``text_field`` is read from the accumulator's
    buffer on access. Built positionally: the public fields (the text field's own slot is
    unused), then the buffer and the length at the time of the event. It carries the public
    class's name, so ``type(event).__name__`` (logs, tables keyed by name) reads as users
    expect."""
    namespace: dict[str, Any] = {
        "__annotations__": {"_buffer": "TextBuffer | None", "_length": "int"},
        "_buffer": None,
        "_length": 0,
        "_public": public,
        "_fields": _public_fields(public),
        text_field: property(_text_so_far),
    }
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

    ``arguments_snapshot`` is the argument text so far; ``parsed_arguments`` parses it as
    partial JSON on access (``None`` until something parseable has arrived). ``call_id`` is
    the id to answer the call with (chat: ``tool_calls[].id``; Responses: the item's
    ``call_id``, not the item id).

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
        return parse_partial_json(self.arguments_snapshot)



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
_LazyRefusalDelta = _lazy(RefusalDelta, "snapshot")
_LazyReasoningDelta = _lazy(ReasoningDelta, "snapshot")
_LazyToolCallDelta = _lazy(ToolCallDelta, "arguments_snapshot")

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
