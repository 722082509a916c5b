"""``client.chat.completions``: streaming and non-streaming Chat Completions."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import msgspec

from ._chat_state import ChatCompletionAccumulator
from ._client import split_request_options
from ._exceptions import DecodeError
from ._operators._parse import DONE_MARKER
from ._operators._stages import ChatAccumulateStage, DecodeStage, Sink, TapStage
from ._stream import ChatStream, Stages
from ._structured import is_schema_type, response_format_param
from ._transport.feed import SSEFeed
from ._transport.http import expect_event_stream
from .sse import ServerSentEvent, SSEDecoder
from .types.chat import COMPLETION_DECODER, ChatCompletion, ChatCompletionChunk

if TYPE_CHECKING:
    from ._client import OpenAI

__all__ = ["Chat", "ChatCompletions"]


class ChatCompletions:
    """``POST /chat/completions``."""

    def __init__(self, client: OpenAI) -> None:
        self._client = client

    async def create_stream(
        self,
        *,
        tool_types: Mapping[str, type[Any]] | None = None,
        **params: Any,
    ) -> ChatStream:
        """Start a streamed completion; returns once the response headers are in.

        ``response_format`` may be a msgspec Struct or pydantic model class: the request then
        asks for its strict JSON schema and ``ContentDone.parsed`` holds an instance.
        ``tool_types`` maps a function name to its argument type for
        ``ToolCallDone.parsed_arguments``. Per-request options: ``timeout``, ``max_retries``,
        ``extra_headers``, ``extra_query``, ``extra_body``. HTTP errors (after retries) raise
        here, before any event.

        >>> stream = await client.chat.completions.create_stream(     # doctest: +SKIP
        ...     model="gpt-4o-mini", messages=[{"role": "user", "content": "Hi"}])
        """
        options = split_request_options(params)
        response_format: type[Any] | None = params.get("response_format")
        if response_format is not None and is_schema_type(response_format):
            params["response_format"] = response_format_param(response_format)
        else:
            response_format = None
        accumulator = ChatCompletionAccumulator(
            response_format=response_format, tool_types=tool_types
        )
        return await self.open_stream(params, options, accumulator)

    async def open_stream(
        self,
        params: dict[str, Any],
        options: dict[str, Any],
        accumulator: ChatCompletionAccumulator,
        *,
        wire_tap: Callable[[ServerSentEvent], None] | None = None,
    ) -> ChatStream:
        """Send prepared parameters as a streaming request (shared with ``oxide_rx.compat``).

        ``wire_tap`` sees each server-sent event just before it is decoded.
        """
        params["stream"] = True
        client = self._client
        response, timeout = await client._send(
            "POST", "/chat/completions", body=params, stream=True, **options
        )
        await expect_event_stream(response, timeout)
        return ChatStream(
            SSEFeed(response, SSEDecoder(max_event_size=client.max_event_size)),
            accumulator,
            chat_stages(accumulator, wire_tap),
            idle_timeout=timeout.idle,
            headers=response.headers,
        )

    async def create(self, **params: Any) -> ChatCompletion:
        """A non-streaming completion.

        >>> completion = await client.chat.completions.create(       # doctest: +SKIP
        ...     model="gpt-4o-mini", messages=[{"role": "user", "content": "Hi"}])
        """
        options = split_request_options(params)
        params.pop("stream", None)
        body = await self._client._request_json("POST", "/chat/completions", body=params,
                                                **options)
        try:
            return COMPLETION_DECODER.decode(body)
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            raise DecodeError(f"Invalid chat completion JSON: {exc}", data=body) from None


def chat_stages(
    accumulator: ChatCompletionAccumulator,
    wire_tap: Callable[[ServerSentEvent], None] | None = None,
) -> Stages:
    """Server-sent events -> chunks -> helper events, accumulating into ``accumulator``.

    The same stages ``ox.ops.decode`` and ``ox.ops.accumulate_chat`` wrap, chained directly.
    """

    def build(sink: Sink) -> Sink:
        stages: Sink = DecodeStage(
            ChatCompletionChunk, DONE_MARKER, ChatAccumulateStage(accumulator, sink)
        )
        return stages if wire_tap is None else TapStage(wire_tap, stages)

    return build


class Chat:
    """``client.chat``."""

    def __init__(self, client: OpenAI) -> None:
        self.completions = ChatCompletions(client)
