"""``responses.stream()``: the official helper events, over the core's.

The core :class:`~oxide_rx._core.responses.ResponseAccumulator` runs with the official
helper's lifecycle rules (``check_lifecycle=True``: its ``RuntimeError`` s, and the finished
items a null ``output`` is back-filled with) and accepts every event the official client
accepts (``lenient_events=True``). Each wire event becomes its official object (from its raw
payload); the official helper adds to three of them what the core's helper events carry:

- ``response.output_text.delta``: ``snapshot``, the part's text so far (core ``ContentDelta``);
- ``response.function_call_arguments.delta``: ``snapshot``, the arguments so far (core
  ``ToolCallDelta``);
- ``response.output_text.done``: ``parsed`` (the official ``parse_text`` rule: only a final
  answer's text is structured output);

and ``response.completed`` carries the official ``ParsedResponse``; lifecycle events with a
null ``output`` get the items the core's lifecycle check kept.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any, NamedTuple

import msgspec
from openai._types import Omit
from openai.lib._parsing._responses import parse_response, parse_text
from openai.lib.streaming.responses import _events as ev
from openai.lib.streaming.responses._responses import AsyncResponseStream, ResponseStream
from openai.types.responses import (
    ParsedResponse,
    ResponseFunctionCallArgumentsDeltaEvent,
    ResponseOutputItem,
    ResponseStreamEvent,
    ResponseTextDeltaEvent,
)

import oxide_rx as ox

from . import _core
from ._objects import from_data, make, make_whole, parser
from ._streams import AsyncStream, Direct, Pipe, Stream, raise_error_frame

__all__ = ["AsyncCompatResponseStream", "CompatResponseStream", "ResponseEvents"]

_WIRE = frozenset(_core.WIRE_EVENT_TYPES)
_BACKFILLED = frozenset({"response.created", "response.queued", "response.in_progress",
                         "response.failed", "response.incomplete", "response.completed"})
_WITH_ITEMS = frozenset({"response.failed", "response.incomplete"})
_DELTA_CLASSES = {"response.output_text.delta": ResponseTextDeltaEvent,
                  "response.function_call_arguments.delta": ResponseFunctionCallArgumentsDeltaEvent}
_SNAPSHOTS = frozenset(_DELTA_CLASSES)
# The official helper's events, each built from these fields of its wire event only (and how
# many fields of its own the helper adds).
_HELPER_EVENTS: dict[str, tuple[type[Any], frozenset[str], int]] = {
    kind: (cls, frozenset(names.split()), len(cls.model_fields) - len(names.split()))
    for kind, cls, names in (
        ("response.output_text.delta", ev.ResponseTextDeltaEvent,
         "content_index delta item_id output_index sequence_number logprobs type"),
        ("response.function_call_arguments.delta", ev.ResponseFunctionCallArgumentsDeltaEvent,
         "delta item_id output_index sequence_number type"),
        ("response.output_text.done", ev.ResponseTextDoneEvent,
         "content_index item_id output_index sequence_number logprobs type text"),
        ("response.completed", ev.ResponseCompletedEvent, "sequence_number type"),
    )
}


class Capture:
    """On the loop's thread: what each core event needs from the accumulator at its time,
    queued for the consumer (``None``: nothing for it).

    A wire delta is paired with the core helper event that follows it (the core handles an
    event before emitting it), so a delta crosses to the consumer once, with its snapshot. The
    snapshot text is not taken here per delta (a consumer behind by thousands of deltas would
    hold a copy of the text for each) nor read by the consumer from the core's buffer (that
    buffer is the loop thread's): while a buffer only grows by each delta, the consumer
    extends its last snapshot of it; otherwise (first delta, a replaced or otherwise grown
    buffer) the text travels whole.
    """

    def __init__(self, accumulator: Any) -> None:
        self.accumulator, self.lifecycle = accumulator, accumulator.lifecycle
        self.stashed: Any = None
        """A wire delta waiting for its core helper event."""
        self.seen: dict[Any, tuple[int, int]] = {}  # text buffer -> (its number, last length)

    def __call__(self, event: Any) -> Any:
        stashed = self.stashed
        if isinstance(event, (ox.ContentDelta, ox.ToolCallDelta)):
            if stashed is None:
                return None
            self.stashed = None
            return _Paired(stashed, *self._snapshot(event))
        if type(event) not in _WIRE:
            return None  # other core helper events: nothing official to add
        kind = event.type
        if kind in _SNAPSHOTS:
            self.stashed = event
            return stashed  # one the core did not take (it did not match) goes as it came
        self.stashed = None
        item = self._with_state(event, kind)
        return item if stashed is None else _Both(stashed, item)

    def _with_state(self, event: Any, kind: str) -> Any:
        lifecycle = self.lifecycle
        if kind in _BACKFILLED:
            return (event, lifecycle.finished_output(), _all_output(self.accumulator))
        if kind == "response.output_text.done":
            item = lifecycle.items.get(getattr(event, "output_index", None))
            return (event, item.get("phase") if isinstance(item, dict) else None, None)
        return event

    def _snapshot(self, helper: Any) -> tuple[int, str, str | None]:
        """(the buffer's number, the delta, the whole text or ``None`` to extend the last)."""
        delta = helper.delta if isinstance(helper, ox.ContentDelta) else helper.arguments_delta
        buffer, length = _core.text_of(helper)
        if buffer is None:  # an event that holds its snapshot itself
            return -1, delta, helper.snapshot if isinstance(helper, ox.ContentDelta) \
                else helper.arguments_snapshot
        number, last = self.seen.get(buffer, (len(self.seen), -1))
        self.seen[buffer] = (number, length)
        return number, delta, None if last + len(delta) == length else buffer.text(length)

    def flush(self) -> Any:
        """After the last event: a wire delta still waiting (``None`` if none)."""
        stashed, self.stashed = self.stashed, None
        return stashed


class _Paired(NamedTuple):
    wire: Any
    buffer: int
    delta: str
    text: str | None


class _Both(NamedTuple):
    first: Any
    then: Any


def _all_output(accumulator: Any) -> list[Any]:
    """A failed response's output: finished items, else the items as accumulated so far."""
    lifecycle = accumulator.lifecycle
    out = []
    for index in sorted(lifecycle.items.keys() | lifecycle.completed.keys()):
        if index in lifecycle.completed:
            out.append(lifecycle.completed[index])
        else:
            item = accumulator.output_item(index)
            out.append(lifecycle.items[index] if item is None else msgspec.to_builtins(item))
    return out


def _foreign(raw: Any, events: ResponseEvents) -> Iterator[Any]:
    """The official helper events over a raw stream that is not compat's (any iterable of
    official events, as the official helper accepts): each goes through a core accumulator
    here."""
    through = _through(events)
    for official in raw:
        yield from through(official)
    yield from events.flush()


async def _aforeign(raw: Any, events: ResponseEvents) -> AsyncIterator[Any]:
    through = _through(events)
    async for official in raw:
        for out in through(official):
            yield out
    for out in events.flush():
        yield out


def _through(events: ResponseEvents) -> Callable[[Any], list[Any]]:
    accumulator = _core.lenient_accumulator()
    capture = events.capture = Capture(accumulator)

    def through(official: Any) -> list[Any]:
        wire = _core.decode_response_event(official.to_json(indent=None).encode())
        helpers = accumulator.handle_event(wire)
        if helpers is None:
            return []
        return [out for event in (wire, *helpers) if (item := capture(event)) is not None
                for out in events.convert(item)]

    return through


class ResponseEvents:
    """Turns the core's events into the official helper events."""

    def __init__(self, text_format: Any, input_tools: Any, starting_after: int | None,
                 request: Any) -> None:
        self.request, self.text_format, self.input_tools = request, text_format, input_tools
        self.starting_after = starting_after
        self.parse = parser(ResponseStreamEvent)
        # A delta's class is known (the core decoded its type): validating against it skips
        # the union's discriminator lookup, a quarter of the cost. What does not validate is
        # read as the union reads it (the official client tries a lax validation first).
        self.delta_parsers = {kind: parser(cls, self.parse)
                              for kind, cls in _DELTA_CLASSES.items()}
        self.completed: ParsedResponse[Any] | None = None
        self.capture: Capture | None = None
        self.texts: dict[int, str] = {}
        """The last snapshot of each core text buffer (numbered by :class:`Capture`)."""

    def convert(self, item: Any) -> list[Any]:
        """On the consumer's thread: the official events for one item of :class:`Capture`."""
        if type(item) is _Paired:
            text = item.text
            if text is None:
                text = self.texts[item.buffer] + item.delta
            if item.buffer >= 0:
                self.texts[item.buffer] = text
            wire = item.wire
            helper = _helper_delta(wire, text)
            if helper is None:
                official = self._official(wire, self.delta_parsers[wire.type])
                helper = _rebuild(official, snapshot=text)
            return self._after([helper])
        if type(item) is _Both:
            return self.convert(item.first) + self.convert(item.then)
        event, extra, more = item if type(item) is tuple else (item, None, None)
        official = self._official(event, self.parse)
        kind = official.type
        out: list[Any] = []
        if kind == "response.output_item.added" and getattr(official, "item", None) is None:
            pass  # the official helper drops it
        elif kind == "response.output_text.done":
            parsed = parse_text(official.text, text_format=self.text_format, phase=extra)
            out.append(_rebuild(official, parsed=parsed))
        elif kind == "response.completed":
            response = official.response
            if getattr(response, "output", None) is None:
                # Recover finished items: deltas can omit final status, annotations, refusals.
                response = response.model_copy()
                response.output = _items(extra)
            self.completed = parse_response(text_format=self.text_format, response=response,
                                            input_tools=self.input_tools)
            out.append(_rebuild(official, response=self.completed))
        elif kind in _BACKFILLED and getattr(official.response, "output", None) is None:
            official = official.model_copy(deep=True)
            official.response.output = _items(more if kind in _WITH_ITEMS else [])
            out.append(official)
        else:
            out.append(official)
        return self._after(out)

    def _official(self, event: Any, parse: Callable[[bytes], Any]) -> Any:
        raw = event.raw or b"{}"
        if b'"error"' in raw:
            raise_error_frame(raw, self.request)
        return parse(raw)

    def _after(self, out: list[Any]) -> list[Any]:
        after = self.starting_after
        if after is None:
            return out
        return [e for e in out if (getattr(e, "sequence_number", None) or 0) > after]

    def flush(self) -> list[Any]:
        """After the last event: a delta the core never paired, as it came."""
        stashed = None if self.capture is None else self.capture.flush()
        return [] if stashed is None else self.convert(stashed)

    def final(self) -> ParsedResponse[Any]:
        if not self.completed:
            raise RuntimeError("Didn't receive a `response.completed` event.")
        return self.completed


def _helper_delta(wire: Any, snapshot: str) -> Any:
    """The official helper's delta event built from the core's decoded wire event, when that
    decode proves what the official validation would give: the core decoded the delta's own
    class (every field present and well-typed), with the fields the official class requires
    and the core's leaves optional present too, and no ``error`` key to raise for (a delta
    the core's lenient decode kept despite bad fields has no ``sequence_number``, so it never
    comes this way). ``None``: the official validation must decide."""
    raw = wire.raw
    if wire.sequence_number is None or raw is None or b'"error"' in raw:
        return None
    if type(wire) is _core.TEXT_DELTA:
        if wire.logprobs != []:  # missing, null, or tokens to build as official objects
            return None
        return make_whole(ev.ResponseTextDeltaEvent, {
            "content_index": wire.content_index, "delta": wire.delta, "item_id": wire.item_id,
            "logprobs": [], "output_index": wire.output_index,
            "sequence_number": wire.sequence_number, "type": wire.type, "snapshot": snapshot})
    if type(wire) is _core.ARGUMENTS_DELTA:
        return make_whole(ev.ResponseFunctionCallArgumentsDeltaEvent, {
            "delta": wire.delta, "item_id": wire.item_id, "output_index": wire.output_index,
            "sequence_number": wire.sequence_number, "type": wire.type, "snapshot": snapshot})
    return None


def _rebuild(official: Any, **more: Any) -> Any:
    """The official helper's event for ``official``: built from these fields only, as the
    official helper builds it (unknown keys are not carried over)."""
    cls, names, added = _HELPER_EVENTS[official.type]
    fields = official.__dict__
    if len(more) == added and fields.keys() == names:
        return make_whole(cls, {**fields, **more})  # validated: it has exactly these
    return make(cls, **{name: fields.get(name) for name in names}, **more)


def _items(items: list[Any] | None) -> list[Any]:
    return [from_data(ResponseOutputItem, item) for item in items or []]


def _setup(raw: Any, text_format: Any, input_tools: Any,
           starting_after: Any) -> tuple[ResponseEvents, Pipe | None]:
    """A helper stream's events, and its source: compat's core stream (``None``: a raw stream
    that is not compat's, whose official events go through a core accumulator here)."""
    opened = getattr(raw, "_opened", None)
    after = None if starting_after is None or isinstance(starting_after, Omit) \
        else int(starting_after)
    events = ResponseEvents(text_format, input_tools, after,
                            None if opened is None else opened.request)
    if opened is None:
        return events, None
    accumulator = _core.accumulate_responses(opened.core)  # before the stream starts
    events.capture = Capture(accumulator)
    return events, Pipe(opened, None, events.convert, events.capture, events.flush)


class AsyncCompatResponseStream(Direct, AsyncResponseStream[Any]):
    """The official ``AsyncResponseStream`` over the core's events."""

    def __init__(self, raw: Any, text_format: Any, input_tools: Any,
                 starting_after: Any) -> None:
        self._raw_stream, self._response = raw, raw.response
        self._events, pipe = _setup(raw, text_format, input_tools, starting_after)
        self._iterator = _aforeign(raw, self._events) if pipe is None else pipe.aitems()

    async def close(self) -> None:
        if isinstance(self._raw_stream, AsyncStream):
            await self._raw_stream.close()
        else:
            await self._response.aclose()

    async def get_final_response(self) -> ParsedResponse[Any]:
        await self.until_done()
        return self._events.final()


class CompatResponseStream(Direct, ResponseStream[Any]):
    """The official blocking ``ResponseStream`` over the core's events."""

    def __init__(self, raw: Any, text_format: Any, input_tools: Any,
                 starting_after: Any) -> None:
        self._raw_stream, self._response = raw, raw.response
        self._events, pipe = _setup(raw, text_format, input_tools, starting_after)
        self._iterator = _foreign(raw, self._events) if pipe is None else pipe.items()

    def close(self) -> None:
        if isinstance(self._raw_stream, Stream):
            self._raw_stream.close()
        else:
            self._response.close()

    def get_final_response(self) -> ParsedResponse[Any]:
        self.until_done()
        return self._events.final()
