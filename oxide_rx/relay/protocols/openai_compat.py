"""OpenAI-compatible streams: what the official ``openai`` packages read through ``base_url``.

Chat Completions: ``data: <chunk>`` per upstream chunk, then ``data: [DONE]``. Responses:
``event: <type>`` + ``data: <event>`` per upstream event. Each payload is the upstream's own
text when the event kept it (else re-encoded; only ``null`` keys can differ). No ``id:``
lines and no data-less events: the Python SDK's decoder fails on both (see
``shared/reference/ui-protocols.md`` §6.3); keep-alives are ``:`` comments. A generation
that does not complete ends with the error each SDK raises as ``APIError``: a
``data: {"error": ...}`` frame (chat) or an ``error`` event (Responses).
"""

from __future__ import annotations

import msgspec

from ..records import End, Record, Wire
from .base import sse_frame

__all__ = ["ChatCompletionsSSE", "ResponsesSSE"]

_encode = msgspec.json.Encoder().encode
_TERMINAL = frozenset({"response.completed", "response.failed", "response.incomplete", "error"})


def _error(end: End) -> dict[str, str | None]:
    if end.status == "failed":
        return {"message": end.message or "The generation failed.",
                "type": "relay_error", "code": end.error_type}
    return {"message": f"The generation ended early: {end.status}.",
            "type": "relay_error", "code": f"generation_{end.status}"}


class ChatCompletionsSSE:
    """``/v1/chat/completions`` with ``stream: true``."""

    content_type = "text/event-stream; charset=utf-8"

    def encode(self, entry_id: str, record: Record) -> bytes:
        if isinstance(record, Wire):
            return sse_frame(record.data) if record.type is None else b""
        if isinstance(record, End):
            if record.status == "completed":
                return b"data: [DONE]\n\n"
            return sse_frame(_encode({"error": _error(record)}))
        return b""


class ResponsesSSE:
    """``/v1/responses`` with ``stream: true``."""

    content_type = "text/event-stream; charset=utf-8"

    def __init__(self) -> None:
        self._terminal = False

    def encode(self, entry_id: str, record: Record) -> bytes:
        if isinstance(record, Wire):
            if record.type is None:
                return b""
            self._terminal = self._terminal or record.type in _TERMINAL
            return sse_frame(record.data, event=record.type)
        if isinstance(record, End) and not self._terminal:
            # The upstream sent no terminal event (stopped, cut, or a relay bound was hit).
            error = _error(record)
            event = {"type": "error", "code": error["code"], "message": error["message"],
                     "param": None}
            return sse_frame(_encode(event), event="error")
        return b""
