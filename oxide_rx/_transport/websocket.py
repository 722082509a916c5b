"""The Responses API's WebSocket mode at the transport level: the handshake, and the feed of
one response's frames.

One connection carries many responses, one at a time; each response's events arrive as JSON
text frames, which are payloads exactly like an SSE event's data. The session built on this
(chaining, one response in flight) lives in :mod:`oxide_rx._client.websocket`.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Mapping

import aiohttp

from .._exceptions import StreamTruncatedError
from .errors import connection_error, status_error
from .requester import Requester
from .timeouts import Timeout

__all__ = ["CLOSE_SECONDS", "WebSocketFeed", "open_websocket", "websocket_url"]

CLOSE_SECONDS = 5.0


def websocket_url(base_url: str) -> str:
    """``https://host/v1`` -> ``wss://host/v1/responses`` (and http -> ws).

    >>> websocket_url("http://127.0.0.1:8000/v1")
    'ws://127.0.0.1:8000/v1/responses'
    """
    scheme, rest = base_url.split("://", 1)
    return f"{'wss' if scheme == 'https' else 'ws'}://{rest.rstrip('/')}/responses"


async def open_websocket(
    requester: Requester, timeout: Timeout, extra_headers: Mapping[str, str] | None = None
) -> aiohttp.ClientWebSocketResponse:
    """Open a WebSocket to ``/responses`` with the requester's credentials and headers."""
    headers = requester.headers(stream=True, extra=extra_headers)
    headers.pop("Content-Type", None)
    headers.pop("Accept", None)
    try:
        async with asyncio.timeout(timeout.headers):
            return await requester.session.ws_connect(
                websocket_url(requester.base_url),
                headers=headers,
                max_msg_size=requester.max_event_size or 0,
                autoping=True,
                timeout=aiohttp.ClientWSTimeout(ws_receive=None, ws_close=CLOSE_SECONDS),
            )
    except aiohttp.WSServerHandshakeError as exc:
        raise status_error(exc.status, b"", None) from None
    except (TimeoutError, aiohttp.ClientError, OSError) as exc:
        raise connection_error(exc) from exc


class WebSocketFeed:
    """The frames of one response on a shared connection, one payload per batch.

    :meth:`finish` leaves the connection open for the next response; :meth:`abort` calls
    ``on_abort`` (the session closes the connection: a half-read response would leak its
    remaining frames into the next one, and the protocol has no message to stop one).
    """

    headers: Mapping[str, str] = {}

    def __init__(
        self, ws: aiohttp.ClientWebSocketResponse, on_abort: Callable[[], None]
    ) -> None:
        self._ws = ws
        self._on_abort = on_abort

    async def __aiter__(self) -> AsyncIterator[list[bytes]]:
        ws = self._ws
        while True:
            message = await ws.receive()
            if message.type is aiohttp.WSMsgType.TEXT:
                yield [message.data.encode()]
            elif message.type is aiohttp.WSMsgType.BINARY:
                yield [message.data]
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
        self._on_abort()
