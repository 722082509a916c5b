"""FastAPI (or Starlette): stream one answer to a browser as oxide_rx's typed SSE.

    pip install fastapi uvicorn
    python examples/adapters/fastapi_app.py          # then open http://127.0.0.1:8000/ask?q=Hi

Offline (no OPENAI_API_KEY) it answers from the built-in mock server. The client lives as
long as the app (FastAPI's lifespan), so every request shares its connection pool. Each
request opens a stream and returns its frames; a browser that goes away ends the response,
which aborts the request upstream. ``encode_stream(stream, "ui")`` serves a ``useChat``
front end instead (set the ``x-vercel-ai-ui-message-stream: v1`` header).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from fastapi import FastAPI
from fastapi.responses import StreamingResponse

import oxide_rx as ox
from oxide_rx.relay import encode_stream
from oxide_rx.testing import client_or_mock

clients: list[ox.OpenAI] = []


@contextlib.asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    async with client_or_mock() as client:  # the real API with a key, else the mock server
        clients.append(client)
        yield
        clients.clear()


app = FastAPI(lifespan=lifespan)


@app.get("/ask")
async def ask(q: str = "Write a haiku about Rust programming.") -> StreamingResponse:
    stream = await clients[0].chat.completions.create_stream(
        model="gpt-4o-mini", messages=[{"role": "user", "content": q}],
        stream_options={"include_usage": True},
    )
    return StreamingResponse(encode_stream(stream), media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache"})


if __name__ == "__main__":
    import uvicorn

    uvicorn.run(app, host="127.0.0.1", port=8000)
