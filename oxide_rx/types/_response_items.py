"""Responses API wire types: output items (``Response.output[]``, ``output_item.added/done``).

One Struct per item ``type`` in the open union :data:`OutputItem` (an unknown ``type`` is an
:class:`~oxide_rx.types.responses.UnknownItem`), and :func:`dec_hook`, which fills every open
union field (items, content parts, annotations) when msgspec decodes. Import these names from
:mod:`oxide_rx.types.responses`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, TypeAlias

import msgspec

from oxide_rx.types._response_parts import (
    ANNOTATION_TYPES,
    PART_TYPES,
    UnknownAnnotation,
    UnknownItem,
    UnknownPart,
    _AnyAnnotation,
    _AnyItem,
    _AnyPart,
    _PartField,
    _Wire,
    expose_tags,
)

__all__ = [
    "ITEM_TYPES", "AdditionalTools", "ApplyPatchCall", "ApplyPatchCallOutput",
    "CodeInterpreterCall", "Compaction", "ComputerCall", "ComputerCallOutput", "CustomToolCall",
    "CustomToolCallOutput", "FileSearchCall", "FunctionCall", "FunctionCallOutput",
    "ImageGenerationCall", "LocalShellCall", "LocalShellCallOutput", "McpApprovalRequest",
    "McpApprovalResponse", "McpCall", "McpListTools", "Message", "OutputItem", "Program",
    "ProgramOutput", "Reasoning", "ShellCall", "ShellCallOutput", "ToolSearchCall",
    "ToolSearchOutput", "WebSearchCall", "dec_hook",
]


class _Item(_Wire, _AnyItem, frozen=True, tag_field="type"):
    type: ClassVar[str]


class Message(_Item, tag="message", frozen=True, kw_only=True):
    """An assistant message; its text is in ``content`` (:class:`OutputTextPart` ...)."""

    content: list[_PartField]
    id: str | None = None
    role: str | None = None
    status: str | None = None
    phase: str | None = None


class FunctionCall(_Item, tag="function_call", frozen=True, kw_only=True):
    """A call of one of your functions. Answer it with ``call_id`` (not ``id``)."""

    call_id: str
    name: str
    arguments: str
    id: str | None = None
    status: str | None = None
    namespace: str | None = None
    caller: Any = None
    async_: bool | None = msgspec.field(default=None, name="async")


class FunctionCallOutput(_Item, tag="function_call_output", frozen=True, kw_only=True):
    id: str | None = None
    call_id: str | None = None
    output: Any = None
    status: str | None = None
    name: str | None = None
    namespace: str | None = None
    caller: Any = None
    created_by: str | None = None


class Reasoning(_Item, tag="reasoning", frozen=True, kw_only=True):
    """Reasoning: ``summary`` (:class:`SummaryTextPart`), raw ``content``, encrypted state."""

    summary: list[_PartField]
    id: str | None = None
    content: list[_PartField] | None = None
    encrypted_content: str | None = None
    status: str | None = None


class FileSearchCall(_Item, tag="file_search_call", frozen=True, kw_only=True):
    id: str | None = None
    status: str | None = None
    queries: list[str] | None = None
    results: Any = None


class WebSearchCall(_Item, tag="web_search_call", frozen=True, kw_only=True):
    id: str | None = None
    status: str | None = None
    action: Any = None


class ComputerCall(_Item, tag="computer_call", frozen=True, kw_only=True):
    id: str | None = None
    call_id: str | None = None
    status: str | None = None
    action: Any = None
    actions: Any = None
    pending_safety_checks: Any = None


class ComputerCallOutput(_Item, tag="computer_call_output", frozen=True, kw_only=True):
    id: str | None = None
    call_id: str | None = None
    status: str | None = None
    output: Any = None
    acknowledged_safety_checks: Any = None
    created_by: str | None = None


class Program(_Item, tag="program", frozen=True, kw_only=True):
    id: str | None = None
    call_id: str | None = None
    code: str | None = None
    fingerprint: str | None = None


class ProgramOutput(_Item, tag="program_output", frozen=True, kw_only=True):
    id: str | None = None
    call_id: str | None = None
    result: str | None = None
    status: str | None = None


class ToolSearchCall(_Item, tag="tool_search_call", frozen=True, kw_only=True):
    id: str | None = None
    call_id: str | None = None
    status: str | None = None
    execution: str | None = None
    arguments: Any = None
    created_by: str | None = None


class ToolSearchOutput(_Item, tag="tool_search_output", frozen=True, kw_only=True):
    id: str | None = None
    call_id: str | None = None
    status: str | None = None
    execution: str | None = None
    tools: Any = None
    created_by: str | None = None


class AdditionalTools(_Item, tag="additional_tools", frozen=True, kw_only=True):
    id: str | None = None
    role: str | None = None
    tools: Any = None


class Compaction(_Item, tag="compaction", frozen=True, kw_only=True):
    id: str | None = None
    encrypted_content: str | None = None
    created_by: str | None = None


class ImageGenerationCall(_Item, tag="image_generation_call", frozen=True, kw_only=True):
    id: str | None = None
    status: str | None = None
    result: str | None = None
    action: str | None = None
    background: str | None = None
    output_format: str | None = None
    quality: str | None = None
    size: str | None = None
    revised_prompt: str | None = None
    error: Any = None
    svg_usage: Any = None


class CodeInterpreterCall(_Item, tag="code_interpreter_call", frozen=True, kw_only=True):
    id: str | None = None
    status: str | None = None
    code: str | None = None
    container_id: str | None = None
    outputs: Any = None


class LocalShellCall(_Item, tag="local_shell_call", frozen=True, kw_only=True):
    id: str | None = None
    call_id: str | None = None
    status: str | None = None
    action: Any = None


class LocalShellCallOutput(_Item, tag="local_shell_call_output", frozen=True, kw_only=True):
    id: str | None = None
    status: str | None = None
    output: str | None = None


class ShellCall(_Item, tag="shell_call", frozen=True, kw_only=True):
    """A hosted shell call; ``action["commands"]`` lists the commands."""

    id: str | None = None
    call_id: str | None = None
    status: str | None = None
    action: Any = None
    environment: Any = None
    caller: Any = None
    created_by: str | None = None


class ShellCallOutput(_Item, tag="shell_call_output", frozen=True, kw_only=True):
    id: str | None = None
    call_id: str | None = None
    status: str | None = None
    output: Any = None
    max_output_length: int | None = None
    caller: Any = None
    created_by: str | None = None


class ApplyPatchCall(_Item, tag="apply_patch_call", frozen=True, kw_only=True):
    """A patch to apply; ``operation`` is ``{"type", "path", "diff"}``."""

    id: str | None = None
    call_id: str | None = None
    status: str | None = None
    operation: Any = None
    caller: Any = None
    created_by: str | None = None


class ApplyPatchCallOutput(_Item, tag="apply_patch_call_output", frozen=True, kw_only=True):
    id: str | None = None
    call_id: str | None = None
    status: str | None = None
    output: str | None = None
    caller: Any = None
    created_by: str | None = None


class McpCall(_Item, tag="mcp_call", frozen=True, kw_only=True):
    id: str | None = None
    server_label: str | None = None
    name: str | None = None
    arguments: str | None = None
    status: str | None = None
    output: str | None = None
    error: Any = None
    approval_request_id: str | None = None


class McpListTools(_Item, tag="mcp_list_tools", frozen=True, kw_only=True):
    id: str | None = None
    server_label: str | None = None
    tools: Any = None
    error: str | None = None


class McpApprovalRequest(_Item, tag="mcp_approval_request", frozen=True, kw_only=True):
    id: str | None = None
    server_label: str | None = None
    name: str | None = None
    arguments: str | None = None


class McpApprovalResponse(_Item, tag="mcp_approval_response", frozen=True, kw_only=True):
    id: str | None = None
    approval_request_id: str | None = None
    approve: bool | None = None
    reason: str | None = None


class CustomToolCall(_Item, tag="custom_tool_call", frozen=True, kw_only=True):
    """A call of a custom (free-form input) tool; answer it with ``call_id``."""

    call_id: str
    name: str
    input: str
    id: str | None = None
    status: str | None = None
    namespace: str | None = None
    caller: Any = None
    async_: bool | None = msgspec.field(default=None, name="async")


class CustomToolCallOutput(_Item, tag="custom_tool_call_output", frozen=True, kw_only=True):
    id: str | None = None
    call_id: str | None = None
    status: str | None = None
    output: Any = None
    caller: Any = None
    created_by: str | None = None


ITEM_TYPES: tuple[type[_Item], ...] = (
    Message, FunctionCall, FunctionCallOutput, Reasoning, FileSearchCall, WebSearchCall,
    ComputerCall, ComputerCallOutput, Program, ProgramOutput, ToolSearchCall, ToolSearchOutput,
    AdditionalTools, Compaction, ImageGenerationCall, CodeInterpreterCall, LocalShellCall,
    LocalShellCallOutput, ShellCall, ShellCallOutput, ApplyPatchCall, ApplyPatchCallOutput,
    McpCall, McpListTools, McpApprovalRequest, McpApprovalResponse, CustomToolCall,
    CustomToolCallOutput,
)

OutputItem: TypeAlias = (
    Message | FunctionCall | FunctionCallOutput | Reasoning | FileSearchCall | WebSearchCall
    | ComputerCall | ComputerCallOutput | Program | ProgramOutput | ToolSearchCall
    | ToolSearchOutput | AdditionalTools | Compaction | ImageGenerationCall | CodeInterpreterCall
    | LocalShellCall | LocalShellCallOutput | ShellCall | ShellCallOutput | ApplyPatchCall
    | ApplyPatchCallOutput | McpCall | McpListTools | McpApprovalRequest | McpApprovalResponse
    | CustomToolCall | CustomToolCallOutput | UnknownItem
)
"""Any ``Response.output`` item; an unknown ``type`` is an :class:`UnknownItem`."""

if TYPE_CHECKING:
    _ItemField: TypeAlias = OutputItem
else:
    _ItemField = _AnyItem


def _known(classes: tuple[type[msgspec.Struct], ...]) -> dict[str, type[msgspec.Struct]]:
    return {str(cls.__struct_config__.tag): cls for cls in classes}


_OPEN_UNIONS: dict[type, tuple[dict[str, type[msgspec.Struct]], type[dict[str, Any]]]] = {
    _AnyItem: (_known(ITEM_TYPES), UnknownItem),
    _AnyPart: (_known(PART_TYPES), UnknownPart),
    _AnyAnnotation: (_known(ANNOTATION_TYPES), UnknownAnnotation),
}


def dec_hook(target: type, obj: Any) -> Any:
    """msgspec ``dec_hook`` that fills open-union fields (items, content parts, annotations).

    >>> msgspec.convert({"type": "function_call", "call_id": "c", "name": "f", "arguments": ""},
    ...                 _ItemField, dec_hook=dec_hook).name
    'f'
    """
    union = _OPEN_UNIONS.get(target)
    if union is None:
        raise NotImplementedError(f"oxide_rx.types.responses cannot decode {target!r}")
    known, unknown = union
    if not isinstance(obj, dict):
        raise TypeError(f"Expected `object`, got `{type(obj).__name__}`")
    tag = obj.get("type")
    if not isinstance(tag, str):
        raise TypeError("Object has no string `type`")
    cls = known.get(tag)
    if cls is None:
        return unknown(obj)
    try:
        return msgspec.convert(obj, cls, dec_hook=dec_hook)
    except msgspec.ValidationError as exc:
        raise TypeError(f"invalid `{tag}` object: {exc}") from exc


expose_tags(ITEM_TYPES)
