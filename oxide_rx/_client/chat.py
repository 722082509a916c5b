"""``client.chat.completions``: streaming and non-streaming Chat Completions."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from typing import Any

import msgspec

from .._core.chat import ChatCompletionAccumulator
from .._core.schema import apply_response_format
from .._core.tools import prepare_tools
from .._exceptions import DecodeError
from .._stream.streams import ChatStream
from .._transport.requester import Requester, RequestOptions
from ..types.chat import COMPLETION_DECODER, ChatCompletion
from .options import split_request_options
from .tool_runner import (
    DEFAULT_APPROVAL_TIMEOUT,
    DEFAULT_MAX_ROUNDS,
    DEFAULT_TOOL_TIMEOUT,
    Approve,
    RunPolicy,
    ToolErrorPolicy,
)
from .tool_runs import ChatToolRun

__all__ = ["Chat", "ChatCompletions"]


class ChatCompletions:
    """``POST /chat/completions``."""

    def __init__(self, requester: Requester) -> None:
        self._requester = requester

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
        ``ToolCallDone.parsed_arguments``; ``tools`` may hold :func:`oxide_rx.tool` tools,
        whose arguments parse into their types by themselves. Per-request options:
        ``timeout``, ``max_retries``, ``extra_headers``, ``extra_query``, ``extra_body``. HTTP
        errors (after retries) raise here, before any event.

        >>> stream = await client.chat.completions.create_stream(     # doctest: +SKIP
        ...     model="gpt-4o-mini", messages=[{"role": "user", "content": "Hi"}])
        """
        options = split_request_options(params)
        response_format = apply_response_format(params)
        typed = {name: t.arguments_type for name, t in prepare_tools(params, "chat").items()}
        accumulator = ChatCompletionAccumulator(
            response_format=response_format, tool_types={**typed, **(tool_types or {})}
        )
        return await self.open_stream(params, options, accumulator)

    async def open_stream(
        self,
        params: dict[str, Any],
        options: RequestOptions,
        accumulator: ChatCompletionAccumulator,
    ) -> ChatStream:
        """Send prepared parameters as a streaming request (shared with ``oxide_rx.compat``)."""
        params["stream"] = True
        requester = self._requester
        started = asyncio.get_running_loop().time()
        feed = await requester.open_sse("POST", "/chat/completions", options, body=params)
        timeout = requester.effective_timeout(options)
        return ChatStream(feed, accumulator, idle_timeout=timeout.idle, started_at=started,
                          first_event_timeout=timeout.first_event)

    def run_tools(
        self,
        *,
        tools: Sequence[Any],
        max_rounds: int = DEFAULT_MAX_ROUNDS,
        tool_timeout: float | None = DEFAULT_TOOL_TIMEOUT,
        on_tool_error: ToolErrorPolicy = "report",
        approve: Approve | None = None,
        approval_timeout: float | None = DEFAULT_APPROVAL_TIMEOUT,
        **params: Any,
    ) -> ChatToolRun:
        """Stream, run the tools the model calls, send their results, until it answers.

        ``tools``: functions (made into tools with :func:`oxide_rx.tool`), :class:`~oxide_rx.Tool`
        s, and other tool entries the API runs itself (passed as they are). Each round is a
        streamed request; each tool starts the moment its call's arguments close as JSON,
        while the model streams the later calls, and the results go back in the next round,
        until the model answers without tools. ``max_rounds`` bounds the requests;
        ``tool_timeout`` (seconds) each tool call; ``on_tool_error``: ``"report"`` sends a
        tool's exception to the model as an error result, ``"raise"`` stops the run with
        :class:`~oxide_rx.ToolRunError`; ``approve(name, arguments)`` (sync or async, within
        ``approval_timeout``) may refuse a call. Other parameters are the request's, sent
        every round. Returns the run, not started: subscribe, then start it.

        >>> run = client.chat.completions.run_tools(                         # doctest: +SKIP
        ...     model="gpt-4o-mini", tools=[get_weather],
        ...     messages=[{"role": "user", "content": "Weather in Paris and Tokyo?"}])
        >>> run.on(ox.ToolStarted, print)                                    # doctest: +SKIP
        >>> completion = await run.final_completion()                        # doctest: +SKIP
        """
        policy = RunPolicy(max_rounds=max_rounds, tool_timeout=tool_timeout,
                           on_tool_error=on_tool_error, approve=approve,
                           approval_timeout=approval_timeout)
        return ChatToolRun(self.create_stream, params, tools, policy)

    async def create(self, **params: Any) -> ChatCompletion:
        """A non-streaming completion.

        >>> completion = await client.chat.completions.create(       # doctest: +SKIP
        ...     model="gpt-4o-mini", messages=[{"role": "user", "content": "Hi"}])
        """
        options = split_request_options(params)
        params.pop("stream", None)
        prepare_tools(params, "chat")
        body = await self._requester.request_json("POST", "/chat/completions", options,
                                                  body=params)
        try:
            return COMPLETION_DECODER.decode(body)
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            raise DecodeError(f"Invalid chat completion JSON: {exc}", data=body) from None


class Chat:
    """``client.chat``."""

    def __init__(self, requester: Requester) -> None:
        self.completions = ChatCompletions(requester)
