"""The hand-off between payload builders (what to say) and the writer (how to send it)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import msgspec

__all__ = ["BodyPlan", "chat_frame", "event_frame"]

_encode = msgspec.json.encode


@dataclass
class BodyPlan:
    """A response body as a lazy sequence of frames plus what faults need to know about it.

    ``frames`` is pulled one frame at a time right before the frame is written, so values
    computed inside the generator (such as send-time stamps) are taken at send time.
    """

    frames: Iterable[bytes]
    """SSE frames (or a single JSON body), in order."""
    content_type: str = "text/event-stream; charset=utf-8"
    interval: float = 0.0
    """Pause before every frame but the first."""
    delta_frame: Callable[[str], bytes] | None = None
    """Builds one content-delta frame carrying the given text (for the oversized fault)."""
    json_body: Callable[[], Any] | None = None
    """The non-streaming body of the same answer (for the wrong-content-type fault)."""


def chat_frame(chunk: Any) -> bytes:
    """``data: <json>\\n\\n``, the Chat Completions framing."""
    return b"data: " + _encode(chunk) + b"\n\n"


def event_frame(event: dict[str, Any]) -> bytes:
    """``event: <type>\\ndata: <json>\\n\\n``, the Responses framing."""
    kind: str = event["type"]
    return b"event: " + kind.encode() + b"\ndata: " + _encode(event) + b"\n\n"
