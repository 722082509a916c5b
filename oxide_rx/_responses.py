"""``client.responses``: the Responses API, streamed (with background resume) and not."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any

from ._client import split_request_options
from ._exceptions import APIConnectionError
from ._operators._stages import DecodeStage, ResponsesAccumulateStage, Sink, TapStage
from ._responses_state import ResponseAccumulator
from ._stream import ResponseStream, Stages
from ._structured import is_schema_type, text_format_param
from ._transport.feed import SSEFeed
from ._transport.http import Timeout, backoff_delay, expect_event_stream
from .sse import ServerSentEvent, SSEDecoder
from .types.responses import Response, ResponseStreamEvent, decode_response

if TYPE_CHECKING:
    import aiohttp

    from ._client import OpenAI
    from ._websocket import ResponsesWebSocket

__all__ = ["Responses", "ResumingFeed"]

log = logging.getLogger("oxide_rx")

DEFAULT_MAX_RESUMES = 5


class Responses:
    """``/responses``: create, stream, resume, retrieve, cancel."""

    def __init__(self, client: OpenAI) -> None:
        self._client = client

    async def create_stream(
        self,
        *,
        tool_types: Mapping[str, type[Any]] | None = None,
        max_resumes: int = DEFAULT_MAX_RESUMES,
        **params: Any,
    ) -> ResponseStream:
        """Start a streamed response; returns once the response headers are in.

        With ``background=True`` the stream survives dropped connections: it reconnects with
        ``GET /responses/{id}?stream=true&starting_after=N`` (see :class:`ResumingFeed`: at
        once after a connection that made progress, then with backoff, at most
        ``max_resumes`` reconnections in a row without progress) and subscribers see every
        event once, in order. ``text_format`` may be a msgspec Struct or pydantic model class
        (``ContentDone.parsed``).

        >>> stream = await client.responses.create_stream(  # doctest: +SKIP
        ...     model="gpt-5.4-mini", input="Hi")
        >>> (await stream.final_response()).output_text     # doctest: +SKIP
        """
        options = split_request_options(params)
        text_format = _apply_text_format(params)
        accumulator = ResponseAccumulator(text_format=text_format, tool_types=tool_types)
        return await self.open_stream(params, options, accumulator, max_resumes=max_resumes)

    async def open_stream(
        self,
        params: dict[str, Any],
        options: dict[str, Any],
        accumulator: ResponseAccumulator,
        *,
        max_resumes: int = DEFAULT_MAX_RESUMES,
        wire_tap: Callable[[ServerSentEvent], None] | None = None,
    ) -> ResponseStream:
        """Send prepared parameters as a streaming request (shared with ``oxide_rx.compat``);
        a background response resumes. ``wire_tap`` sees each server-sent event first."""
        params["stream"] = True
        response, timeout = await self._client._send(
            "POST", "/responses", body=params, stream=True, **options
        )
        await expect_event_stream(response, timeout)
        resumes = max_resumes if params.get("background") else 0
        return self._stream(response, timeout, accumulator, resumes, options, wire_tap=wire_tap)

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
        options = split_request_options(params)
        options["query"] = {**(options["query"] or {}), **_query(params)}
        return await self.open_retrieve_stream(
            response_id, options, ResponseAccumulator(tool_types=tool_types),
            starting_after=starting_after, max_resumes=max_resumes,
        )

    async def open_retrieve_stream(
        self,
        response_id: str,
        options: dict[str, Any],
        accumulator: ResponseAccumulator,
        *,
        starting_after: int | None = None,
        max_resumes: int = DEFAULT_MAX_RESUMES,
        wire_tap: Callable[[ServerSentEvent], None] | None = None,
    ) -> ResponseStream:
        """``GET /responses/{id}?stream=true`` with prepared options (shared with compat)."""
        query = {"stream": "true"}
        if starting_after is not None:
            query["starting_after"] = str(starting_after)
        options = {**options, "query": {**(options.get("query") or {}), **query}}
        response, timeout = await self._client._send(
            "GET", f"/responses/{response_id}", stream=True, **options
        )
        await expect_event_stream(response, timeout)
        # Events up to ``starting_after`` count as seen: the stream can resume even before its
        # first event, and a server that replays from the start is filtered client-side.
        accumulator.last_sequence_number = starting_after
        return self._stream(response, timeout, accumulator, max_resumes, options,
                            response_id=response_id, wire_tap=wire_tap)

    def _stream(
        self,
        response: aiohttp.ClientResponse,
        timeout: Timeout,
        accumulator: ResponseAccumulator,
        max_resumes: int,
        options: dict[str, Any],
        response_id: str | None = None,
        wire_tap: Callable[[ServerSentEvent], None] | None = None,
    ) -> ResponseStream:
        client = self._client
        feed = ResumingFeed(
            response,
            accumulator,
            max_event_size=client.max_event_size,
            max_resumes=max_resumes,
            reconnect=lambda rid, after: self._reconnect(rid, after, options),
            response_id=response_id,
        )
        return ResponseStream(
            feed,
            accumulator,
            responses_stages(accumulator, wire_tap),
            idle_timeout=timeout.idle,
            headers=response.headers,
        )

    async def _reconnect(
        self, response_id: str, starting_after: int | None, options: dict[str, Any]
    ) -> aiohttp.ClientResponse:
        query = {"stream": "true"}
        if starting_after is not None:
            query["starting_after"] = str(starting_after)
        response, timeout = await self._client._send(
            "GET", f"/responses/{response_id}", stream=True,
            **{**options, "query": {**(options.get("query") or {}), **query}},
        )
        await expect_event_stream(response, timeout)
        return response

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
        from ._websocket import connect

        return await connect(self._client, timeout=timeout, extra_headers=extra_headers)

    async def create(self, **params: Any) -> Response:
        """A non-streaming response (``background=True`` returns it queued: poll ``retrieve``).

        >>> response = await client.responses.create(  # doctest: +SKIP
        ...     model="gpt-5.4-mini", input="Hi")
        >>> response.output_text                        # doctest: +SKIP
        """
        options = split_request_options(params)
        params.pop("stream", None)
        _apply_text_format(params)
        body = await self._client._request_json("POST", "/responses", body=params, **options)
        return _decode_response(body)

    async def retrieve(self, response_id: str, **params: Any) -> Response:
        """``GET /responses/{id}``: the response as stored now (poll a background one).

        >>> (await client.responses.retrieve("resp_123")).status  # doctest: +SKIP
        'in_progress'
        """
        options = split_request_options(params)
        if params:
            options["query"] = {**(options["query"] or {}), **_query(params)}
        body = await self._client._request_json("GET", f"/responses/{response_id}", **options)
        return _decode_response(body)

    async def cancel(self, response_id: str, **params: Any) -> Response:
        """Cancel a background response that is still queued or in progress.

        >>> (await client.responses.cancel("resp_123")).status  # doctest: +SKIP
        'cancelled'
        """
        options = split_request_options(params)
        body = await self._client._request_json(
            "POST", f"/responses/{response_id}/cancel", **options
        )
        return _decode_response(body)


def _decode_response(body: bytes) -> Response:
    return decode_response(body)


def _apply_text_format(params: dict[str, Any]) -> type[Any] | None:
    """Turn a ``text_format`` type into the ``text.format`` JSON schema; returns the type."""
    text_format = params.pop("text_format", None)
    if text_format is None:
        return None
    if not is_schema_type(text_format):
        raise TypeError(
            "text_format must be a msgspec Struct or pydantic model class; pass a JSON schema "
            f"as text={{'format': ...}} instead (got {text_format!r})"
        )
    params["text"] = {**params.get("text", {}), **text_format_param(text_format)}
    return text_format


def _query(params: Mapping[str, Any]) -> dict[str, str]:
    """Query parameters as the API spells them (booleans lower-case)."""
    return {
        key: ("true" if value else "false") if isinstance(value, bool) else str(value)
        for key, value in params.items()
    }


def responses_stages(
    accumulator: ResponseAccumulator,
    wire_tap: Callable[[ServerSentEvent], None] | None = None,
) -> Stages:
    """Server-sent events -> wire events -> wire + helper events, into ``accumulator``.

    The same stages ``ox.ops.decode`` and ``ox.ops.accumulate_responses`` wrap.
    """

    def build(sink: Sink) -> Sink:
        stages: Sink = DecodeStage(
            ResponseStreamEvent, None, ResponsesAccumulateStage(accumulator, sink)
        )
        return stages if wire_tap is None else TapStage(wire_tap, stages)

    return build


class ResumingFeed:
    """The events of one response across connections.

    When a connection breaks (or ends cleanly) before a terminal event and ``max_resumes``
    allows, it reconnects with ``starting_after`` the last ``sequence_number`` the accumulator
    saw; the accumulator also drops anything at or below it, so every event is delivered
    exactly once, in order. The first reconnection after a connection that made progress is
    immediate (a dropped connection is usually a network blip, and waiting only widens the
    gap); reconnections that bring nothing new back off exponentially, and after
    ``max_resumes`` of them in a row the stream fails with :class:`APIConnectionError`.

    A connection that breaks before any event carried the response id cannot be resumed; nor
    can streams without ``sequence_number`` (pre-2025-09), which would replay from the start.
    """

    def __init__(
        self,
        response: aiohttp.ClientResponse,
        accumulator: ResponseAccumulator,
        *,
        max_event_size: int | None,
        max_resumes: int,
        reconnect: Callable[[str, int | None], Awaitable[aiohttp.ClientResponse]],
        response_id: str | None = None,
    ) -> None:
        self._accumulator = accumulator
        self._max_event_size = max_event_size
        self._max_resumes = max_resumes
        self._reconnect = reconnect
        self._response_id = response_id
        self._current = SSEFeed(response, SSEDecoder(max_event_size=max_event_size))

    def _resumable(self) -> str | None:
        """The response id to resume, or ``None`` when this stream must not resume."""
        accumulator = self._accumulator
        if self._max_resumes <= 0 or accumulator.terminal:
            return None
        if accumulator.last_sequence_number is None:
            return None
        return self._response_id or accumulator.response_id

    async def __aiter__(self) -> AsyncIterator[list[ServerSentEvent]]:
        fruitless = 0  # reconnections in a row that brought no new event
        while True:
            seen = self._accumulator.last_sequence_number
            try:
                async for batch in self._current:
                    yield batch
            except APIConnectionError:
                if self._resumable() is None:
                    raise
                self._current.abort()
            else:
                if self._resumable() is None:
                    return
                await self._current.finish()
            response_id = self._resumable()
            assert response_id is not None
            after = self._accumulator.last_sequence_number
            fruitless = 0 if after != seen else fruitless + 1
            if fruitless >= self._max_resumes:
                raise APIConnectionError(
                    f"Gave up resuming response {response_id} after {fruitless} attempts "
                    f"without progress (last event: {after})."
                )
            delay = backoff_delay(fruitless - 1) if fruitless else 0.0
            log.debug("resuming response %s after event %s in %.2fs", response_id, after, delay)
            await asyncio.sleep(delay)
            response = await self._reconnect(response_id, after)
            self._current = SSEFeed(response, SSEDecoder(max_event_size=self._max_event_size))

    async def finish(self) -> None:
        """The stream ended normally: let the connection go back to the pool."""
        await self._current.finish()

    def abort(self) -> None:
        """Close the current connection now."""
        self._current.abort()
