"""The official WebSocket server events (``ResponsesServerEvent``, openai 3.60) as compat models.

Over a WebSocket the official package builds each server message as a member of its
``ResponsesServerEvent`` union: the SSE event class under another name (``response.created``
is ``ResponseWsCreated``, a ``ResponseCreatedEvent`` plus ``stream_id``), the WebSocket
``error`` (``ResponseWsError``, the nested shape) and the three ``response.steer.*`` events.
The field lists of the SSE classes come from :mod:`._schema`; this module adds the WebSocket
names and the types that exist only here, in the same format, and builds events from them.

>>> type(server_event(b'{"type":"response.created","response":{"id":"r"},"stream_id":"a"}'))
<class 'oxide_rx.compat.types.ResponseWsCreated'>
"""

# ruff: noqa: E501  (one line per type, as in _schema.py)

from __future__ import annotations

from typing import Any

import msgspec

from ._models import construct, register_schema
from ._schema import RESPONSE_EVENTS, SCHEMA

__all__ = ["WS_EVENTS", "server_event"]

# The event type, then the official class it is built as (read from openai 3.60's
# ``types/responses/responses_server_event.py``).
WS_EVENTS = dict(line.split() for line in """\
response.audio.delta ResponseAudioWsDelta
response.audio.done ResponseAudioWsDone
response.audio.transcript.delta ResponseAudioTranscriptWsDelta
response.audio.transcript.done ResponseAudioTranscriptWsDone
response.code_interpreter_call_code.delta ResponseCodeInterpreterCallCodeWsDelta
response.code_interpreter_call_code.done ResponseCodeInterpreterCallCodeWsDone
response.code_interpreter_call.completed ResponseCodeInterpreterCallWsCompleted
response.code_interpreter_call.in_progress ResponseCodeInterpreterCallInWsProgress
response.code_interpreter_call.interpreting ResponseCodeInterpreterCallWsInterpreting
response.compaction.compacting ResponseCompactionWsCompacting
response.completed ResponseWsCompleted
response.content_part.added ResponseContentPartWsAdded
response.content_part.done ResponseContentPartWsDone
response.created ResponseWsCreated
response.file_search_call.completed ResponseFileSearchCallWsCompleted
response.file_search_call.in_progress ResponseFileSearchCallInWsProgress
response.file_search_call.searching ResponseFileSearchCallWsSearching
response.function_call_arguments.delta ResponseFunctionCallArgumentsWsDelta
response.function_call_arguments.done ResponseFunctionCallArgumentsWsDone
response.shell_call_command.added ResponseShellCallCommandWsAdded
response.shell_call_command.delta ResponseShellCallCommandWsDelta
response.shell_call_command.done ResponseShellCallCommandWsDone
response.shell_call_output_content.delta ResponseShellCallOutputContentWsDelta
response.shell_call_output_content.done ResponseShellCallOutputContentWsDone
response.in_progress ResponseInWsProgress
response.failed ResponseWsFailed
response.incomplete ResponseWsIncomplete
response.output_item.added ResponseOutputItemWsAdded
response.output_item.done ResponseOutputItemWsDone
response.reasoning_summary_part.added ResponseReasoningSummaryPartWsAdded
response.reasoning_summary_part.done ResponseReasoningSummaryPartWsDone
response.reasoning_summary_text.delta ResponseReasoningSummaryTextWsDelta
response.reasoning_summary_text.done ResponseReasoningSummaryTextWsDone
response.reasoning_text.delta ResponseReasoningTextWsDelta
response.reasoning_text.done ResponseReasoningTextWsDone
response.refusal.delta ResponseRefusalWsDelta
response.refusal.done ResponseRefusalWsDone
response.output_text.delta ResponseTextWsDelta
response.output_text.done ResponseTextWsDone
response.web_search_call.completed ResponseWebSearchCallWsCompleted
response.web_search_call.in_progress ResponseWebSearchCallInWsProgress
response.web_search_call.searching ResponseWebSearchCallWsSearching
response.image_generation_call.completed ResponseImageGenCallWsCompleted
response.image_generation_call.generating ResponseImageGenCallWsGenerating
response.image_generation_call.in_progress ResponseImageGenCallInWsProgress
response.image_generation_call.partial_image ResponseImageGenCallPartialWsImage
response.mcp_call_arguments.delta ResponseMcpCallArgumentsWsDelta
response.mcp_call_arguments.done ResponseMcpCallArgumentsWsDone
response.mcp_call.completed ResponseMcpCallWsCompleted
response.mcp_call.failed ResponseMcpCallWsFailed
response.mcp_call.in_progress ResponseMcpCallInWsProgress
response.mcp_list_tools.completed ResponseMcpListToolsWsCompleted
response.mcp_list_tools.failed ResponseMcpListToolsWsFailed
response.mcp_list_tools.in_progress ResponseMcpListToolsInWsProgress
response.output_text.annotation.added ResponseOutputTextAnnotationWsAdded
response.queued ResponseWsQueued
response.custom_tool_call_input.delta ResponseCustomToolCallInputWsDelta
response.custom_tool_call_input.done ResponseCustomToolCallInputWsDone
error ResponseWsError
response.steer.accepted ResponseSteerAcceptedEvent
response.steer.pending ResponseSteerPendingEvent
response.steer.failed ResponseSteerFailedEvent
""".splitlines())

_OWN_TYPES = """\
ResponseWsError | error:ResponseWsErrorError type sequence_number status stream_id
ResponseWsErrorError | code message param type headers misalignment:ResponseWsErrorErrorMisalignment
ResponseWsErrorErrorMisalignment | detailed_explanation error_type review_target steer:ResponseWsErrorErrorMisalignmentSteer
ResponseWsErrorErrorMisalignmentSteer | message
ResponseSteerAcceptedEvent | sequence_number steer:steer_accepted.Steer type stream_id
steer_accepted.Steer | id previous_response_id
ResponseSteerPendingEvent | reason required_input sequence_number steer:steer_pending.Steer type stream_id
steer_pending.Steer | id previous_response_id
ResponseSteerFailedEvent | error:steer_failed.Error sequence_number steer:steer_failed.Steer type stream_id
steer_failed.Error | code message type
steer_failed.Steer | input previous_response_id id
"""


def _schema() -> str:
    """Each WebSocket class: its SSE class's fields, then ``stream_id``; then the rest."""
    sse_fields = dict(line.split(" | ", 1) for line in SCHEMA.splitlines() if " | " in line)
    lines = [f"{name} | {sse_fields[RESPONSE_EVENTS[kind]]} stream_id"
             for kind, name in WS_EVENTS.items()
             if RESPONSE_EVENTS.get(kind) in sse_fields and not name.startswith("ResponseSteer")
             and kind != "error"]
    return "\n".join(lines) + "\n" + _OWN_TYPES


register_schema(_schema())

_decode = msgspec.json.decode


def server_event(data: str | bytes) -> Any:
    """One server message as the official class of its ``type``; an unknown type keeps its
    data in an ``UnknownObject`` (attributes and ``model_dump`` still work)."""
    value = _decode(data)
    key = WS_EVENTS.get(str(value.get("type"))) if isinstance(value, dict) else None
    return construct(key or "UnknownObject", value if isinstance(value, dict) else {})
