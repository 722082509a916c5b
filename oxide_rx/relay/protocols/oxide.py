"""oxide_rx's own SSE: one event per helper event, named after its class, with an ``id:``.

``event: ContentDelta`` / ``ReasoningDelta`` / ``RefusalDelta`` (``{"delta", "choice"}``),
``ContentDone`` / ``ReasoningDone`` / ``RefusalDone``, ``ToolCallDelta``
(``{"index", "call_id", "name", "arguments_delta", "choice"}``), ``ToolCallDone``
(``... "arguments"``), ``Usage`` (``{"usage"}``), ``Done`` (``{"finish_reason", "reason",
"choice"}``), plus the relay's own ``generation`` first (``{"api", "model", "created",
"prompt"}``) and ``end`` last (``{"status", "error_type", "message", "elapsed",
"output_tokens_per_second"}``). Snapshots are not sent (each would cost the text so far):
a viewer concatenates deltas. ``id:`` is the log id, so a browser's ``EventSource``
reconnects with ``Last-Event-ID`` and gets each event once.
"""

from __future__ import annotations

from typing import Any

import msgspec

from ..records import (
    Begin,
    End,
    Finish,
    PartDone,
    Reasoning,
    Record,
    Refusal,
    Text,
    ToolDone,
    ToolInput,
    UsageRecord,
)
from .base import sse_frame

__all__ = ["OxideSSE"]

_encode = msgspec.json.Encoder().encode
_DONE_EVENTS = {"text": ("ContentDone", "content"), "reasoning": ("ReasoningDone", "text"),
                "refusal": ("RefusalDone", "refusal")}


class OxideSSE:
    """Encoder of oxide_rx's typed SSE (stateless: each record maps to one frame)."""

    content_type = "text/event-stream; charset=utf-8"

    def encode(self, entry_id: str, record: Record) -> bytes:
        name, data = _event(record)
        if name is None:
            return b""
        return sse_frame(_encode(data), event=name, id=entry_id)


def _event(record: Record) -> tuple[str | None, dict[str, Any]]:
    match record:
        case Text(delta, choice):
            return "ContentDelta", {"delta": delta, "choice": choice}
        case Reasoning(delta, choice):
            return "ReasoningDelta", {"delta": delta, "choice": choice}
        case Refusal(delta, choice):
            return "RefusalDelta", {"delta": delta, "choice": choice}
        case ToolInput(index, call_id, name, delta, choice):
            return "ToolCallDelta", {"index": index, "call_id": call_id, "name": name,
                                     "arguments_delta": delta, "choice": choice}
        case ToolDone(index, call_id, name, arguments, choice):
            return "ToolCallDone", {"index": index, "call_id": call_id, "name": name,
                                    "arguments": arguments, "choice": choice}
        case PartDone(kind, text, choice):
            event, field = _DONE_EVENTS.get(kind, ("ContentDone", "content"))
            return event, {field: text, "choice": choice}
        case UsageRecord(usage):
            return "Usage", {"usage": usage}
        case Finish(finish_reason, reason, choice):
            return "Done", {"finish_reason": finish_reason, "reason": reason, "choice": choice}
        case Begin(api, model, created, prompt, _):
            return "generation", {"api": api, "model": model, "created": created,
                                  "prompt": prompt}
        case End():
            return "end", msgspec.structs.asdict(record)
    return None, {}
