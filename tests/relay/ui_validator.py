"""The AI SDK front end's reading of a UI message stream, in Python, at its strictest.

``read_ui_stream(body)`` does what ``DefaultChatTransport`` + ``processUIMessageStream`` do
(``shared/reference/ui-protocols.md`` §1.2 to 1.5): split the body into server-sent events, skip
``[DONE]``, JSON-parse every other ``data``, validate each chunk against the chunk schema of
AI SDK 5.0.0 (strict objects: an unknown field or chunk type is an error, as in every client
from 5.0.0 to 5.0.91), apply the ordering rules, and build the assistant message. Any
violation raises ``UIStreamError`` naming the frame.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from oxide_rx.sse import SSEDecoder

_PART = ({"id"}, {"providerMetadata"})
_DELTA = ({"id", "delta"}, {"providerMetadata"})
# type -> (required fields, optional fields), AI SDK 5.0.0's uiMessageChunkSchema.
SCHEMA: dict[str, tuple[set[str], set[str]]] = {
    "start": (set(), {"messageId", "messageMetadata"}),
    "start-step": (set(), set()),
    "finish-step": (set(), set()),
    "text-start": _PART, "text-delta": _DELTA, "text-end": _PART,
    "reasoning-start": _PART, "reasoning-delta": _DELTA, "reasoning-end": _PART,
    "tool-input-start": ({"toolCallId", "toolName"}, {"providerExecuted", "dynamic"}),
    "tool-input-delta": ({"toolCallId", "inputTextDelta"}, set()),
    "tool-input-available": ({"toolCallId", "toolName", "input"},
                             {"providerExecuted", "providerMetadata", "dynamic"}),
    "tool-output-available": ({"toolCallId", "output"}, {"providerExecuted", "dynamic"}),
    "tool-output-error": ({"toolCallId", "errorText"}, {"providerExecuted", "dynamic"}),
    "message-metadata": ({"messageMetadata"}, set()),
    "finish": (set(), {"messageMetadata"}),
    "abort": (set(), set()),
    "error": ({"errorText"}, set()),
}
_STRINGS = {"id", "delta", "toolCallId", "toolName", "inputTextDelta", "errorText", "messageId"}


class UIStreamError(AssertionError):
    """The stream breaks a rule the AI SDK client enforces."""


@dataclass
class UIMessage:
    """The assistant message a ``useChat`` front end ends up with."""

    id: str | None = None
    parts: list[dict[str, Any]] = field(default_factory=list)
    metadata: dict[str, Any] = field(default_factory=dict)
    chunks: list[dict[str, Any]] = field(default_factory=list)
    done_marker: bool = False

    @property
    def text(self) -> str:
        return "".join(p["text"] for p in self.parts if p["type"] == "text")

    @property
    def reasoning(self) -> str:
        return "".join(p["text"] for p in self.parts if p["type"] == "reasoning")

    @property
    def tools(self) -> list[dict[str, Any]]:
        return [p for p in self.parts if p["type"] == "dynamic-tool"]


def _check_schema(chunk: Any, where: str) -> str:
    if not isinstance(chunk, dict) or not isinstance(chunk.get("type"), str):
        raise UIStreamError(f"{where}: not a chunk object: {chunk!r}")
    kind = chunk["type"]
    if kind not in SCHEMA:
        raise UIStreamError(f"{where}: unknown chunk type {kind!r}")
    required, optional = SCHEMA[kind]
    keys = set(chunk) - {"type"}
    if missing := required - keys:
        raise UIStreamError(f"{where}: {kind} lacks {sorted(missing)}")
    if extra := keys - required - optional:
        raise UIStreamError(f"{where}: {kind} has fields a 5.0 client rejects: {sorted(extra)}")
    for name in keys & _STRINGS:
        if not isinstance(chunk[name], str):
            raise UIStreamError(f"{where}: {kind}.{name} must be a string")
    if "dynamic" in chunk and not isinstance(chunk["dynamic"], bool):
        raise UIStreamError(f"{where}: {kind}.dynamic must be a boolean")
    return kind


def read_ui_stream(body: bytes) -> UIMessage:
    """Validate a whole UI message stream body and build its message."""
    decoder = SSEDecoder()
    events = decoder.feed(body) + decoder.finish()
    message = UIMessage()
    open_text: dict[str, dict[str, Any]] = {}
    open_reasoning: dict[str, dict[str, Any]] = {}
    tools: dict[str, dict[str, Any]] = {}
    errored = False
    for n, event in enumerate(events):
        where = f"frame {n}"
        if message.done_marker:
            raise UIStreamError(f"{where}: data after [DONE]")
        if event.data == "[DONE]":
            message.done_marker = True
            continue
        try:
            chunk = json.loads(event.data)
        except json.JSONDecodeError as exc:
            raise UIStreamError(f"{where}: data is not JSON: {event.data!r}") from exc
        kind = _check_schema(chunk, where)
        message.chunks.append(chunk)
        if not message.chunks[:-1] and kind != "start":
            raise UIStreamError(f"{where}: the first chunk must be start, not {kind}")
        if errored and kind not in ("finish-step", "finish"):
            raise UIStreamError(f"{where}: {kind} after error")
        match kind:
            case "start":
                message.id = chunk.get("messageId")
                message.metadata.update(chunk.get("messageMetadata") or {})
            case "start-step":
                message.parts.append({"type": "step-start"})
            case "text-start" | "reasoning-start":
                opened = open_text if kind == "text-start" else open_reasoning
                part = {"type": kind.split("-")[0], "text": ""}
                opened[chunk["id"]] = part
                message.parts.append(part)
            case "text-delta" | "reasoning-delta" | "text-end" | "reasoning-end":
                opened = open_text if kind.startswith("text") else open_reasoning
                if chunk["id"] not in opened:
                    raise UIStreamError(f"{where}: {kind} without an open "
                                        f"{kind.split('-')[0]}-start {chunk['id']!r}")
                if kind.endswith("delta"):
                    opened[chunk["id"]]["text"] += chunk["delta"]
                else:
                    del opened[chunk["id"]]
            case "tool-input-start":
                if chunk["toolCallId"] in tools:
                    raise UIStreamError(f"{where}: a second tool-input-start for one call")
                tools[chunk["toolCallId"]] = part = {
                    "type": "dynamic-tool", "toolCallId": chunk["toolCallId"],
                    "toolName": chunk["toolName"], "state": "input-streaming", "text": "",
                }
                message.parts.append(part)
            case "tool-input-delta":
                if chunk["toolCallId"] not in tools:
                    raise UIStreamError(f"{where}: tool-input-delta before tool-input-start")
                tools[chunk["toolCallId"]]["text"] += chunk["inputTextDelta"]
            case "tool-input-available":
                part = tools.setdefault(chunk["toolCallId"], {
                    "type": "dynamic-tool", "toolCallId": chunk["toolCallId"],
                    "toolName": chunk["toolName"], "text": "",
                })
                if part not in message.parts:
                    message.parts.append(part)
                part.update(state="input-available", input=chunk["input"])
            case "finish-step":
                if open_text or open_reasoning:
                    raise UIStreamError(f"{where}: finish-step while parts are open "
                                        "(AI SDK 5.0 drops them: a later *-end throws)")
            case "message-metadata" | "finish":
                message.metadata.update(chunk.get("messageMetadata") or {})
            case "error":
                errored = True
                message.metadata["errorText"] = chunk["errorText"]
    return message
