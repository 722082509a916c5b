"""aiohttp: the whole relay mounted in your application, next to a handler of your own.

    python examples/adapters/aiohttp_app.py --port 8080
    # the relay page:        http://127.0.0.1:8080/relay/
    # your own handler:      http://127.0.0.1:8080/ask?q=Hi   (Vercel AI SDK UI message stream)
    # OpenAI SDKs:           OpenAI(base_url="http://127.0.0.1:8080/relay/v1")

Offline (no OPENAI_API_KEY) it answers from the built-in mock server. Add your own
authentication as a middleware of the parent application: the relay has none.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib

from aiohttp import web

import oxide_rx as ox
from oxide_rx.relay import Relay, encode_stream, relay_app
from oxide_rx.relay.protocols.ui_message_stream import HEADERS as UI_HEADERS
from oxide_rx.testing import client_or_mock

CLIENT = web.AppKey("client", ox.OpenAI)


async def ask(request: web.Request) -> web.StreamResponse:
    """One stream, one viewer: no log, the frames go straight to this response."""
    stream = await request.app[CLIENT].chat.completions.create_stream(
        model="gpt-4o-mini",
        messages=[{"role": "user", "content": request.query.get("q", "Hi")}],
    )
    response = web.StreamResponse(
        headers={"Content-Type": "text/event-stream", **UI_HEADERS})
    await response.prepare(request)
    async with stream:  # leaving (a client that went away included) aborts the request
        async for frame in encode_stream(stream, "ui"):
            await response.write(frame)
    return response


def make_app(client: ox.OpenAI) -> web.Application:
    app = web.Application()
    app[CLIENT] = client
    app.router.add_get("/ask", ask)
    app.add_subapp("/relay/", relay_app(Relay(client)))
    return app


async def main(port: int) -> None:
    async with client_or_mock() as client:
        runner = web.AppRunner(make_app(client))
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        print(f"relay page: http://127.0.0.1:{port}/relay/", flush=True)
        try:
            while True:
                await asyncio.sleep(3600)
        finally:
            await runner.cleanup()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8080)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main(parser.parse_args().port))
