"""The Vercel AI SDK's endpoints: ``POST /api/chat`` and ``GET /api/chat/{chat_id}/stream``."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from .http import RELAY, SETTINGS, error_response, json_body, start_generation, stream_to
from .log import MAX_ALIAS, RelayError
from .protocols.ui_message_stream import HEADERS as UI_HEADERS
from .relay import Api

__all__ = ["use_chat", "use_chat_resume"]



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


async def use_chat(request: web.Request) -> web.StreamResponse:
    body = await json_body(request)
    messages = _ui_messages(body.get("messages"))
    if not messages:
        return error_response(400, "No text in the messages.")
    model = body.get("model") or request.app[SETTINGS]["default_model"]
    prompt = messages[-1]["content"]
    # The transport's ``body`` option may ask for the Responses API (reasoning summaries).
    if body.get("api") == "responses":
        api: Api = "responses"
        params: dict[str, Any] = {"model": model, "input": messages}
    else:
        api = "chat"
        params = {"model": model, "messages": messages,
                  "stream_options": {"include_usage": True}}
    started = await start_generation(request, api, params, prompt=prompt)
    if isinstance(started, web.Response):
        return started
    chat_id = body.get("id")
    if isinstance(chat_id, str) and 0 < len(chat_id) <= MAX_ALIAS:
        # In the log, so a resume that lands on another node finds it.
        await request.app[RELAY].log.set_alias(chat_id, started)
    return await stream_to(request, started, "ui", headers=UI_HEADERS)


async def use_chat_resume(request: web.Request) -> web.StreamResponse:
    relay = request.app[RELAY]
    generation_id = await relay.log.alias(request.match_info["chat_id"])
    if generation_id is not None:
        try:
            running = (await relay.info(generation_id))["status"] == "running"
        except RelayError:  # expired, or not readable now: nothing to resume
            running = False
        if running:
            # useChat builds a new message from a resumed stream: replay from the start.
            return await stream_to(request, generation_id, "ui", headers=UI_HEADERS)
    return web.Response(status=204)
