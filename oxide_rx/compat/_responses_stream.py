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

from collections.abc import AsyncIterator, Iterator
from typing import Any, cast

import msgspec

from openai._types import Omit
from openai.lib._parsing._responses import parse_response, parse_text
from openai.lib.streaming.responses import _events as ev
from openai.lib.streaming.responses._responses import AsyncResponseStream, ResponseStream
from openai.types.responses import ParsedResponse, ResponseOutputItem, ResponseStreamEvent

from . import _core
from ._loop import LoopThread
from ._objects import from_data, from_json
from ._streams import AsyncPuller, Opened, Pipe, ThreadPuller, is_end, raise_error_frame

__all__ = ["AsyncCompatResponseStream", "CompatResponseStream", "ResponseEvents"]

_BACKFILLED = frozenset({"response.created", "response.queued", "response.in_progress",
                         "response.failed", "response.incomplete", "response.completed"})
_WITH_ITEMS = frozenset({"response.failed", "response.incomplete"})
_SNAPSHOTS = {"response.output_text.delta": ev.ResponseTextDeltaEvent,
              "response.function_call_arguments.delta": ev.ResponseFunctionCallArgumentsDeltaEvent}


def capture(accumulator: Any) -> Any:
    """On the loop's thread: what a wire event needs from the lifecycle state at its time."""
    lifecycle = accumulator.lifecycle

    def with_state(event: Any) -> Any:
        kind = getattr(event, "type", None)
        if kind in _BACKFILLED:
            return (event, lifecycle.finished_output(), _all_output(accumulator))
        if kind == "response.output_text.done":
            item = lifecycle.items.get(getattr(event, "output_index", None))
            return (event, item.get("phase") if isinstance(item, dict) else None, None)
        return event

    return with_state


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


def _foreign(events: Any, accumulator: Any) -> Iterator[Any]:
    """Items for a raw stream that is not compat's (any iterable of official events, as
    the official helper accepts): each event goes through the core accumulator here."""
    with_state = capture(accumulator)
    for official in events:
        wire = _core.decode_response_event(official.to_json(indent=None).encode())
        helpers = accumulator.handle_event(wire)
        if helpers is not None:
            yield with_state(wire)
            yield from helpers


async def _aforeign(events: Any, accumulator: Any) -> AsyncIterator[Any]:
    async for official in events:
        for item in _foreign((official,), accumulator):
            yield item


def _accumulator() -> Any:
    accumulator = _core.compat_response_accumulator()
    _core.check_lifecycle(accumulator)
    return accumulator


class ResponseEvents:
    """Turns the core's events into the official helper events."""

    def __init__(self, text_format: Any, input_tools: Any, starting_after: int | None,
                 request: Any) -> None:
        self.request = request
        self.text_format = text_format
        self.input_tools = input_tools
        self.starting_after = starting_after
        self.completed: ParsedResponse[Any] | None = None
        self.pending: Any = None
        """A delta waiting for the core helper event that carries its snapshot."""

    def convert(self, item: Any) -> list[Any]:
        out: list[Any] = []
        if isinstance(item, (_core.ContentDelta, _core.ToolCallDelta)):
            pending, self.pending = self.pending, None
            if pending is not None:
                snapshot = item.snapshot if isinstance(item, _core.ContentDelta) \
                    else item.arguments_snapshot
                cls = _SNAPSHOTS[pending.type]
                values = {**dict(pending), **(pending.model_extra or {}), "snapshot": snapshot}
                out.append(cls.construct(**values))
            return self._after(out)
        if not isinstance(item, (tuple, *_core.WIRE_EVENT_TYPES)):
            return self._after(out)  # other core helper events: nothing official to add
        if self.pending is not None:  # a delta whose helper event never came (replay, ...)
            out.append(self.pending)
            self.pending = None
        event, extra, more = item if isinstance(item, tuple) else (item, None, None)
        raw = event.raw or b"{}"
        if b'"error"' in raw:
            raise_error_frame(raw, self.request)
        official = from_json(ResponseStreamEvent, raw)
        kind = official.type
        if kind in _SNAPSHOTS:
            self.pending = official
        elif kind == "response.output_item.added" and getattr(official, "item", None) is None:
            pass
        elif kind == "response.output_text.done":
            values = {**dict(official), **(official.model_extra or {})}
            values["parsed"] = parse_text(official.text, text_format=self.text_format,
                                          phase=extra)
            out.append(ev.ResponseTextDoneEvent.construct(**values))
        elif kind == "response.completed":
            out.append(self._completed(official, extra))
        elif kind in _BACKFILLED and getattr(official.response, "output", None) is None:
            official = official.model_copy(deep=True)
            official.response.output = _items(more if kind in _WITH_ITEMS else [])
            out.append(official)
        else:
            out.append(official)
        return self._after(out)

    def _completed(self, official: Any, finished: list[Any]) -> Any:
        response = official.response
        if getattr(response, "output", None) is None:
            # Recover finished items: deltas can omit final status, annotations, or refusals.
            response = response.model_copy()
            response.output = _items(finished)
        self.completed = parse_response(text_format=self.text_format, response=response,
                                        input_tools=self.input_tools)
        values = {**dict(official), **(official.model_extra or {}), "response": self.completed}
        return ev.ResponseCompletedEvent.construct(**values)

    def _after(self, out: list[Any]) -> list[Any]:
        after = self.starting_after
        if after is None:
            return out
        return [e for e in out if (getattr(e, "sequence_number", None) or 0) > after]

    def flush(self) -> list[Any]:
        pending, self.pending = self.pending, None
        return [] if pending is None else self._after([pending])

    def final(self) -> ParsedResponse[Any]:
        if not self.completed:
            raise RuntimeError("Didn't receive a `response.completed` event.")
        return self.completed


def _items(items: list[Any] | None) -> list[Any]:
    return [from_data(ResponseOutputItem, item) for item in items or []]


def _pipe(opened: Opened) -> Pipe:
    accumulator = cast(Any, opened.core).accumulator
    _core.check_lifecycle(accumulator)  # before the stream starts: every event is checked
    return Pipe(opened, None, capture(accumulator))


def _starting_after(value: Any) -> int | None:
    return None if value is None or isinstance(value, Omit) else int(value)


class AsyncCompatResponseStream(AsyncResponseStream[Any]):
    """The official ``AsyncResponseStream`` over the core's events."""

    def __init__(self, raw: Any, text_format: Any, input_tools: Any,  # noqa: D107
                 starting_after: Any) -> None:
        self._raw_stream = raw
        self._response = raw.response
        opened = getattr(raw, "_opened", None)
        self._events = ResponseEvents(text_format, input_tools, _starting_after(starting_after),
                                      None if opened is None else opened.request)
        self._puller = None if opened is None else AsyncPuller(_pipe(opened))
        self._iterator = self.__stream__()

    async def _items(self) -> AsyncIterator[Any]:
        puller = self._puller
        if puller is None:
            async for item in _aforeign(self._raw_stream, _accumulator()):
                yield item
            return
        while not is_end(item := await puller.next_event()):
            yield item

    async def __stream__(self) -> Any:  # type: ignore[override]
        convert = self._events.convert
        try:
            async for item in self._items():
                for event in convert(item):
                    yield event
            for event in self._events.flush():
                yield event
        finally:
            await self.close()

    async def close(self) -> None:
        if self._puller is not None:
            await self._puller.aclose()
        else:
            await self._raw_stream.response.aclose()

    async def get_final_response(self) -> ParsedResponse[Any]:
        await self.until_done()
        return self._events.final()


class CompatResponseStream(ResponseStream[Any]):
    """The official blocking ``ResponseStream`` over the core's events."""

    def __init__(self, raw: Any, text_format: Any, input_tools: Any,  # noqa: D107
                 starting_after: Any, runner: LoopThread) -> None:
        self._raw_stream = raw
        self._response = raw.response
        opened = getattr(raw, "_opened", None)
        self._events = ResponseEvents(text_format, input_tools, _starting_after(starting_after),
                                      None if opened is None else opened.request)
        self._puller = None if opened is None else ThreadPuller(_pipe(opened), runner)
        self._iterator = self.__stream__()

    def _items(self) -> Iterator[Any]:
        puller = self._puller
        if puller is None:
            yield from _foreign(self._raw_stream, _accumulator())
            return
        while not is_end(item := puller.next_event()):
            yield item

    def __stream__(self) -> Any:  # type: ignore[override]
        convert = self._events.convert
        try:
            for item in self._items():
                yield from convert(item)
            yield from self._events.flush()
        finally:
            self.close()

    def close(self) -> None:
        if self._puller is not None:
            self._puller.close()
        else:
            self._raw_stream.response.close()

    def get_final_response(self) -> ParsedResponse[Any]:
        self.until_done()
        return self._events.final()
