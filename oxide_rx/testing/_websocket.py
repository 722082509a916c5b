"""The Responses API's WebSocket mode on the mock: ``GET /v1/responses`` upgraded.

The client sends ``{"type": "response.create", ...}`` text frames; the server answers each
with the same events the SSE endpoint streams, one JSON object per text frame, one response
at a time (as the real API does). A scenario's ``drop_after`` fault closes the connection
abruptly after that many events of a response. ``background`` is refused, as the API does.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import aiohttp
import msgspec
from aiohttp import web

from ._responses import ResponseRun, ResponsesParams
from ._scenarios import ErrorScenario, Scenario

__all__ = ["serve_responses_websocket"]

_encode = msgspec.json.encode


def _json_of(frame: bytes) -> bytes:
    """The JSON payload of one ``event: ...\\ndata: ...\\n\\n`` frame."""
    return frame.split(b"\ndata: ", 1)[1].rstrip(b"\n")


def _error(code: str, message: str, status: int = 400) -> bytes:
    error = {"type": "invalid_request_error", "code": code, "message": message, "param": None}
    return _encode({"type": "error", "status": status, "error": error})


async def serve_responses_websocket(
    request: web.Request, take_scenario: Callable[[web.Request], Scenario]
) -> web.WebSocketResponse:
    """Serve one WebSocket connection until the client closes it."""
    ws = web.WebSocketResponse(max_msg_size=64 * 1024 * 1024)
    await ws.prepare(request)
    async for message in ws:
        if message.type != aiohttp.WSMsgType.TEXT:
            continue
        try:
            payload: Any = msgspec.json.decode(message.data)
        except msgspec.DecodeError:
            await ws.send_str(_error("invalid_json", "mock: the message is not JSON").decode())
            continue
        if not isinstance(payload, dict) or payload.get("type") != "response.create":
            kind = payload.get("type") if isinstance(payload, dict) else None
            await ws.send_str(_error("unknown_event", f"mock: unsupported {kind!r}").decode())
            continue
        if payload.get("background"):
            text = "background is not supported in WebSocket mode"
            await ws.send_str(_error("unsupported_parameter", text).decode())
            continue
        scenario = take_scenario(request).for_request(payload)
        if isinstance(scenario, ErrorScenario):
            await ws.send_str(_error(scenario.code or "error", scenario.message,
                                     scenario.status).decode())
            continue
        drop_after = scenario.fault.drop_after_events if scenario.fault is not None else None
        run = ResponseRun(scenario, ResponsesParams.from_body(payload))
        for sent, (_, frame) in enumerate(run.events()):
            if drop_after is not None and sent >= drop_after:
                transport = request.transport
                if transport is not None:
                    transport.abort()
                return ws
            await ws.send_str(_json_of(frame).decode())
    return ws
