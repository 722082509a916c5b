"""Stream a chat answer with per-event-type callbacks.

    python examples/chat_callbacks.py "Write a haiku about Rust programming."

Offline (no OPENAI_API_KEY) it streams from the built-in mock server.
"""

from __future__ import annotations

import asyncio
import sys

import oxide_rx as ox
from oxide_rx.testing import client_or_mock


async def main(prompt: str) -> None:
    async with client_or_mock() as client:
        stream = await client.chat.completions.create_stream(
            model="gpt-4o-mini",
            messages=[{"role": "user", "content": prompt}],
            stream_options={"include_usage": True},
        )
        async with stream:
            stream.on(ox.ContentDelta, lambda e: print(e.delta, end="", flush=True))
            stream.on(ox.Done, lambda e: print(f"\n[finished: {e.finish_reason}]"))
            stream.on(ox.Usage, lambda e: print(f"[{e.usage.total_tokens} tokens]"))
            completion = await stream.final_completion()
        print(f"[{len(completion.choices[0].message.content or '')} characters]")


if __name__ == "__main__":
    asyncio.run(main(" ".join(sys.argv[1:]) or "Write a haiku about Rust programming."))
