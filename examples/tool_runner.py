"""A tool runner: Python functions as tools, each started the moment its call is complete.

    python examples/tool_runner.py "What's the weather in Paris and Tokyo?"

``ox.tool`` reads each function's signature and docstring into a strict tool; ``run_tools``
streams the request, starts each tool as soon as its arguments' JSON closes (while the model
is still writing the next call), sends the results back and streams the answer. Sync tools
run in a worker thread, async ones on the loop.

Offline (no OPENAI_API_KEY) it streams from the built-in mock server, whose ``tool_use``
scenario calls ``get_weather`` for Paris and Tokyo, then answers from the results.
"""

from __future__ import annotations

import asyncio
import os
import sys
from typing import Literal

import oxide_rx as ox
from oxide_rx.testing import client_or_mock

OFFLINE = not (os.environ.get("OPENAI_API_KEY") or os.environ.get("OPENAI_BASE_URL"))


async def get_weather(city: str, unit: Literal["c", "f"] = "c") -> str:
    """The current weather in a city.

    Args:
        city: The city's name, in English.
        unit: Celsius or Fahrenheit.
    """
    await asyncio.sleep(0.2)  # stands in for a slow HTTP call
    return f"18 °{unit.upper()} and clear in {city}"


def local_time(city: str) -> str:
    """The local time in a city (a sync tool: it runs in a worker thread)."""
    return {"Paris": "14:05", "Tokyo": "21:05"}.get(city, "unknown")


async def main(prompt: str) -> None:
    async with client_or_mock() as client:
        run = client.chat.completions.run_tools(
            model="gpt-4o-mini",
            messages=[{"role": "user", "content": prompt}],
            tools=[get_weather, local_time],
            tool_timeout=10,
            extra_headers={"X-Mock-Scenario": "tool_use"} if OFFLINE else None,
        )
        async with run:
            async for event in run:
                match event:
                    case ox.ToolStarted(name=name, parsed_arguments=arguments, early=early):
                        when = "as its arguments closed" if early else "at the call's end"
                        print(f"[{name}({arguments}) started {when}]")
                    case ox.ToolResult(name=name, output=output, status=status):
                        print(f"[{name} -> {status}: {output}]")
                    case ox.ContentDelta(delta=delta):
                        print(delta, end="", flush=True)
                    case ox.Done(finish_reason="stop"):
                        print()
        print(f"[{run.round} requests, {len(run.results)} tool calls]")


if __name__ == "__main__":
    asyncio.run(main(" ".join(sys.argv[1:]) or "What's the weather in Paris and Tokyo?"))
