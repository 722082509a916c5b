"""Per-item state of the Responses accumulator: what each output item's deltas built so far.

:class:`ItemState` holds one output item (by ``output_index``) and :class:`PartState` one
content part or reasoning summary part. Both keep the wire object they started from and build
an updated copy on demand (``build()``), so the snapshot is assembled lazily; text grows in
:class:`~oxide_rx._core.text.TextBuffer` so appending a delta never copies the text so far.
Resumed streams can meet a part or item only through its deltas: :meth:`ItemState.placeholder`
and :meth:`PartState.placeholder` stand in until ``*.done`` / ``output_item.done`` bring the
server's value. Used only by :mod:`oxide_rx._core.responses`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import msgspec

from oxide_rx._core.text import TextBuffer
from oxide_rx.types import responses as rt

__all__ = ["DONE_FIELDS", "STREAMED_KINDS", "ItemState", "PartState", "call_identity"]

# Items whose one string field (code, input, arguments, diff) grows by deltas: delta and done
# event type -> item type, and done event type -> the field carrying the final text.
STREAMED_KINDS: dict[type, type] = {
    rt.CodeInterpreterCallCodeDelta: rt.CodeInterpreterCall,
    rt.CodeInterpreterCallCodeDone: rt.CodeInterpreterCall,
    rt.CustomToolCallInputDelta: rt.CustomToolCall,
    rt.CustomToolCallInputDone: rt.CustomToolCall,
    rt.McpCallArgumentsDelta: rt.McpCall,
    rt.McpCallArgumentsDone: rt.McpCall,
    rt.ApplyPatchCallOperationDiffDelta: rt.ApplyPatchCall,
    rt.ApplyPatchCallOperationDiffDone: rt.ApplyPatchCall,
}
DONE_FIELDS: dict[type, str] = {
    rt.CodeInterpreterCallCodeDone: "code",
    rt.CustomToolCallInputDone: "input",
    rt.McpCallArgumentsDone: "arguments",
    rt.ApplyPatchCallOperationDiffDone: "diff",
}


def call_identity(item: object) -> tuple[str, str]:
    """``(call_id, name)`` of a function call item (empty strings while unknown)."""
    if isinstance(item, rt.FunctionCall):
        return item.call_id, item.name
    return "", ""


class PartState:
    """One content part or reasoning summary part: its text so far, annotations, logprobs."""

    __slots__ = ("annotations", "buffer", "closed", "final", "kind", "logprobs", "part")

    def __init__(self, part: Any) -> None:
        self.part = part
        self.kind: type = type(part)
        self.buffer = TextBuffer(_part_text(part))
        wire_part = part if isinstance(part, rt.OutputTextPart) else None
        self.annotations: list[Any] = list(wire_part.annotations or []) if wire_part else []
        self.logprobs: list[rt.Logprob] = list(wire_part.logprobs or []) if wire_part else []
        self.final = False  # ``part`` is the server's final value (content_part.done)
        self.closed = False  # the part's *Done* helper event was emitted

    @staticmethod
    def placeholder(kind: type) -> Any:
        if kind is rt.RefusalPart:
            return rt.RefusalPart(refusal="")
        if kind is rt.OutputTextPart:
            return rt.OutputTextPart(text="", annotations=[], logprobs=[])
        return kind(text="")

    def text(self) -> str:
        return _part_text(self.part) if self.final else self.buffer.text()

    def append(self, delta: str) -> int:
        """Append a delta; returns the buffer's new length."""
        buffer = self.buffer
        buffer.append(delta)
        return buffer.length

    def set_text(self, text: str) -> None:
        # A new buffer, not a rewrite: earlier helper events keep their own snapshots.
        self.buffer = TextBuffer(text)

    def finish(self, part: Any) -> None:
        self.part, self.kind, self.final = part, type(part), True

    def build(self) -> Any:
        part = self.part
        if self.final:
            return part
        if isinstance(part, rt.OutputTextPart):
            return msgspec.structs.replace(
                part,
                text=self.buffer.text(),
                annotations=_list_or_none(self.annotations, part.annotations),
                logprobs=_list_or_none(self.logprobs, part.logprobs),
            )
        if isinstance(part, rt.RefusalPart):
            return msgspec.structs.replace(part, refusal=self.buffer.text())
        if isinstance(part, (rt.ReasoningTextPart, rt.SummaryTextPart)):
            return msgspec.structs.replace(part, text=self.buffer.text())
        return part


class ItemState:
    """One output item: the wire item plus whatever its deltas have streamed so far."""

    __slots__ = ("buffer", "commands", "final", "item", "outputs", "parts", "summaries",
                 "tool_done")

    def __init__(self, item: Any) -> None:
        self.item = item
        self.final = False  # ``item`` is the server's final value (output_item.done)
        self.tool_done = False  # ToolCallDone was emitted
        self.buffer: TextBuffer | None = None  # arguments / input / code / diff
        self.parts: dict[int, PartState] = {}  # message content, reasoning content
        self.summaries: dict[int, PartState] = {}  # reasoning summary
        self.commands: dict[int, TextBuffer] = {}  # shell_call commands
        self.outputs: dict[int, list[Any] | dict[str, TextBuffer]] = {}  # shell_call_output

    @staticmethod
    def placeholder(kind: type, item_id: str | None) -> Any:
        return _PLACEHOLDERS[kind](item_id)

    def has_output(self) -> bool:
        """Whether any text, reasoning, arguments, code or command has arrived for it."""
        return (
            any(part.buffer.length for part in self.parts.values())
            or any(part.buffer.length for part in self.summaries.values())
            or (self.buffer is not None and self.buffer.length > 0)
            or bool(self.commands)
        )

    def stream_buffer(self) -> TextBuffer:
        if self.buffer is None:
            self.buffer = TextBuffer(_stream_text(self.item))
        return self.buffer

    def set_stream_text(self, text: str) -> None:
        self.buffer = TextBuffer(text)

    def command(self, index: int) -> TextBuffer:
        buffer = self.commands.get(index)
        if buffer is None:
            buffer = self.commands[index] = TextBuffer()
        return buffer

    def set_command(self, index: int, text: str) -> None:
        self.commands[index] = TextBuffer(text)

    def append_output(self, index: int, delta: dict[str, Any]) -> None:
        entry = self.outputs.get(index)
        if not isinstance(entry, dict):
            entry = self.outputs[index] = {}
        for stream, text in delta.items():
            if isinstance(text, str):
                entry.setdefault(stream, TextBuffer()).append(text)

    def finish(self, item: Any) -> None:
        self.item, self.final = item, True

    def build(self) -> Any:
        item = self.item
        if self.final:
            return item
        if isinstance(item, rt.Message):
            return msgspec.structs.replace(item, content=_merge(item.content, self.parts))
        if isinstance(item, rt.Reasoning):
            summary = _merge(item.summary, self.summaries)
            content = _merge(item.content or [], self.parts) if self.parts else item.content
            return msgspec.structs.replace(item, summary=summary, content=content)
        if self.buffer is not None:
            return _with_stream_text(item, self.buffer.text())
        if isinstance(item, rt.ShellCall) and self.commands:
            action = dict(item.action) if isinstance(item.action, dict) else {}
            commands = list(action.get("commands") or [])
            for index in sorted(self.commands):
                _put(commands, index, self.commands[index].text())
            return msgspec.structs.replace(item, action={**action, "commands": commands})
        if isinstance(item, rt.ShellCallOutput) and self.outputs:
            output: list[Any] = []
            for index in sorted(self.outputs):
                entry = self.outputs[index]
                if isinstance(entry, list):
                    output.extend(entry)
                else:
                    output.append({name: buffer.text() for name, buffer in entry.items()})
            return msgspec.structs.replace(item, output=output)
        return item


_PLACEHOLDERS: dict[type, Callable[[str | None], Any]] = {
    rt.Message: lambda i: rt.Message(id=i, role="assistant", status="in_progress", content=[]),
    rt.Reasoning: lambda i: rt.Reasoning(id=i, summary=[]),
    rt.FunctionCall: lambda i: rt.FunctionCall(
        id=i, call_id="", name="", arguments="", status="in_progress"),
    rt.CustomToolCall: lambda i: rt.CustomToolCall(
        id=i, call_id="", name="", input="", status="in_progress"),
    rt.CodeInterpreterCall: lambda i: rt.CodeInterpreterCall(id=i, status="in_progress", code=""),
    rt.McpCall: lambda i: rt.McpCall(id=i, arguments=""),
    rt.ApplyPatchCall: lambda i: rt.ApplyPatchCall(id=i, status="in_progress", operation={}),
    rt.ShellCall: lambda i: rt.ShellCall(id=i, status="in_progress", action={"commands": []}),
    rt.ShellCallOutput: lambda i: rt.ShellCallOutput(id=i, status="in_progress", output=[]),
}


def _part_text(part: Any) -> str:
    if isinstance(part, rt.RefusalPart):
        return part.refusal
    if isinstance(part, (rt.OutputTextPart, rt.ReasoningTextPart, rt.SummaryTextPart)):
        return part.text
    return ""


def _stream_text(item: Any) -> str:
    """The initial value of the one string field an item's deltas extend."""
    if isinstance(item, (rt.FunctionCall, rt.McpCall)):
        return item.arguments or ""
    if isinstance(item, rt.CustomToolCall):
        return item.input
    if isinstance(item, rt.CodeInterpreterCall):
        return item.code or ""
    if isinstance(item, rt.ApplyPatchCall) and isinstance(item.operation, dict):
        return str(item.operation.get("diff") or "")
    return ""


def _with_stream_text(item: Any, text: str) -> Any:
    if isinstance(item, (rt.FunctionCall, rt.McpCall)):
        return msgspec.structs.replace(item, arguments=text)
    if isinstance(item, rt.CustomToolCall):
        return msgspec.structs.replace(item, input=text)
    if isinstance(item, rt.CodeInterpreterCall):
        return msgspec.structs.replace(item, code=text)
    if isinstance(item, rt.ApplyPatchCall):
        operation = item.operation if isinstance(item.operation, dict) else {}
        return msgspec.structs.replace(item, operation={**operation, "diff": text})
    return item


def _merge(base: list[Any], parts: dict[int, PartState]) -> list[Any]:
    merged = list(base)
    for index in sorted(parts):
        _put(merged, index, parts[index].build())
    return merged


def _put(values: list[Any], index: int, value: Any) -> None:
    if index < len(values):
        values[index] = value
    else:
        values.append(value)


def _list_or_none(values: list[Any], wire: list[Any] | None) -> list[Any] | None:
    """A copy (snapshots must not share the accumulator's lists), ``None`` if never sent."""
    return list(values) if values or wire is not None else None
