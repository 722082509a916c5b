"""One paid generation, several consumers: Rx composition on a hot stream.

- a "UI" gets the text snapshot at most every 50 ms, and always the final one (sample_ui);
- a "tool runner" gets each tool call the moment it is complete (of_type);
- a logger counts every event.
All three share one HTTP request.

    python examples/fan_out.py
"""

from __future__ import annotations

import asyncio

from reactivex import operators as rx_ops

import oxide_rx as ox
from oxide_rx.testing import client_or_mock


def run_tool(call: ox.ToolCallDone) -> None:
    print(f"\n[tool ready] {call.name}({call.parsed_arguments}) id={call.call_id}")


async def main() -> None:
    async with client_or_mock() as client:
        stream = await client.chat.completions.create_stream(
            model="gpt-4o-mini",
            messages=[{"role": "user", "content": "Tell me about reactive streams."}],
        )
        counts: dict[str, int] = {}
        stream.events.pipe(
            ox.ops.of_type(ox.ContentDelta),
            ox.ops.sample_ui(0.05),  # pace first, so only the deltas shown build a snapshot
            rx_ops.map(lambda e: e.snapshot),
        ).subscribe(lambda text: print(f"\r[ui] {len(text):4d} chars: ...{text[-40:]!r}", end=""))
        stream.events.pipe(ox.ops.of_type(ox.ToolCallDone)).subscribe(run_tool)
        stream.on(ox.Event, lambda e: counts.__setitem__(type(e).__name__,
                                                        counts.get(type(e).__name__, 0) + 1))
        await stream.until_done()
        print(f"\n[events] {counts}")


if __name__ == "__main__":
    asyncio.run(main())
