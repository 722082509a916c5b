"""``client.responses``: the Responses API, streamed (with background resume) and not."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from typing import Any

from .._core.responses import ResponseAccumulator
from .._core.schema import apply_text_format
from .._core.tools import prepare_tools
from .._stream.streams import ResponseStream
from .._transport.requester import Requester, RequestOptions
from .._transport.resuming import DEFAULT_MAX_RESUMES, ResumingFeed
from .._transport.sse_feed import SSEFeed
from .._transport.timeouts import Timeout
from ..types.responses import Response, decode_response
from .options import query_params, split_request_options
from .tool_runner import (
    DEFAULT_APPROVAL_TIMEOUT,
    DEFAULT_MAX_ROUNDS,
    DEFAULT_TOOL_TIMEOUT,
    Approve,
    RunPolicy,
    ToolErrorPolicy,
)
from .tool_runs import ResponseToolRun
from .websocket import ResponsesWebSocket

__all__ = ["Responses"]


class Responses:
    """``/responses``: create, stream, resume, retrieve, cancel, and the WebSocket mode."""

    def __init__(self, requester: Requester) -> None:
        self._requester = requester

    async def create_stream(
        self,
        *,
        tool_types: Mapping[str, type[Any]] | None = None,
        max_resumes: int = DEFAULT_MAX_RESUMES,
        **params: Any,
    ) -> ResponseStream:
        """Start a streamed response; returns once the response headers are in.

        With ``background=True`` the stream survives dropped connections: it reconnects with
        ``GET /responses/{id}?stream=true&starting_after=N`` (at once after a connection that
        made progress, then with backoff, at most ``max_resumes`` reconnections in a row
        without progress) and subscribers see every event once, in order. ``text_format`` may
        be a msgspec Struct or pydantic model class (``ContentDone.parsed``); ``tools`` may
        hold :func:`oxide_rx.tool` tools (their arguments parse into their types).

        >>> stream = await client.responses.create_stream(  # doctest: +SKIP
        ...     model="gpt-5.4-mini", input="Hi")
        >>> (await stream.final_response()).output_text     # doctest: +SKIP
        """
        options = split_request_options(params)
        text_format = apply_text_format(params)
        typed = {name: t.arguments_type for name, t in prepare_tools(params, "responses").items()}
        accumulator = ResponseAccumulator(text_format=text_format,
                                          tool_types={**typed, **(tool_types or {})})
        return await self.open_stream(params, options, accumulator, max_resumes=max_resumes)

    async def open_stream(
        self,
        params: dict[str, Any],
        options: RequestOptions,
        accumulator: ResponseAccumulator,
        *,
        max_resumes: int = DEFAULT_MAX_RESUMES,
    ) -> ResponseStream:
        """Send prepared parameters as a streaming request (shared with ``oxide_rx.compat``);
        a background response resumes."""
        params["stream"] = True
        started = asyncio.get_running_loop().time()
        first = await self._requester.open_sse("POST", "/responses", options, body=params)
        resumes = max_resumes if params.get("background") else 0
        return self._stream(first, accumulator, resumes, options, started_at=started)

    async def retrieve_stream(
        self,
        response_id: str,
        *,
        starting_after: int | None = None,
        max_resumes: int = DEFAULT_MAX_RESUMES,
        tool_types: Mapping[str, type[Any]] | None = None,
        **params: Any,
    ) -> ResponseStream:
        """Stream a background response from the server's log, after ``starting_after``.

        The stream starts without ``response.created`` (the snapshot starts from the first
        lifecycle event that arrives) and resumes like a background ``create_stream``.

        >>> stream = await client.responses.retrieve_stream(  # doctest: +SKIP
        ...     "resp_123", starting_after=41)
        >>> print((await stream.final_response()).status)     # doctest: +SKIP
        completed
        """
        options = split_request_options(params).with_query(query_params(params))
        return await self.open_retrieve_stream(
            response_id, options, ResponseAccumulator(tool_types=tool_types),
            starting_after=starting_after, max_resumes=max_resumes,
        )

    async def open_retrieve_stream(
        self,
        response_id: str,
        options: RequestOptions,
        accumulator: ResponseAccumulator,
        *,
        starting_after: int | None = None,
        max_resumes: int = DEFAULT_MAX_RESUMES,
    ) -> ResponseStream:
        """``GET /responses/{id}?stream=true`` with prepared options (shared with compat)."""
        started = asyncio.get_running_loop().time()
        first = await self._open_retrieve(response_id, starting_after, options)
        # Events up to ``starting_after`` count as seen: the stream can resume even before its
        # first event, and a server that replays from the start is filtered client-side.
        accumulator.last_sequence_number = starting_after
        return self._stream(first, accumulator, max_resumes, options, response_id,
                            started_at=started)

    async def _open_retrieve(
        self, response_id: str, starting_after: int | None, options: RequestOptions
    ) -> SSEFeed:
        query = {"stream": "true"}
        if starting_after is not None:
            query["starting_after"] = str(starting_after)
        return await self._requester.open_sse(
            "GET", f"/responses/{response_id}", options.with_query(query)
        )

    def _stream(
        self,
        first: SSEFeed,
        accumulator: ResponseAccumulator,
        max_resumes: int,
        options: RequestOptions,
        response_id: str | None = None,
        *,
        started_at: float,
    ) -> ResponseStream:
        async def reopen(rid: str, after: int | None) -> SSEFeed:
            return await self._open_retrieve(rid, after, options)

        feed = ResumingFeed(first, accumulator, max_resumes=max_resumes, reopen=reopen,
                            response_id=response_id)
        idle = self._requester.effective_timeout(options).idle
        return ResponseStream(feed, accumulator, idle_timeout=idle, started_at=started_at)

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
    ) -> ResponseToolRun:
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
        Later rounds send the results with ``previous_response_id`` (the whole conversation
        when ``store=False``).

        >>> run = client.responses.run_tools(                                # doctest: +SKIP
        ...     model="gpt-5.4-mini", input="Weather in Paris?", tools=[get_weather])
        >>> print((await run.final_response()).output_text)                  # doctest: +SKIP
        """
        policy = RunPolicy(max_rounds=max_rounds, tool_timeout=tool_timeout,
                           on_tool_error=on_tool_error, approve=approve,
                           approval_timeout=approval_timeout)
        return ResponseToolRun(self.create_stream, params, tools, policy)

    async def connect(
        self,
        *,
        timeout: Timeout | float | None = None,
        extra_headers: Mapping[str, str] | None = None,
    ) -> ResponsesWebSocket:
        """Open the Responses API's WebSocket mode: a persistent connection on which
        ``create_stream`` streams one response at a time, with the same events as SSE.

        >>> async with await client.responses.connect() as connection:  # doctest: +SKIP
        ...     stream = await connection.create_stream(model="gpt-5.4-mini", input="Hi")
        """
        return await ResponsesWebSocket.open(self._requester, timeout=timeout,
                                             extra_headers=extra_headers)

    async def create(self, **params: Any) -> Response:
        """A non-streaming response (``background=True`` returns it queued: poll ``retrieve``).

        >>> response = await client.responses.create(  # doctest: +SKIP
        ...     model="gpt-5.4-mini", input="Hi")
        >>> response.output_text                        # doctest: +SKIP
        """
        options = split_request_options(params)
        params.pop("stream", None)
        prepare_tools(params, "responses")
        apply_text_format(params)
        body = await self._requester.request_json("POST", "/responses", options, body=params)
        return decode_response(body)

    async def retrieve(self, response_id: str, **params: Any) -> Response:
        """``GET /responses/{id}``: the response as stored now (poll a background one).

        >>> (await client.responses.retrieve("resp_123")).status  # doctest: +SKIP
        'in_progress'
        """
        options = split_request_options(params).with_query(query_params(params))
        body = await self._requester.request_json("GET", f"/responses/{response_id}", options)
        return decode_response(body)

    async def cancel(self, response_id: str, **params: Any) -> Response:
        """Cancel a background response that is still queued or in progress.

        >>> (await client.responses.cancel("resp_123")).status  # doctest: +SKIP
        'cancelled'
        """
        options = split_request_options(params)
        body = await self._requester.request_json(
            "POST", f"/responses/{response_id}/cancel", options
        )
        return decode_response(body)
