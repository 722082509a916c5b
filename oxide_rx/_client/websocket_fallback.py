"""The SSE fallback of a WebSocket session: when a server has no WebSocket mode.

Two signs say so: the upgrade is refused the way such a server refuses it (404, 405, 426,
501, or an answer that does not switch protocols: :func:`means_no_websocket`), or the socket
is accepted and closed at the first request with 1002 / 1003 before a single frame
(:data:`NOT_SPOKEN_CLOSES`). Requests from then on go over HTTP; those the socket never
answered are sent over HTTP too, into the streams already handed out (:func:`bridge`).
"""

from __future__ import annotations

import asyncio
from typing import Any

from .._exceptions import APIStatusError, OxideRxError
from .._transport.requester import Requester, RequestOptions
from .._transport.websocket import WebSocketRefusedError
from .._transport.websocket_link import WebSocketFeed

__all__ = ["NOT_SPOKEN_CLOSES", "bridge", "means_no_websocket"]

NO_WEBSOCKET_STATUSES = frozenset({404, 405, 426, 501})
NOT_SPOKEN_CLOSES = frozenset({1002, 1003})
"""Closed before any frame with "protocol error" / "unsupported data": not the mode."""


def means_no_websocket(error: Exception) -> bool:
    """The upgrade was refused the way a server without the WebSocket mode refuses it."""
    if isinstance(error, WebSocketRefusedError):
        return True
    return isinstance(error, APIStatusError) and error.status_code in NO_WEBSOCKET_STATUSES


async def bridge(requester: Requester, options: RequestOptions, params: dict[str, Any],
                 feed: WebSocketFeed) -> None:
    """Run a request as ``POST /responses`` and push its events into ``feed`` (the stream
    already handed out for it); closing that stream stops the request."""
    body = {**params, "stream": True}
    task = asyncio.current_task()

    def stop() -> None:  # the stream was closed: stop the request too
        if task is not None:
            task.cancel()

    feed.on_abort = stop
    try:
        sse = await requester.open_sse("POST", "/responses", options, body=body)
    except OxideRxError as exc:
        feed.end(exc)
        return
    try:
        async for batch in sse:
            for payload in batch:
                feed.push(payload)
    except OxideRxError as exc:
        sse.abort()
        feed.end(exc)
    except BaseException:
        sse.abort()
        raise
    else:
        await sse.finish()
        feed.end()
