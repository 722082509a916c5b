"""The same stream consumed with ``async for``: typed events, in order.

    python examples/async_for.py
"""

from __future__ import annotations

import asyncio

import oxide_rx as ox
from oxide_rx.testing import client_or_mock


async def main() -> None:
    async with client_or_mock() as client:
        stream = await client.chat.completions.create_stream(
            model="gpt-4o-mini",
            messages=[{"role": "user", "content": "Write a haiku about Rust programming."}],
        )
        async with stream:
            async for event in stream:
                match event:
                    case ox.ContentDelta(delta=delta):
                        print(delta, end="", flush=True)
                    case ox.Done(finish_reason=reason):
                        print(f"\n[done: {reason}]")


if __name__ == "__main__":
    asyncio.run(main())
