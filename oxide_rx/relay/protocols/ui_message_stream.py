"""The Vercel AI SDK UI message stream (``x-vercel-ai-ui-message-stream: v1``).

What ``useChat`` (AI SDK 5, 6 and 7) reads: ``data: <chunk JSON>`` frames, ``[DONE]`` last.
Only chunk types and fields that every client version accepts are sent (AI SDK 5.0.0 up to
5.0.91 rejects unknown fields, ``finish.finishReason`` among them), so the finish reason and
the token usage travel as ``messageMetadata``. The order follows the client's rules: a
``*-start`` before its deltas, every ``*-end`` before ``finish-step``, tool calls as
``dynamic`` tools (the front end did not declare them). Only choice 0 is relayed.

A generation becomes::

    start {messageId} · start-step · reasoning-start/delta/end · text-start/delta/end ·
    tool-input-start/delta/available · message-metadata {usage} · finish-step ·
    finish {messageMetadata: {finishReason}} · [DONE]

A failed generation sends ``error`` (then ``finish-step`` and ``finish``, as the SDK's own
server helper does); a stopped one sends ``abort``. ``id:`` lines carry the log ids: the SDK
ignores them, other clients can resume with ``Last-Event-ID``.
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

__all__ = ["UIMessageStream"]

_encode = msgspec.json.Encoder().encode
_decode = msgspec.json.decode

HEADERS = {
    "Cache-Control": "no-cache",
    "X-Vercel-AI-UI-Message-Stream": "v1",
    "X-Accel-Buffering": "no",
}


class UIMessageStream:
    """Stateful encoder: which text/reasoning part is open, which tool calls started."""

    content_type = "text/event-stream; charset=utf-8"
    headers = HEADERS

    def __init__(self, message_id: str) -> None:
        self.message_id = message_id
        self._text: str | None = None
        self._reasoning: str | None = None
        self._parts = 0
        self._tools: set[str] = set()
        self._finish_reason: str | None = None

    def encode(self, entry_id: str, record: Record) -> bytes:
        chunks = self._chunks(record)
        done = bool(chunks) and chunks[-1] is None  # the end: [DONE] after the last chunk
        payloads = [_encode(c) for c in chunks if c is not None]
        if not payloads:
            return b""
        # The id goes on the record's last frame only: a browser that resumes from it has
        # every frame of the record, never half of them.
        body = b"".join(sse_frame(p) for p in payloads[:-1])
        body += sse_frame(payloads[-1], id=entry_id)
        return body + b"data: [DONE]\n\n" if done else body

    # --- one record -> chunks -------------------------------------------------------------

    def _chunks(self, record: Record) -> list[dict[str, Any] | None]:
        match record:
            case Begin():
                return [{"type": "start", "messageId": self.message_id}, {"type": "start-step"}]
            case Text(delta, 0) | Refusal(delta, 0):
                out = self._close_reasoning()
                if self._text is None:
                    self._text = self._new_id("text")
                    out.append({"type": "text-start", "id": self._text})
                out.append({"type": "text-delta", "id": self._text, "delta": delta})
                return out
            case Reasoning(delta, 0):
                out = self._close_text()
                if self._reasoning is None:
                    self._reasoning = self._new_id("reasoning")
                    out.append({"type": "reasoning-start", "id": self._reasoning})
                out.append({"type": "reasoning-delta", "id": self._reasoning, "delta": delta})
                return out
            case PartDone(kind, _, 0):
                return self._close_reasoning() if kind == "reasoning" else self._close_text()
            case ToolInput(_, call_id, name, delta, 0):
                out = self._close_parts() + self._start_tool(call_id, name)
                if delta:
                    out.append({"type": "tool-input-delta", "toolCallId": call_id,
                                "inputTextDelta": delta})
                return out
            case ToolDone(_, call_id, name, arguments, 0):
                out = self._close_parts() + self._start_tool(call_id, name)
                out.append({"type": "tool-input-available", "toolCallId": call_id,
                            "toolName": name, "input": _json_or_text(arguments),
                            "dynamic": True})
                return out
            case UsageRecord(usage):
                return [{"type": "message-metadata", "messageMetadata": {"usage": usage}}]
            case Finish(finish_reason, _, 0):
                self._finish_reason = finish_reason
                return []
            case End():
                return self._end(record)
        return []

    def _end(self, end: End) -> list[dict[str, Any] | None]:
        out: list[dict[str, Any] | None] = [*self._close_parts()]
        if end.status == "completed":
            out.append({"type": "finish-step"})
            metadata = {"finishReason": self._finish_reason or "stop"}
            out.append({"type": "finish", "messageMetadata": metadata})
        elif end.status == "failed":
            message = end.message or "The generation failed."
            out.append({"type": "error", "errorText": message})
            out.append({"type": "finish-step"})
            out.append({"type": "finish", "messageMetadata": {"finishReason": "error"}})
        else:  # stopped, unwatched: the answer so far stands, marked as cut short
            out.append({"type": "finish-step"})
            out.append({"type": "abort"})
        out.append(None)
        return out

    def _new_id(self, kind: str) -> str:
        self._parts += 1
        return f"{kind}-{self._parts}"

    def _start_tool(self, call_id: str, name: str) -> list[dict[str, Any] | None]:
        if call_id in self._tools:
            return []
        self._tools.add(call_id)
        return [{"type": "tool-input-start", "toolCallId": call_id, "toolName": name,
                 "dynamic": True}]

    def _close_text(self) -> list[dict[str, Any] | None]:
        if self._text is None:
            return []
        part, self._text = self._text, None
        return [{"type": "text-end", "id": part}]

    def _close_reasoning(self) -> list[dict[str, Any] | None]:
        if self._reasoning is None:
            return []
        part, self._reasoning = self._reasoning, None
        return [{"type": "reasoning-end", "id": part}]

    def _close_parts(self) -> list[dict[str, Any] | None]:
        return self._close_reasoning() + self._close_text()


def _json_or_text(arguments: str) -> Any:
    """Tool input as JSON; arguments that are not valid JSON go as the string they are."""
    try:
        return _decode(arguments) if arguments else {}
    except msgspec.DecodeError:
        return arguments
