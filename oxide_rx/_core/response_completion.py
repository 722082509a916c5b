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
            _parts(out, item_id, index, item.content, state.parts if state else {},
                   _MESSAGE_PARTS)
        elif isinstance(item, rt.Reasoning):
            _parts(out, item_id, index, item.summary, state.summaries if state else {},
                   _SUMMARY_PARTS)
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


# A part container: its part.added and part.done events and the key of a part's index.
_MESSAGE_PARTS = (rt.ContentPartAdded, rt.ContentPartDone, "content_index")
_SUMMARY_PARTS = (rt.ReasoningSummaryPartAdded, rt.ReasoningSummaryPartDone, "summary_index")
# A part's text: its delta and done events, and the field holding the final text.
_PART_TEXT: dict[type[Any], tuple[type[Any], type[Any], str]] = {
    rt.OutputTextPart: (rt.OutputTextDelta, rt.OutputTextDone, "text"),
    rt.RefusalPart: (rt.RefusalDelta, rt.RefusalDone, "refusal"),
    rt.SummaryTextPart: (rt.ReasoningSummaryTextDelta, rt.ReasoningSummaryTextDone, "text"),
}


def _parts(out: _Numbered, item_id: str, index: int, parts: list[Any],
           seen: Mapping[int, PartState], container: tuple[type[Any], type[Any], str]) -> None:
    """The events that finish each part not finished yet (message content or summary)."""
    added, done, index_key = container
    for part_index, part in enumerate(parts):
        state = seen.get(part_index)
        if state is not None and state.final:
            continue
        where = {"item_id": item_id, "output_index": index, index_key: part_index}
        if state is None:
            out.add(added, part=_empty(part), **where)
        text_events = _PART_TEXT.get(type(part))
        if text_events is not None and (state is None or not state.closed):
            delta, text_done, field = text_events
            final = getattr(part, field)
            missing = _rest(state.text() if state is not None else "", final)
            if missing:
                out.add(delta, delta=missing, **where)
            out.add(text_done, **{field: final}, **where)
        out.add(done, part=part, **where)


def _empty(part: Any) -> Any:
    if isinstance(part, rt.OutputTextPart):
        return rt.OutputTextPart(text="", annotations=[])
    if isinstance(part, rt.RefusalPart):
        return rt.RefusalPart(refusal="")
    if isinstance(part, (rt.SummaryTextPart, rt.ReasoningTextPart)):
        return type(part)(text="")
    return part
