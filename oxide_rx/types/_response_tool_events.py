"""Responses API stream events of hosted tools, audio and WebSocket steering.

Code interpreter, custom tools, MCP, apply_patch, image generation, the hosted shell, web and
file search progress, audio, and the WebSocket-only ``response.steer.*`` events. The core
events are in :mod:`._response_events`. Import these names from
:mod:`oxide_rx.types.responses`.
"""

from __future__ import annotations

from typing import Any

from oxide_rx.types._response_events import _Delta, _Event, _OfItem
from oxide_rx.types._response_parts import expose_tags

__all__ = [
    "TOOL_EVENT_TYPES", "ApplyPatchCallOperationDiffDelta", "ApplyPatchCallOperationDiffDone",
    "AudioDelta", "AudioDone", "AudioTranscriptDelta", "AudioTranscriptDone",
    "CodeInterpreterCallCodeDelta", "CodeInterpreterCallCodeDone",
    "CodeInterpreterCallCompleted", "CodeInterpreterCallInProgress",
    "CodeInterpreterCallInterpreting", "CompactionCompacting", "CustomToolCallInputDelta",
    "CustomToolCallInputDone", "FileSearchCallCompleted", "FileSearchCallInProgress",
    "FileSearchCallSearching", "ImageGenerationCallCompleted", "ImageGenerationCallGenerating",
    "ImageGenerationCallInProgress", "ImageGenerationCallPartialImage", "McpCallArgumentsDelta",
    "McpCallArgumentsDone", "McpCallCompleted", "McpCallFailed", "McpCallInProgress",
    "McpListToolsCompleted", "McpListToolsFailed", "McpListToolsInProgress",
    "ShellCallCommandAdded", "ShellCallCommandDelta", "ShellCallCommandDone",
    "ShellCallOutputContentDelta", "ShellCallOutputContentDone", "SteerAccepted", "SteerFailed",
    "SteerPending", "WebSearchCallCompleted", "WebSearchCallInProgress",
    "WebSearchCallSearching",
]


class CodeInterpreterCallCodeDelta(
    _Delta, tag="response.code_interpreter_call_code.delta", frozen=True, kw_only=True
):
    pass


class CodeInterpreterCallCodeDone(
    _OfItem, tag="response.code_interpreter_call_code.done", frozen=True, kw_only=True
):
    code: str


class CustomToolCallInputDelta(
    _Delta, tag="response.custom_tool_call_input.delta", frozen=True, kw_only=True
):
    pass


class CustomToolCallInputDone(
    _OfItem, tag="response.custom_tool_call_input.done", frozen=True, kw_only=True
):
    input: str


class McpCallArgumentsDelta(
    _Delta, tag="response.mcp_call_arguments.delta", frozen=True, kw_only=True
):
    pass


class McpCallArgumentsDone(
    _OfItem, tag="response.mcp_call_arguments.done", frozen=True, kw_only=True
):
    arguments: str


class ApplyPatchCallOperationDiffDelta(
    _Delta, tag="response.apply_patch_call_operation_diff.delta", frozen=True, kw_only=True
):
    pass


class ApplyPatchCallOperationDiffDone(
    _OfItem, tag="response.apply_patch_call_operation_diff.done", frozen=True, kw_only=True
):
    diff: str


class ImageGenerationCallPartialImage(
    _OfItem, tag="response.image_generation_call.partial_image", frozen=True, kw_only=True
):
    partial_image_b64: str
    partial_image_index: int
    background: str | None = None
    output_format: str | None = None
    quality: str | None = None
    size: str | None = None


class _ShellCommand(_Event, frozen=True, kw_only=True):
    output_index: int
    command_index: int
    item_id: str | None = None


class ShellCallCommandAdded(
    _ShellCommand, tag="response.shell_call_command.added", frozen=True, kw_only=True
):
    command: str


class ShellCallCommandDelta(
    _ShellCommand, tag="response.shell_call_command.delta", frozen=True, kw_only=True
):
    delta: str
    obfuscation: str | None = None


class ShellCallCommandDone(
    _ShellCommand, tag="response.shell_call_command.done", frozen=True, kw_only=True
):
    command: str


class ShellCallOutputContentDelta(
    _OfItem, tag="response.shell_call_output_content.delta", frozen=True, kw_only=True
):
    """``delta`` is ``{"stdout": ...}`` and/or ``{"stderr": ...}``."""

    command_index: int
    delta: dict[str, Any]


class ShellCallOutputContentDone(
    _OfItem, tag="response.shell_call_output_content.done", frozen=True, kw_only=True
):
    command_index: int
    output: list[Any]


class AudioDelta(_Event, tag="response.audio.delta", frozen=True, kw_only=True):
    delta: str


class AudioDone(_Event, tag="response.audio.done", frozen=True, kw_only=True):
    pass


class AudioTranscriptDelta(
    _Event, tag="response.audio.transcript.delta", frozen=True, kw_only=True
):
    delta: str


class AudioTranscriptDone(_Event, tag="response.audio.transcript.done", frozen=True, kw_only=True):
    pass


class _Steer(_Event, frozen=True, kw_only=True):
    steer: Any = None


class SteerAccepted(_Steer, tag="response.steer.accepted", frozen=True, kw_only=True):
    """WebSocket: steering input was queued."""


class SteerPending(_Steer, tag="response.steer.pending", frozen=True, kw_only=True):
    """WebSocket: steering waits for required input."""

    reason: str | None = None
    required_input: Any = None


class SteerFailed(_Steer, tag="response.steer.failed", frozen=True, kw_only=True):
    """WebSocket: steering input was rejected."""

    error: Any = None


# Item progress events: the item at ``output_index`` changed status; no other payload.
class CodeInterpreterCallInProgress(
    _OfItem, tag="response.code_interpreter_call.in_progress", frozen=True, kw_only=True
):
    pass


class CodeInterpreterCallInterpreting(
    _OfItem, tag="response.code_interpreter_call.interpreting", frozen=True, kw_only=True
):
    pass


class CodeInterpreterCallCompleted(
    _OfItem, tag="response.code_interpreter_call.completed", frozen=True, kw_only=True
):
    pass


class FileSearchCallInProgress(
    _OfItem, tag="response.file_search_call.in_progress", frozen=True, kw_only=True
):
    pass


class FileSearchCallSearching(
    _OfItem, tag="response.file_search_call.searching", frozen=True, kw_only=True
):
    pass


class FileSearchCallCompleted(
    _OfItem, tag="response.file_search_call.completed", frozen=True, kw_only=True
):
    pass


class WebSearchCallInProgress(
    _OfItem, tag="response.web_search_call.in_progress", frozen=True, kw_only=True
):
    pass


class WebSearchCallSearching(
    _OfItem, tag="response.web_search_call.searching", frozen=True, kw_only=True
):
    pass


class WebSearchCallCompleted(
    _OfItem, tag="response.web_search_call.completed", frozen=True, kw_only=True
):
    pass


class ImageGenerationCallInProgress(
    _OfItem, tag="response.image_generation_call.in_progress", frozen=True, kw_only=True
):
    pass


class ImageGenerationCallGenerating(
    _OfItem, tag="response.image_generation_call.generating", frozen=True, kw_only=True
):
    pass


class ImageGenerationCallCompleted(
    _OfItem, tag="response.image_generation_call.completed", frozen=True, kw_only=True
):
    pass


class McpCallInProgress(_OfItem, tag="response.mcp_call.in_progress", frozen=True, kw_only=True):
    pass


class McpCallCompleted(_OfItem, tag="response.mcp_call.completed", frozen=True, kw_only=True):
    pass


class McpCallFailed(_OfItem, tag="response.mcp_call.failed", frozen=True, kw_only=True):
    pass


class McpListToolsInProgress(
    _OfItem, tag="response.mcp_list_tools.in_progress", frozen=True, kw_only=True
):
    pass


class McpListToolsCompleted(
    _OfItem, tag="response.mcp_list_tools.completed", frozen=True, kw_only=True
):
    pass


class McpListToolsFailed(_OfItem, tag="response.mcp_list_tools.failed", frozen=True, kw_only=True):
    pass


class CompactionCompacting(
    _OfItem, tag="response.compaction.compacting", frozen=True, kw_only=True
):
    pass


TOOL_EVENT_TYPES: tuple[type[_Event], ...] = (
    CodeInterpreterCallCodeDelta, CodeInterpreterCallCodeDone, CustomToolCallInputDelta,
    CustomToolCallInputDone, McpCallArgumentsDelta, McpCallArgumentsDone,
    ApplyPatchCallOperationDiffDelta, ApplyPatchCallOperationDiffDone,
    ImageGenerationCallPartialImage, ShellCallCommandAdded, ShellCallCommandDelta,
    ShellCallCommandDone, ShellCallOutputContentDelta, ShellCallOutputContentDone,
    AudioDelta, AudioDone, AudioTranscriptDelta, AudioTranscriptDone,
    SteerAccepted, SteerPending, SteerFailed,
    CodeInterpreterCallInProgress, CodeInterpreterCallInterpreting,
    CodeInterpreterCallCompleted, FileSearchCallInProgress, FileSearchCallSearching,
    FileSearchCallCompleted, WebSearchCallInProgress, WebSearchCallSearching,
    WebSearchCallCompleted, ImageGenerationCallInProgress, ImageGenerationCallGenerating,
    ImageGenerationCallCompleted, McpCallInProgress, McpCallCompleted, McpCallFailed,
    McpListToolsInProgress, McpListToolsCompleted, McpListToolsFailed, CompactionCompacting,
)
expose_tags(TOOL_EVENT_TYPES)
