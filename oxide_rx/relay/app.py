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

import asyncio
import contextlib
import logging
from typing import Any

import msgspec
from aiohttp import web

import oxide_rx as ox

from . import records
from .fanout import ViewerTooSlow
from .log import GenerationNotFound, InvalidEventId, RelayError, RelayLimitError
from .page import asset
from .protocols.ui_message_stream import HEADERS as UI_HEADERS
from .relay import Api, ProtocolName, Relay

__all__ = ["GENERATION_HEADER", "RELAY", "relay_app"]

log = logging.getLogger("oxide_rx.relay")

RELAY = web.AppKey("oxide_rx_relay", Relay)
GENERATION_HEADER = "x-oxide-rx-generation"
_CHATS = web.AppKey("oxide_rx_relay_chats", dict)
_SETTINGS = web.AppKey("oxide_rx_relay_settings", dict)
_SSE = {"Content-Type": "text/event-stream; charset=utf-8", "Cache-Control": "no-cache",
        "X-Accel-Buffering": "no"}
_json = msgspec.json.Encoder().encode


def relay_app(relay: Relay, *, default_model: str = "gpt-4o-mini") -> web.Application:
    """The relay as an aiohttp application (mountable with ``add_subapp``).

    Closing the application closes the relay (owned generations stop, viewers end).

    >>> app = web.Application()                                     # doctest: +SKIP
    >>> app.add_subapp("/relay/", relay_app(Relay(ox.OpenAI.from_env())))
    """
    app = web.Application(client_max_size=16 << 20)
    app[RELAY] = relay
    app[_CHATS] = {}
    app[_SETTINGS] = {"default_model": default_model}
    app.router.add_get("/", _page)
    app.router.add_get("/static/{name}", _static)
    app.router.add_post("/generations", _start)
    app.router.add_get("/generations", _list)
    app.router.add_get("/generations/{id}", _info)
    app.router.add_get("/generations/{id}/events", _oxide_events)
    app.router.add_get("/generations/{id}/ui", _ui_events)
    app.router.add_post("/generations/{id}/stop", _stop)
    app.router.add_post("/api/chat", _use_chat)
    app.router.add_get("/api/chat/{chat_id}/stream", _use_chat_resume)
    app.router.add_post("/v1/chat/completions", _openai_chat)
    app.router.add_post("/v1/responses", _openai_responses)
    app.on_shutdown.append(_close)
    return app


async def _close(app: web.Application) -> None:
    await app[RELAY].aclose()


# --- helpers ------------------------------------------------------------------------------


def _error(status: int, message: str, type_: str = "invalid_request_error",
           code: str | None = None) -> web.Response:
    body = {"error": {"message": message, "type": type_, "param": None, "code": code}}
    return web.json_response(body, status=status, dumps=lambda o: _json(o).decode())


async def _body(request: web.Request) -> dict[str, Any]:
    try:
        body = msgspec.json.decode(await request.read())
    except msgspec.DecodeError:
        raise web.HTTPBadRequest(text="The body is not JSON.") from None
    if not isinstance(body, dict):
        raise web.HTTPBadRequest(text="The body must be a JSON object.")
    return body


def _last_event_id(request: web.Request) -> str | None:
    return request.headers.get("Last-Event-ID") or request.query.get("last_event_id") or None


async def _stream(
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
        return _error(404, f"No generation {generation_id!r}.", code="generation_not_found")
    except InvalidEventId as exc:
        return _error(400, str(exc), code="invalid_last_event_id")


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


async def _start_generation(
    request: web.Request, api: Api, params: dict[str, Any], *, key: str | None = None,
    prompt: str | None = None,
) -> str | web.Response:
    """The generation id, or the error response to send instead."""
    relay = request.app[RELAY]
    try:
        started = await relay.start(api, params, key=key, prompt=prompt)
    except ValueError as exc:
        return _error(400, str(exc))
    except RelayLimitError as exc:
        return _error(503, str(exc), "relay_full", exc.limit)
    except ox.APIStatusError as exc:
        # The upstream's own error object, so an SDK behind the relay raises what it would
        # have raised talking to the API.
        body = exc.body.get("error", exc.body) if isinstance(exc.body, dict) else None
        message = body.get("message") if isinstance(body, dict) else None
        return _error(exc.status_code, message if isinstance(message, str) else exc.message,
                      exc.type or "api_error", exc.code)
    except ox.APIError as exc:
        return _error(502, f"Upstream: {exc}", "upstream_error")
    return started.id


async def _start(request: web.Request) -> web.StreamResponse:
    body = await _body(request)
    api = body.get("api", "chat")
    if api not in ("chat", "responses"):
        return _error(400, 'api must be "chat" or "responses".')
    params = _params(api, body, request.app[_SETTINGS]["default_model"])
    prompt = body.get("prompt") if isinstance(body.get("prompt"), str) else None
    started = await _start_generation(request, api, params, prompt=prompt)
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
        return _error(404, f"No generation {generation_id!r}.", code="generation_not_found")


async def _oxide_events(request: web.Request) -> web.StreamResponse:
    generation_id = request.match_info["id"]
    after = _last_event_id(request)
    if after is not None and await _ended_at(request.app[RELAY], generation_id, after):
        # EventSource reconnects after every end of body; 204 is how a server says "done".
        return web.Response(status=204)
    return await _stream(request, generation_id, "oxide", after=after)


async def _ui_events(request: web.Request) -> web.StreamResponse:
    return await _stream(request, request.match_info["id"], "ui",
                         after=_last_event_id(request), headers=UI_HEADERS)


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
        return _error(404, f"No generation {generation_id!r}.", code="generation_not_found")
    if end is None:
        return _error(504, "The generation did not stop in time.", "timeout")
    return web.json_response({"id": generation_id, "status": end.status})


# --- Vercel AI SDK useChat ----------------------------------------------------------------


def _ui_messages(messages: Any) -> list[dict[str, str]]:
    """``UIMessage[]`` (``{role, parts: [{type: "text", text}]}``) as chat messages."""
    if not isinstance(messages, list):
        raise web.HTTPBadRequest(text='"messages" must be a list of UI messages.')
    out = []
    for message in messages:
        if not isinstance(message, dict) or message.get("role") not in (
            "system", "user", "assistant"
        ):
            continue
        parts = message.get("parts") or []
        text = "".join(
            p.get("text", "") for p in parts if isinstance(p, dict) and p.get("type") == "text"
        )
        if text:
            out.append({"role": message["role"], "content": text})
    return out


async def _use_chat(request: web.Request) -> web.StreamResponse:
    body = await _body(request)
    messages = _ui_messages(body.get("messages"))
    if not messages:
        return _error(400, "No text in the messages.")
    model = body.get("model") or request.app[_SETTINGS]["default_model"]
    prompt = messages[-1]["content"]
    # The transport's ``body`` option may ask for the Responses API (reasoning summaries).
    if body.get("api") == "responses":
        api: Api = "responses"
        params: dict[str, Any] = {"model": model, "input": messages}
    else:
        api = "chat"
        params = {"model": model, "messages": messages,
                  "stream_options": {"include_usage": True}}
    started = await _start_generation(request, api, params, prompt=prompt)
    if isinstance(started, web.Response):
        return started
    chat_id = body.get("id")
    if isinstance(chat_id, str):
        request.app[_CHATS][chat_id] = started
    return await _stream(request, started, "ui", headers=UI_HEADERS)


async def _use_chat_resume(request: web.Request) -> web.StreamResponse:
    chats: dict[str, str] = request.app[_CHATS]
    chat_id = request.match_info["chat_id"]
    generation_id = chats.get(chat_id)
    relay = request.app[RELAY]
    if generation_id is not None:
        try:
            running = (await relay.info(generation_id))["status"] == "running"
        except GenerationNotFound:
            running = False
        if running:
            # useChat builds a new message from a resumed stream: replay from the start.
            return await _stream(request, generation_id, "ui", headers=UI_HEADERS)
        chats.pop(chat_id, None)
    return web.Response(status=204)


# --- OpenAI-compatible --------------------------------------------------------------------


async def _openai_chat(request: web.Request) -> web.StreamResponse:
    return await _openai(request, "chat")


async def _openai_responses(request: web.Request) -> web.StreamResponse:
    return await _openai(request, "responses")


async def _openai(request: web.Request, api: Api) -> web.StreamResponse:
    body = await _body(request)
    streaming = bool(body.pop("stream", False))
    if not streaming and api == "chat":
        # The relay always streams upstream; a whole completion carries usage, so ask for it.
        body["stream_options"] = {**(body.get("stream_options") or {}), "include_usage": True}
    if api == "responses":
        body.pop("stream_options", None)
    key = request.headers.get(GENERATION_HEADER)
    started = await _start_generation(request, api, body, key=key)
    if isinstance(started, web.Response):
        return started
    relay = request.app[RELAY]
    first = await _first_record(relay, started)
    if isinstance(first, records.End) or first is None:
        message = first.message if first is not None else "The generation did not start."
        return _error(502, f"Upstream: {message}", "upstream_error")
    if first.api != api:
        return _error(409, f"Generation {started!r} is a {first.api} generation.",
                      code="generation_api_mismatch")
    headers = {"x-request-id": first.request_id} if first.request_id else {}
    if streaming:
        return await _stream(request, started, api, headers=headers)
    final: records.Final | None = None
    with relay.watching(started):
        ended = [r async for r in relay.records(started)
                 if isinstance(r, records.Final | records.End)]
    for record in ended:
        if isinstance(record, records.Final):
            final = record
        elif isinstance(record, records.End):
            if record.status == "failed" or final is None:
                return _error(502, f"Upstream: {record.message}", "upstream_error",
                              record.error_type)
            return web.Response(
                body=final.data, content_type="application/json",
                headers={**headers, GENERATION_HEADER: started,
                         "x-oxide-rx-status": record.status},
            )
    return _error(502, "The generation ended without its last record.", "upstream_error")


async def _first_record(relay: Relay, generation_id: str) -> records.Begin | records.End | None:
    """The ``Begin`` (or the ``End`` of a generation that failed to start), waiting for a
    joined generation's owner to get its upstream headers."""
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(relay.policy.start_timeout):
            async for record in relay.records(generation_id):
                if isinstance(record, records.Begin | records.End):
                    return record
    return None
