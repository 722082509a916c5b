"""``client.responses``: the Responses API, streamed (with background resume) and not."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Mapping
from typing import TYPE_CHECKING, Any

from reactivex import Observable

from ._client import split_request_options
from ._exceptions import APIConnectionError
from ._operators._accumulate import accumulate_responses_impl
from ._operators._parse import decode_impl
from ._responses_state import ResponseAccumulator
from ._stream import ResponseStream
from ._structured import is_schema_type, text_format_param
from ._transport.feed import SSEFeed
from ._transport.http import Timeout, backoff_delay, expect_event_stream
from .sse import ServerSentEvent, SSEDecoder
from .types.responses import Response, ResponseStreamEvent

if TYPE_CHECKING:
    import aiohttp

    from ._client import OpenAI

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
        ``GET /responses/{id}?stream=true&starting_after=N`` (backoff between attempts, at most
        ``max_resumes`` in a row without progress) and subscribers see every event once, in
        order. ``text_format`` may be a msgspec Struct or pydantic model class
        (``ContentDone.parsed``).

        >>> stream = await client.responses.create_stream(  # doctest: +SKIP
        ...     model="gpt-5.4-mini", input="Hi")
        >>> (await stream.final_response()).output_text     # doctest: +SKIP
        """
        options = split_request_options(params)
        text_format = params.pop("text_format", None)
        if is_schema_type(text_format):
            params["text"] = {**params.get("text", {}), **text_format_param(text_format)}
        else:
            text_format = None
        params["stream"] = True
        response, timeout = await self._client._send(
            "POST", "/responses", body=params, stream=True, **options
        )
        await expect_event_stream(response, timeout)
        accumulator = ResponseAccumulator(text_format=text_format, tool_types=tool_types)
        resumes = max_resumes if params.get("background") else 0
        return self._stream(response, timeout, accumulator, resumes, options)

    async def retrieve_stream(
        self,
        response_id: str,
        *,
        starting_after: int | None = None,
        max_resumes: int = DEFAULT_MAX_RESUMES,
        tool_types: Mapping[str, type[Any]] | None = None,
        **params: Any,
    ) -> ResponseStream:
        """Stream a background response from the server's log, after ``starting_after``."""
        options = split_request_options(params)
        query = {"stream": "true", **{k: str(v) for k, v in params.items()}}
        if starting_after is not None:
            query["starting_after"] = str(starting_after)
        options["query"] = {**(options["query"] or {}), **query}
        response, timeout = await self._client._send(
            "GET", f"/responses/{response_id}", stream=True, **options
        )
        await expect_event_stream(response, timeout)
        accumulator = ResponseAccumulator(tool_types=tool_types)
        return self._stream(response, timeout, accumulator, max_resumes, options,
                            response_id=response_id)

    def _stream(
        self,
        response: aiohttp.ClientResponse,
        timeout: Timeout,
        accumulator: ResponseAccumulator,
        max_resumes: int,
        options: dict[str, Any],
        response_id: str | None = None,
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
            responses_pipeline(accumulator),
            idle_timeout=timeout.idle,
            headers=dict(response.headers),
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

    async def create(self, **params: Any) -> Response:
        """A non-streaming response (``background=True`` returns it queued)."""
        options = split_request_options(params)
        params.pop("stream", None)
        text_format = params.pop("text_format", None)
        if is_schema_type(text_format):
            params["text"] = {**params.get("text", {}), **text_format_param(text_format)}
        body = await self._client._request_json("POST", "/responses", body=params, **options)
        return _decode_response(body)

    async def retrieve(self, response_id: str, **params: Any) -> Response:
        """``GET /responses/{id}``: the response as stored now."""
        options = split_request_options(params)
        body = await self._client._request_json("GET", f"/responses/{response_id}", **options)
        return _decode_response(body)

    async def cancel(self, response_id: str, **params: Any) -> Response:
        """Cancel a background response."""
        options = split_request_options(params)
        body = await self._client._request_json(
            "POST", f"/responses/{response_id}/cancel", **options
        )
        return _decode_response(body)


def _decode_response(body: bytes) -> Response:
    from .types.responses import RESPONSE_DECODER

    return RESPONSE_DECODER.decode(body)


def responses_pipeline(
    accumulator: ResponseAccumulator,
) -> Callable[[Observable[ServerSentEvent]], Observable[Any]]:
    """Server-sent events -> wire events -> wire + helper events, into ``accumulator``."""

    def pipeline(events: Observable[ServerSentEvent]) -> Observable[Any]:
        return events.pipe(
            decode_impl(ResponseStreamEvent, terminator=None),
            accumulate_responses_impl(accumulator),
        )

    return pipeline


class ResumingFeed:
    """The events of one response across connections.

    When a connection breaks (or ends cleanly) before a terminal event and ``max_resumes``
    allows, it reconnects after the last ``sequence_number`` the accumulator saw; the
    accumulator drops anything at or below it, so every event is delivered exactly once.
    """

    def __init__(
        self,
        response: aiohttp.ClientResponse,
        accumulator: ResponseAccumulator,
        *,
        max_event_size: int | None,
        max_resumes: int,
        reconnect: Callable[[str, int | None], Any],
        response_id: str | None = None,
    ) -> None:
        self._accumulator = accumulator
        self._max_event_size = max_event_size
        self._max_resumes = max_resumes
        self._reconnect = reconnect
        self._response_id = response_id
        self._current = SSEFeed(response, SSEDecoder(max_event_size=max_event_size))

    def _resumable(self) -> str | None:
        accumulator = self._accumulator
        if self._max_resumes <= 0 or accumulator.terminal:
            return None
        return self._response_id or accumulator.response_id

    async def __aiter__(self) -> AsyncIterator[list[ServerSentEvent]]:
        failures = 0
        while True:
            seen = self._accumulator.last_sequence_number
            try:
                async for batch in self._current:
                    yield batch
            except APIConnectionError:
                if self._resumable() is None:
                    raise
                self._current.abort()
            if self._resumable() is None:
                return
            if self._accumulator.last_sequence_number != seen:
                failures = 0
            failures += 1
            if failures > self._max_resumes:
                raise APIConnectionError(
                    f"Gave up resuming the response after {self._max_resumes} attempts."
                )
            response_id = self._resumable()
            assert response_id is not None
            delay = backoff_delay(failures - 1)
            after = self._accumulator.last_sequence_number
            log.debug("resuming response %s after event %s in %.2fs", response_id, after, delay)
            await asyncio.sleep(delay)
            response = await self._reconnect(response_id, after)
            self._current = SSEFeed(response, SSEDecoder(max_event_size=self._max_event_size))

    async def finish(self) -> None:
        await self._current.finish()

    def abort(self) -> None:
        self._current.abort()
