"""Responses API wire types: the ``Response`` object, its usage and its errors.

Import these names from :mod:`oxide_rx.types.responses`.
"""

from __future__ import annotations

from typing import Any

import msgspec

from oxide_rx.types._response_items import Message, _ItemField
from oxide_rx.types._response_parts import OutputTextPart, _Wire

__all__ = [
    "IncompleteDetails", "InputTokensDetails", "OutputTokensDetails", "Response",
    "ResponseError", "ResponseUsage",
]


class ResponseError(_Wire, frozen=True, kw_only=True):
    """Why a response failed (``Response.error``)."""

    code: str | None = None
    message: str | None = None


class IncompleteDetails(_Wire, frozen=True, kw_only=True):
    reason: str | None = None


class InputTokensDetails(_Wire, frozen=True, kw_only=True):
    cached_tokens: int | None = None
    cache_write_tokens: int | None = None


class OutputTokensDetails(_Wire, frozen=True, kw_only=True):
    reasoning_tokens: int | None = None


class ResponseUsage(_Wire, frozen=True, kw_only=True):
    """Token usage of a finished response."""

    input_tokens: int | None = None
    input_tokens_details: InputTokensDetails | None = None
    output_tokens: int | None = None
    output_tokens_details: OutputTokensDetails | None = None
    total_tokens: int | None = None


class Response(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """A Responses API response (the lifecycle events' ``response``, or ``responses.create``).

    Unlike the other Structs, every declared field is re-encoded, ``null`` included, as the
    server sends them. Request echo fields (``reasoning``, ``text``, ``tools`` ...) are ``Any``.

    >>> Response(id="resp_1", output=[Message(content=[OutputTextPart(text="Hi")])]).output_text
    'Hi'
    """

    id: str = ""
    object: str = "response"
    created_at: int | float | None = None
    status: str | None = None
    error: ResponseError | None = None
    incomplete_details: IncompleteDetails | None = None
    instructions: Any = None
    model: str | None = None
    output: list[_ItemField] = []
    usage: ResponseUsage | None = None
    metadata: dict[str, Any] | None = None
    parallel_tool_calls: bool | None = None
    previous_response_id: str | None = None
    reasoning: Any = None
    service_tier: str | None = None
    temperature: int | float | None = None
    top_p: int | float | None = None
    top_logprobs: int | None = None
    frequency_penalty: int | float | None = None
    presence_penalty: int | float | None = None
    text: Any = None
    tool_choice: Any = None
    tools: Any = None
    truncation: str | None = None
    background: bool | None = None
    max_output_tokens: int | None = None
    max_tool_calls: int | None = None
    user: str | None = None
    store: bool | None = None
    completed_at: int | float | None = None
    conversation: Any = None
    prompt: Any = None
    prompt_cache_key: str | None = None
    prompt_cache_retention: str | None = None
    safety_identifier: str | None = None
    moderation: Any = None
    tool_usage: Any = None
    content_filters: Any = None
    access_programs: Any = None
    image: Any = None
    input_transformations: Any = None
    prompt_cache_diagnostics: Any = None
    prompt_cache_options: Any = None

    @property
    def output_text(self) -> str:
        """The text of every ``output_text`` part of every message item, concatenated."""
        return "".join(
            part.text
            for item in self.output
            if isinstance(item, Message)
            for part in item.content
            if isinstance(part, OutputTextPart)
        )


