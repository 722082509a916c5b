"""``client.responses``: the Responses API, streamed (with background resume) and not."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from typing import Any, Literal, Unpack

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
from .websocket import ResponsesWebSocket, SessionOptions

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
        # A resume: events up to ``starting_after`` count as seen (the stream can resume even
        # before its first event), and a server that replays them is filtered client-side.
        accumulator.resume_after(starting_after)
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

        async def retrieve(rid: str) -> bytes:
            # Past the server's resume window: the response whole, to complete the stream.
            return await self._requester.request_json("GET", f"/responses/{rid}", options)

        feed = ResumingFeed(first, accumulator, max_resumes=max_resumes, reopen=reopen,
                            response_id=response_id, retrieve=retrieve)
        timeout = self._requester.effective_timeout(options)
        return ResponseStream(feed, accumulator, idle_timeout=timeout.idle, started_at=started_at,
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
    ) -> ResponseToolRun:
        """Stream, run the tools the model calls, send their results, until it answers: the
        run of ``client.chat.completions.run_tools`` (the same options, events and early
        starts; see there) on the Responses API. Later rounds send the results with
        ``previous_response_id`` (the whole conversation when ``store=False``).

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
        transport: Literal["websocket", "sse"] = "websocket",
        timeout: Timeout | float | None = None,
        extra_headers: Mapping[str, str] | None = None,
        extra_query: Mapping[str, str] | None = None,
        **options: Unpack[SessionOptions],
    ) -> ResponsesWebSocket:
        """Open a session on the Responses API's WebSocket mode: responses stream one at a
        time per lane with the same events as SSE, chain by themselves, and survive drops.

        ``defaults`` are sent with every request (``model``, ``tools``, ``store`` ...).
        ``chain=False`` leaves ``previous_response_id`` to you. ``on_context_lost``: when
        the server lost the previous response, send the whole conversation (``"rebuild"``)
        or fail with :class:`~oxide_rx.ContextLostError` (``"raise"``). ``reconnect``: the
        backoff after recoverable closes (``ReconnectPolicy(max_retries=0)`` never
        reconnects); ``on_reconnect(attempt, delay, close_code)`` is called before each
        attempt (return ``False`` to stop). ``rotate_after``: seconds before a new
        connection is opened at the next response boundary (the API closes connections at
        60 minutes; ``None``: never). ``max_queue_size`` / ``max_message_size``: bytes
        waiting for a connection, bytes in one message. ``fallback="sse"`` runs the session
        over HTTP SSE when the server has no WebSocket mode (``"never"`` raises);
        ``transport="sse"`` chooses SSE from the start. ``proxy`` overrides ``HTTPS_PROXY``
        / ``HTTP_PROXY`` / ``NO_PROXY``. ``heartbeat``: seconds without a frame before a
        ping (20; no pong in half that time is a dropped connection). ``clock`` measures the
        connection's age (inject one to test rotation).

        >>> async with await client.responses.connect(                 # doctest: +SKIP
        ...         defaults={"model": "gpt-5.4-mini"}) as session:
        ...     first = await session.create_stream(input="Hi")
        ...     print((await first.final_response()).output_text)
        ...     second = await session.create_stream(input="And then?")  # chained
        """
        effective = self._requester.timeout if timeout is None else Timeout.coerce(timeout)
        requester = self._requester

        async def open_sse(params: dict[str, Any],
                           accumulator: ResponseAccumulator) -> ResponseStream:
            options = RequestOptions(effective, None, extra_headers, extra_query)
            return await self.open_stream(params, options, accumulator, max_resumes=0)

        return await ResponsesWebSocket.open(
            requester, open_sse, transport=transport, timeout=effective,
            extra_headers=extra_headers, extra_query=extra_query, **options)

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
