"""The Responses API over a persistent WebSocket (``wss://.../v1/responses``): the session.

One connection carries many responses, one at a time: each ``response.create`` text frame is
answered by the same event objects the SSE endpoint streams, one JSON object per frame. Each
response is a :class:`~oxide_rx.ResponseStream` with the same operators, helper events,
accumulator and lifetime as over SSE; only the feed differs
(:class:`oxide_rx._transport.websocket.WebSocketFeed`).

Aborting a response mid-flight (``stream.aclose()``, the consumer cancelled, ...) closes the
connection: the protocol has no message to stop one response, and a half-read response would
otherwise leak its remaining frames into the next one.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping
from typing import Any

import aiohttp
import msgspec

from .._core.responses import ResponseAccumulator
from .._core.schema import apply_text_format
from .._exceptions import APIConnectionError, OxideRxError
from .._resource import AsyncResource
from .._stream.streams import ResponseStream
from .._transport.errors import connection_error
from .._transport.requester import Requester
from .._transport.timeouts import Timeout
from .._transport.websocket import CLOSE_SECONDS, WebSocketFeed, open_websocket

__all__ = ["ResponsesWebSocket"]

_encode = msgspec.json.Encoder().encode


class ResponsesWebSocket(AsyncResource):
    """A persistent Responses API connection; responses are streamed one at a time.

    >>> async with await client.responses.connect() as connection:       # doctest: +SKIP
    ...     first = await connection.create_stream(model="gpt-5.4-mini", input="Hi")
    ...     answer = await first.final_response()
    ...     second = await connection.create_stream(
    ...         model="gpt-5.4-mini", input="And then?", previous_response_id=answer.id)
    """

    def __init__(self, ws: aiohttp.ClientWebSocketResponse, timeout: Timeout) -> None:
        self._ws = ws
        self._timeout = timeout
        self._current: ResponseStream | None = None
        self._closing: asyncio.Task[bool] | None = None

    @classmethod
    async def open(
        cls,
        requester: Requester,
        *,
        timeout: Timeout | float | None = None,
        extra_headers: Mapping[str, str] | None = None,
    ) -> ResponsesWebSocket:
        """Connect with the requester's credentials and headers."""
        effective = requester.timeout if timeout is None else Timeout.coerce(timeout)
        return cls(await open_websocket(requester, effective, extra_headers), effective)

    @property
    def closed(self) -> bool:
        return self._ws.closed or self._closing is not None

    async def create_stream(
        self, *, tool_types: Mapping[str, type[Any]] | None = None, **params: Any
    ) -> ResponseStream:
        """Send ``response.create`` and return its stream (same events as over SSE).

        ``stream`` is implicit and ``background`` is not supported in WebSocket mode.
        """
        if self.closed:
            raise APIConnectionError("The WebSocket connection is closed.")
        if self._current is not None and not self._current.finished:
            raise OxideRxError(
                "A response is already streaming on this WebSocket; finish or close it first "
                "(the API runs one response at a time per connection)."
            )
        if params.pop("background", False):
            raise ValueError("background responses are not supported over WebSocket")
        params.pop("stream", None)
        text_format = apply_text_format(params)
        try:
            await self._ws.send_str(_encode({"type": "response.create", **params}).decode())
        except (aiohttp.ClientError, OSError, ConnectionError) as exc:
            raise connection_error(exc) from exc
        accumulator = ResponseAccumulator(text_format=text_format, tool_types=tool_types)
        stream = ResponseStream(
            WebSocketFeed(self._ws, self._abort), accumulator, idle_timeout=self._timeout.idle
        )
        self._current = stream
        return stream

    def _abort(self) -> None:
        """Close the connection from a synchronous context (a stream being aborted)."""
        if self._closing is None and not self._ws.closed:
            self._closing = asyncio.get_running_loop().create_task(self._ws.close())

    async def aclose(self) -> None:
        """Close the connection (and any response still streaming on it)."""
        if self._current is not None and not self._current.finished:
            await self._current.aclose()
        if self._closing is None:
            self._closing = asyncio.get_running_loop().create_task(self._ws.close())
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self._closing, CLOSE_SECONDS)

