"""What the relay's routes share: the app keys, JSON errors and bodies, serving a viewer."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import msgspec
from aiohttp import web

import oxide_rx as ox

from .fanout import ViewerTooSlow
from .log import GenerationNotFound, InvalidEventId, RelayError, RelayLimitError
from .relay import Api, ProtocolName, Relay

__all__ = [
    "GENERATION_HEADER", "RELAY", "SETTINGS", "error_response", "json_body",
    "last_event_id", "start_generation", "stream_to",
]

log = logging.getLogger("oxide_rx.relay")

RELAY = web.AppKey("oxide_rx_relay", Relay)
GENERATION_HEADER = "x-oxide-rx-generation"
SETTINGS = web.AppKey("oxide_rx_relay_settings", dict)
_SSE = {"Content-Type": "text/event-stream; charset=utf-8", "Cache-Control": "no-cache",
        "X-Accel-Buffering": "no"}
_json = msgspec.json.Encoder().encode


def error_response(status: int, message: str, type_: str = "invalid_request_error",
                   code: str | None = None) -> web.Response:
    """An OpenAI-shaped error: ``{"error": {message, type, param, code}}`` (SDKs parse it)."""
    body = {"error": {"message": message, "type": type_, "param": None, "code": code}}
    return web.json_response(body, status=status, dumps=lambda o: _json(o).decode())


async def json_body(request: web.Request) -> dict[str, Any]:
    """The request's JSON object, or 400."""
    try:
        body = msgspec.json.decode(await request.read())
    except msgspec.DecodeError:
        raise web.HTTPBadRequest(text="The body is not JSON.") from None
    if not isinstance(body, dict):
        raise web.HTTPBadRequest(text="The body must be a JSON object.")
    return body


def last_event_id(request: web.Request) -> str | None:
    return request.headers.get("Last-Event-ID") or request.query.get("last_event_id") or None


async def stream_to(
    request: web.Request, generation_id: str, protocol: ProtocolName, *,
    after: str | None = None, headers: dict[str, str] | None = None,
) -> web.StreamResponse:
    """Serve one viewer until the generation ends or the client leaves."""
    relay = request.app[RELAY]
    policy = relay.policy
    try:
        async with relay.viewer(generation_id, protocol, after) as viewer:
            response = web.StreamResponse(headers={**_SSE, **(headers or {}),
                                                   GENERATION_HEADER: generation_id})
            await response.prepare(request)
            idle = 0.0
            try:
                while (data := await viewer.next()) is not None:
                    if not data:
                        # Nothing new: notice a client that left (aiohttp does not cancel the
                        # handler) without waiting for a write to fail, and keep proxies awake.
                        transport = request.transport
                        if transport is None or transport.is_closing():
                            break
                        idle += policy.tick
                        if idle < policy.keepalive:
                            continue
                        data = b": ping\n\n"
                    idle = 0.0
                    async with asyncio.timeout(policy.write_timeout):
                        await response.write(data)
                await response.write_eof()
            except (ConnectionError, TimeoutError, ViewerTooSlow):
                pass  # the viewer left (or lags): not a cancel; it can resume by id
            except RelayError as exc:  # the log lost the generation (expired, evicted)
                log.warning("relay: viewer of %s ended: %s", generation_id, exc)
            return response
    except GenerationNotFound:
        return error_response(404, f"No generation {generation_id!r}.", code="generation_not_found")
    except InvalidEventId as exc:
        return error_response(400, str(exc), code="invalid_last_event_id")
    except RelayError as exc:  # the log's store (Redis) is unreachable
        return error_response(503, str(exc), "relay_unavailable")



async def start_generation(
    request: web.Request, api: Api, params: dict[str, Any], *, key: str | None = None,
    prompt: str | None = None,
) -> str | web.Response:
    """The generation id, or the error response to send instead."""
    relay = request.app[RELAY]
    try:
        started = await relay.start(api, params, key=key, prompt=prompt)
    except ValueError as exc:
        return error_response(400, str(exc))
    except RelayLimitError as exc:
        return error_response(503, str(exc), "relay_full", exc.limit)
    except RelayError as exc:  # the log's store (Redis) is unreachable
        return error_response(503, str(exc), "relay_unavailable")
    except ox.APIStatusError as exc:
        # The upstream's own error object, so an SDK behind the relay raises what it would
        # have raised talking to the API.
        body = exc.body.get("error", exc.body) if isinstance(exc.body, dict) else None
        message = body.get("message") if isinstance(body, dict) else None
        return error_response(exc.status_code, message if isinstance(message, str) else exc.message,
                      exc.type or "api_error", exc.code)
    except ox.APIError as exc:
        return error_response(502, f"Upstream: {exc}", "upstream_error")
    return started.id
