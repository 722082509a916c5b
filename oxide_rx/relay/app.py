"""The relay's aiohttp application: the page, the generations API and three wire protocols.

Mount it in your own aiohttp application (``app.add_subapp("/relay/", relay_app(relay))``)
or run it alone (``oxide-rx serve``). Routes, relative to where it is mounted:

==========================================  =================================================
``GET  /``                                  the page (no build step, no framework)
``POST /generations``                       start: ``{"api", "prompt" | "params", "model"}``
``GET  /generations``                       list; ``GET /generations/{id}`` one
``GET  /generations/{id}/events``           oxide_rx typed SSE (``Last-Event-ID`` resumes)
``GET  /generations/{id}/ui``               Vercel AI SDK UI message stream
``POST /generations/{id}/stop``             stop: cancel upstream, keep the partial answer
``POST /api/chat``                          ``useChat``'s default endpoint
``GET  /api/chat/{chat_id}/stream``         ``useChat({resume: true})`` (204: nothing to resume)
``POST /v1/chat/completions``, ``/v1/responses``  OpenAI-compatible, streamed or not
==========================================  =================================================

OpenAI-compatible requests that carry the same ``x-oxide-rx-generation: <key>`` header share
one upstream request (the first starts it, the others join it from its first event). Every
stream answers with ``x-oxide-rx-generation: <id>``. The relay uses its own API key: the
``Authorization`` a client sends is never forwarded, logged or echoed. Put your own
authentication in front (an aiohttp middleware on the parent application).
"""

from __future__ import annotations

import contextlib
from typing import Any

from aiohttp import web

from .http import (
    GENERATION_HEADER,
    RELAY,
    SETTINGS,
    error_response,
    json_body,
    last_event_id,
    start_generation,
    stream_to,
)
from .log import GenerationNotFound, RelayError
from .page import asset
from .protocols.ui_message_stream import HEADERS as UI_HEADERS
from .relay import Api, Relay
from .routes_openai import openai_chat, openai_responses
from .routes_vercel import use_chat, use_chat_resume

__all__ = ["GENERATION_HEADER", "RELAY", "relay_app"]


def relay_app(relay: Relay, *, default_model: str = "gpt-4o-mini") -> web.Application:
    """The relay as an aiohttp application (mountable with ``add_subapp``).

    Closing the application closes the relay (owned generations stop, viewers end).

    >>> app = web.Application()
    >>> _ = app.add_subapp("/relay/", relay_app(Relay(ox.OpenAI(api_key="sk-..."))))
    """
    app = web.Application(client_max_size=16 << 20)
    app[RELAY] = relay
    app[SETTINGS] = {"default_model": default_model}
    app.router.add_get("/", _page)
    app.router.add_get("/static/{name}", _static)
    app.router.add_post("/generations", _start)
    app.router.add_get("/generations", _list)
    app.router.add_get("/generations/{id}", _info)
    app.router.add_get("/generations/{id}/events", _oxide_events)
    app.router.add_get("/generations/{id}/ui", _ui_events)
    app.router.add_post("/generations/{id}/stop", _stop)
    app.router.add_post("/api/chat", use_chat)
    app.router.add_get("/api/chat/{chat_id}/stream", use_chat_resume)
    app.router.add_post("/v1/chat/completions", openai_chat)
    app.router.add_post("/v1/responses", openai_responses)
    app.on_shutdown.append(_close)
    return app


async def _close(app: web.Application) -> None:
    await app[RELAY].aclose()


# --- the page -----------------------------------------------------------------------------


async def _page(request: web.Request) -> web.StreamResponse:
    if not request.path.endswith("/"):
        # The page uses relative URLs: they need the trailing slash of a mounted prefix.
        raise web.HTTPFound(request.path + "/")
    return web.Response(body=asset("index.html"), content_type="text/html", charset="utf-8")


async def _static(request: web.Request) -> web.StreamResponse:
    name = request.match_info["name"]
    types = {"app.js": "text/javascript", "app.css": "text/css"}
    if name not in types:
        raise web.HTTPNotFound()
    return web.Response(body=asset(name), content_type=types[name], charset="utf-8")


# --- generations --------------------------------------------------------------------------


def _params(api: Api, body: dict[str, Any], default_model: str) -> dict[str, Any]:
    params = body.get("params")
    if isinstance(params, dict):
        params = dict(params)
    else:
        prompt = body.get("prompt")
        if not isinstance(prompt, str) or not prompt.strip():
            raise web.HTTPBadRequest(text='Send "prompt" (text) or "params" (an object).')
        system = body.get("system")
        if api == "chat":
            messages = [{"role": "user", "content": prompt}]
            if isinstance(system, str) and system:
                messages.insert(0, {"role": "system", "content": system})
            params = {"messages": messages, "stream_options": {"include_usage": True}}
        else:
            params = {"input": prompt}
            if isinstance(system, str) and system:
                params["instructions"] = system
    params.setdefault("model", body.get("model") or default_model)
    params.pop("stream", None)
    return params


async def _start(request: web.Request) -> web.StreamResponse:
    body = await json_body(request)
    api = body.get("api", "chat")
    if api not in ("chat", "responses"):
        return error_response(400, 'api must be "chat" or "responses".')
    params = _params(api, body, request.app[SETTINGS]["default_model"])
    prompt = body.get("prompt") if isinstance(body.get("prompt"), str) else None
    started = await start_generation(request, api, params, prompt=prompt)
    if isinstance(started, web.Response):
        return started
    base = request.path.rstrip("/")
    urls = {"self": f"{base}/{started}", "events": f"{base}/{started}/events",
            "ui": f"{base}/{started}/ui", "stop": f"{base}/{started}/stop"}
    return web.json_response({"id": started, "api": api, "urls": urls}, status=201)


async def _list(request: web.Request) -> web.StreamResponse:
    relay = request.app[RELAY]
    infos = []
    for generation_id in await relay.log.ids():
        with contextlib.suppress(GenerationNotFound):
            infos.append(await relay.info(generation_id))
    return web.json_response({"generations": infos})


async def _info(request: web.Request) -> web.StreamResponse:
    generation_id = request.match_info["id"]
    try:
        return web.json_response(await request.app[RELAY].info(generation_id))
    except GenerationNotFound:
        return error_response(404, f"No generation {generation_id!r}.", code="generation_not_found")


async def _oxide_events(request: web.Request) -> web.StreamResponse:
    generation_id = request.match_info["id"]
    after = last_event_id(request)
    if after is not None and await _ended_at(request.app[RELAY], generation_id, after):
        # EventSource reconnects after every end of body; 204 is how a server says "done".
        return web.Response(status=204)
    return await stream_to(request, generation_id, "oxide", after=after)


async def _ui_events(request: web.Request) -> web.StreamResponse:
    return await stream_to(request, request.match_info["id"], "ui",
                         after=last_event_id(request), headers=UI_HEADERS)


async def _ended_at(relay: Relay, generation_id: str, after: str) -> bool:
    """Whether ``after`` is at or past the generation's last entry (nothing left to send)."""
    try:
        entries = await relay.log.read(generation_id, after, count=1)
        return not entries and (await relay.info(generation_id))["status"] != "running"
    except RelayError:
        return False


async def _stop(request: web.Request) -> web.StreamResponse:
    generation_id = request.match_info["id"]
    relay = request.app[RELAY]
    try:
        end = await relay.stop(generation_id)
    except GenerationNotFound:
        return error_response(404, f"No generation {generation_id!r}.", code="generation_not_found")
    if end is None:
        return error_response(504, "The generation did not stop in time.", "timeout")
    return web.json_response({"id": generation_id, "status": end.status})
