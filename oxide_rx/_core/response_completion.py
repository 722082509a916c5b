"""The wire events a cut Responses stream still misses, rebuilt from the final ``Response``.

A background response older than the server's resume window (``400 This response can no
longer be streamed because it is more than 5 minutes old``) cannot be streamed again; it
can only be retrieved whole. :func:`completion_events` compares that final response with
what the stream delivered (the accumulator's item states) and returns the events an uncut
stream would still have sent, in the server's order:

- for each item not finished yet: ``output_item.added`` if it was never seen; per content
  part (text, refusal) or reasoning summary part: ``*.part.added`` if never seen, one
  ``*.delta`` with the text still missing (so joined deltas equal the final text), the
  ``*.done`` event with the final text, ``*.part.done``; per function call the missing
  arguments and ``function_call_arguments.done``; then ``output_item.done``;
- the terminal event (``response.completed``, ``.incomplete`` or ``.failed``; a cancelled
  response ends as ``.incomplete`` with its ``cancelled`` status).

Events are numbered on from ``first_sequence``. Sans-IO: objects in, objects out; used by
:meth:`oxide_rx._core.responses.ResponseAccumulator.events_to_complete`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import msgspec

from oxide_rx._core.response_items import ItemState, PartState
from oxide_rx.types import responses as rt

__all__ = ["TERMINAL_STATUSES", "completion_events"]

TERMINAL_STATUSES = frozenset({"completed", "incomplete", "failed", "cancelled"})
"""Statuses after which a response changes no more (others: poll again)."""


class _Numbered:
    """Collects events, numbering them from ``start``."""

    def __init__(self, start: int) -> None:
        self.events: list[rt.ResponseStreamEvent] = []
        self.next = start

    def add(self, event_type: type[Any], **fields: Any) -> None:
        self.events.append(event_type(sequence_number=self.next, **fields))
        self.next += 1


def completion_events(
    items: Mapping[int, ItemState], final: rt.Response, first_sequence: int
) -> list[rt.ResponseStreamEvent]:
    """The events that take a stream from ``items`` (what it delivered) to ``final``."""
    out = _Numbered(first_sequence)
    for index, item in enumerate(final.output):
        state = items.get(index)
        if state is not None and state.final:
            continue  # its output_item.done was delivered
        if state is None:
            out.add(rt.OutputItemAdded, output_index=index, item=_started(item))
        item_id = getattr(item, "id", None) or ""
        if isinstance(item, rt.Message):
            _parts(out, item_id, index, item.content, state.parts if state else {})
        elif isinstance(item, rt.Reasoning):
            _summaries(out, item_id, index, item.summary, state.summaries if state else {})
        elif isinstance(item, rt.FunctionCall) and not (state and state.tool_done):
            so_far = state.buffer.text() if state and state.buffer else ""
            missing = _rest(so_far, item.arguments)
            if missing:
                out.add(rt.FunctionCallArgumentsDelta, item_id=item_id, output_index=index,
                        delta=missing)
            out.add(rt.FunctionCallArgumentsDone, item_id=item_id, output_index=index,
                    arguments=item.arguments, name=item.name)
        out.add(rt.OutputItemDone, output_index=index, item=item)
    out.add(_TERMINAL.get(final.status or "", rt.ResponseIncomplete), response=final)
    return out.events


_TERMINAL: dict[str, type[Any]] = {
    "completed": rt.ResponseCompleted,
    "failed": rt.ResponseFailed,
    "incomplete": rt.ResponseIncomplete,
}


def _started(item: Any) -> Any:
    """The item as ``output_item.added`` shows it: before its content or arguments."""
    if isinstance(item, rt.Message):
        return msgspec.structs.replace(item, content=[], status="in_progress")
    if isinstance(item, rt.Reasoning):
        return msgspec.structs.replace(item, summary=[])
    if isinstance(item, rt.FunctionCall):
        return msgspec.structs.replace(item, arguments="", status="in_progress")
    return item


def _rest(so_far: str, final: str) -> str:
    """What ``final`` adds to ``so_far`` (nothing if the two disagree: ``*.done`` fixes it)."""
    return final[len(so_far):] if final.startswith(so_far) else ""


def _parts(out: _Numbered, item_id: str, index: int, parts: list[Any],
           seen: Mapping[int, PartState]) -> None:
    for content_index, part in enumerate(parts):
        state = seen.get(content_index)
        if state is not None and state.final:
            continue
        where = {"item_id": item_id, "output_index": index, "content_index": content_index}
        if state is None:
            out.add(rt.ContentPartAdded, part=_empty(part), **where)
        if state is None or not state.closed:
            so_far = state.text() if state is not None else ""
            if isinstance(part, rt.OutputTextPart):
                missing = _rest(so_far, part.text)
                if missing:
                    out.add(rt.OutputTextDelta, delta=missing, **where)
                out.add(rt.OutputTextDone, text=part.text, **where)
            elif isinstance(part, rt.RefusalPart):
                missing = _rest(so_far, part.refusal)
                if missing:
                    out.add(rt.RefusalDelta, delta=missing, **where)
                out.add(rt.RefusalDone, refusal=part.refusal, **where)
        out.add(rt.ContentPartDone, part=part, **where)


def _summaries(out: _Numbered, item_id: str, index: int, parts: list[Any],
               seen: Mapping[int, PartState]) -> None:
    for summary_index, part in enumerate(parts):
        state = seen.get(summary_index)
        if state is not None and state.final:
            continue
        where = {"item_id": item_id, "output_index": index, "summary_index": summary_index}
        if state is None:
            out.add(rt.ReasoningSummaryPartAdded, part=_empty(part), **where)
        if isinstance(part, rt.SummaryTextPart) and (state is None or not state.closed):
            missing = _rest(state.text() if state is not None else "", part.text)
            if missing:
                out.add(rt.ReasoningSummaryTextDelta, delta=missing, **where)
            out.add(rt.ReasoningSummaryTextDone, text=part.text, **where)
        out.add(rt.ReasoningSummaryPartDone, part=part, **where)


def _empty(part: Any) -> Any:
    if isinstance(part, rt.OutputTextPart):
        return rt.OutputTextPart(text="", annotations=[])
    if isinstance(part, rt.RefusalPart):
        return rt.RefusalPart(refusal="")
    if isinstance(part, (rt.SummaryTextPart, rt.ReasoningTextPart)):
        return type(part)(text="")
    return part
