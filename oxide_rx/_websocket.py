"""The Responses API over a persistent WebSocket (``wss://.../v1/responses``).

One connection carries many responses, one at a time: each ``response.create`` text frame is
answered by the same event objects the SSE endpoint streams, one JSON object per frame. Each
response is a :class:`ResponseStream` with the same operators, helper events, accumulator and
lifetime as over SSE; only the feed differs.

Aborting a response mid-flight (``stream.aclose()``, the consumer cancelled, ...) closes the
connection: the protocol has no message to stop one response, and a half-read response would
otherwise leak its remaining frames into the next one.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any

import aiohttp
import msgspec

from ._exceptions import APIConnectionError, OxideRxError, StreamTruncatedError
from ._responses import _apply_text_format, responses_stages
from ._responses_state import ResponseAccumulator
from ._stream import ResponseStream
from ._transport.errors import connection_error, status_error
from ._transport.http import Timeout
from .sse import ServerSentEvent

if TYPE_CHECKING:
    from ._client import OpenAI

__all__ = ["ResponsesWebSocket", "connect"]

CLOSE_SECONDS = 5.0
_encode = msgspec.json.Encoder().encode


def websocket_url(base_url: str) -> str:
    """``https://host/v1`` -> ``wss://host/v1/responses`` (and http -> ws).

    >>> websocket_url("http://127.0.0.1:8000/v1")
    'ws://127.0.0.1:8000/v1/responses'
    """
    scheme, rest = base_url.split("://", 1)
    return f"{'wss' if scheme == 'https' else 'ws'}://{rest.rstrip('/')}/responses"


async def connect(
    client: OpenAI,
    *,
    timeout: Timeout | float | None = None,
    extra_headers: Mapping[str, str] | None = None,
) -> ResponsesWebSocket:
    """Open a WebSocket to ``/responses`` with the client's credentials and headers."""
    effective = client.timeout if timeout is None else Timeout.coerce(timeout)
    headers = client._headers(stream=True, extra=extra_headers)
    headers.pop("Content-Type", None)
    headers.pop("Accept", None)
    try:
        async with asyncio.timeout(effective.headers):
            ws = await client.session.ws_connect(
                websocket_url(client.base_url),
                headers=headers,
                max_msg_size=client.max_event_size or 0,
                autoping=True,
                timeout=aiohttp.ClientWSTimeout(ws_receive=None, ws_close=CLOSE_SECONDS),
            )
    except aiohttp.WSServerHandshakeError as exc:
        raise status_error(exc.status, b"", None) from None
    except (TimeoutError, aiohttp.ClientError, OSError) as exc:
        raise connection_error(exc) from exc
    return ResponsesWebSocket(ws, effective)


class ResponsesWebSocket:
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
        text_format = _apply_text_format(params)
        try:
            await self._ws.send_str(_encode({"type": "response.create", **params}).decode())
        except (aiohttp.ClientError, OSError, ConnectionError) as exc:
            raise connection_error(exc) from exc
        accumulator = ResponseAccumulator(text_format=text_format, tool_types=tool_types)
        stream = ResponseStream(
            _WebSocketFeed(self),
            accumulator,
            responses_stages(accumulator),
            idle_timeout=self._timeout.idle,
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

    async def __aenter__(self) -> ResponsesWebSocket:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()


class _WebSocketFeed:
    """The frames of one response, each as a one-event batch for the shared pipeline."""

    def __init__(self, connection: ResponsesWebSocket) -> None:
        self._connection = connection

    async def __aiter__(self) -> AsyncIterator[list[ServerSentEvent]]:
        ws = self._connection._ws
        while True:
            message = await ws.receive()
            if message.type is aiohttp.WSMsgType.TEXT:
                yield [ServerSentEvent(data=message.data)]
            elif message.type is aiohttp.WSMsgType.BINARY:
                yield [ServerSentEvent(data=message.data.decode("utf-8", "replace"))]
            elif message.type is aiohttp.WSMsgType.ERROR:
                raise connection_error(message.data)
            else:
                code = ws.close_code
                raise StreamTruncatedError(
                    f"The WebSocket closed mid-response (close code {code})."
                )

    async def finish(self) -> None:
        """The response ended: the connection stays open for the next one."""

    def abort(self) -> None:
        self._connection._abort()
