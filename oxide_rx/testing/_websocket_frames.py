"""What the mock's WebSocket endpoint sends and checks, frame by frame: error events, a
warm-up's two events, recorded events as frames, ``stream_id`` stamped on a lane's frames,
and whether a continuation repeats its conversation."""

from __future__ import annotations

import re
from typing import Any

import msgspec

from ._responses import ResponseRun

__all__ = ["error_frame", "event_payloads", "input_items", "json_of", "repeats_context",
           "warmup_frames", "with_lane"]

_encode = msgspec.json.encode


def error_frame(code: str, message: str, status: int = 400, stream_id: str | None = None) -> str:
    error = {"type": "invalid_request_error", "code": code, "message": message, "param": None}
    event: dict[str, Any] = {"type": "error", "status": status, "error": error}
    if stream_id is not None:
        event["stream_id"] = stream_id
    return _encode(event).decode()


def input_items(value: Any) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, str):
        return [{"role": "user", "content": value}]
    return list(value) if isinstance(value, list) else [value]


def warmup_frames(run: ResponseRun) -> list[bytes]:
    """``created`` then ``completed`` with no output: state prepared, nothing generated."""
    created = run._event("response.created", response=run.snapshot("in_progress"))
    run.final = run.snapshot("completed", [], usage=run._usage(0))
    return [created, run._event("response.completed", response=run.final)]


def repeats_context(context: list[Any], new_items: list[Any]) -> bool:
    """The new input resends the conversation: its first item again, or a known item id."""
    if not context or not new_items:
        return False
    if new_items[0] == context[0]:
        return True
    known = {item.get("id") for item in context if isinstance(item, dict) and item.get("id")}
    return any(isinstance(item, dict) and item.get("id") in known for item in new_items)


def event_payloads(body: bytes) -> list[bytes]:
    """The data of each event of a recorded SSE body (``[DONE]`` left out)."""
    payloads = []
    for block in re.split(rb"\r\n\r\n|\n\n|\r\r", body.replace(b"\r\n", b"\n")):
        lines = [line[5:].removeprefix(b" ") for line in block.split(b"\n")
                 if line.startswith(b"data:")]
        if lines and lines != [b"[DONE]"]:
            payloads.append(b"\n".join(lines))
    return payloads


def json_of(frame: bytes) -> bytes:
    """The JSON payload of one ``event: ...\\ndata: ...\\n\\n`` frame."""
    return frame.split(b"\ndata: ", 1)[1].rstrip(b"\n")


def with_lane(payload: bytes, lane: str | None) -> str:
    if lane is None:
        return payload.decode()
    return (payload[:-1] + b',"stream_id":' + _encode(lane) + b"}").decode()
