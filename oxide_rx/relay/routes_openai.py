"""OpenAI-compatible endpoints: ``POST /v1/chat/completions`` and ``POST /v1/responses``.

Requests with the same ``x-oxide-rx-generation`` header share one upstream request. The relay
always streams upstream; a request without ``stream: true`` gets the accumulated object.
"""

from __future__ import annotations

import asyncio
import contextlib

from aiohttp import web

from . import records
from .http import GENERATION_HEADER, RELAY, error_response, json_body, start_generation, stream_to
from .relay import Api, Relay

__all__ = ["openai_chat", "openai_responses"]



async def openai_chat(request: web.Request) -> web.StreamResponse:
    return await _openai(request, "chat")


async def openai_responses(request: web.Request) -> web.StreamResponse:
    return await _openai(request, "responses")


async def _openai(request: web.Request, api: Api) -> web.StreamResponse:
    body = await json_body(request)
    streaming = bool(body.pop("stream", False))
    if not streaming and api == "chat":
        # The relay always streams upstream; a whole completion carries usage, so ask for it.
        body["stream_options"] = {**(body.get("stream_options") or {}), "include_usage": True}
    if api == "responses":
        body.pop("stream_options", None)
    key = request.headers.get(GENERATION_HEADER)
    started = await start_generation(request, api, body, key=key)
    if isinstance(started, web.Response):
        return started
    relay = request.app[RELAY]
    first = await _first_record(relay, started)
    if isinstance(first, records.End) or first is None:
        message = first.message if first is not None else "The generation did not start."
        return error_response(502, f"Upstream: {message}", "upstream_error")
    if first.api != api:
        return error_response(409, f"Generation {started!r} is a {first.api} generation.",
                      code="generation_api_mismatch")
    headers = {"x-request-id": first.request_id} if first.request_id else {}
    if streaming:
        return await stream_to(request, started, api, headers=headers)
    final: records.Final | None = None
    with relay.watching(started):
        ended = [r async for r in relay.records(started)
                 if isinstance(r, records.Final | records.End)]
    for record in ended:
        if isinstance(record, records.Final):
            final = record
        elif isinstance(record, records.End):
            if record.status == "failed" or final is None:
                return error_response(502, f"Upstream: {record.message}", "upstream_error",
                              record.error_type)
            return web.Response(
                body=final.data, content_type="application/json",
                headers={**headers, GENERATION_HEADER: started,
                         "x-oxide-rx-status": record.status},
            )
    return error_response(502, "The generation ended without its last record.", "upstream_error")


async def _first_record(relay: Relay, generation_id: str) -> records.Begin | records.End | None:
    """The ``Begin`` (or the ``End`` of a generation that failed to start), waiting for a
    joined generation's owner to get its upstream headers."""
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(relay.policy.start_timeout):
            async for record in relay.records(generation_id):
                if isinstance(record, records.Begin | records.End):
                    return record
    return None
