"""Gradio: a ``ChatInterface`` whose function yields the answer so far, paced for the UI.

    pip install gradio
    python examples/adapters/gradio_app.py

Gradio calls an async generator function on its own event loop and shows each value it
yields (the whole text so far); ``ox.ui.text_snapshots`` yields at most every 50 ms and
always the final text. The stream is opened inside the function, on Gradio's loop.
Offline (no OPENAI_API_KEY) it answers from the built-in mock server.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import oxide_rx as ox
from oxide_rx.testing import client_or_mock


def to_messages(message: str, history: list[dict[str, Any]]) -> list[dict[str, str]]:
    """Gradio's ``type="messages"`` history plus the new message, as chat messages."""
    past = [{"role": m["role"], "content": str(m["content"])} for m in history
            if m.get("role") in ("user", "assistant")]
    return [*past, {"role": "user", "content": message}]


async def respond(message: str, history: list[dict[str, Any]]) -> AsyncIterator[str]:
    async with client_or_mock() as client:
        stream = await client.chat.completions.create_stream(
            model="gpt-4o-mini", messages=to_messages(message, history))
        async for text in ox.ui.text_snapshots(stream, interval=0.05):
            yield text


if __name__ == "__main__":
    import gradio as gr

    gr.ChatInterface(respond, type="messages", title="oxide_rx + Gradio").launch()
