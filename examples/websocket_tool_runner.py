"""The tool runner on a WebSocket session: every round a response on one connection.

    python examples/websocket_tool_runner.py "What's the weather in Paris and Tokyo?"

``session.run_tools`` is ``client.responses.run_tools`` on a session's lane: each tool starts
the moment its call's arguments close, and each later round sends only the tools' outputs
(the lane chains the responses, even with ``store=False``, and rebuilds the conversation if
the server loses it). After the run the session goes on from the answer.

Offline (no OPENAI_API_KEY) it talks to the built-in mock server, asking for its ``tool_use``
scenario (``metadata.x_mock_scenario``: a WebSocket message has no headers), which calls
``get_weather`` for Paris and Tokyo, then answers from the results.
"""

from __future__ import annotations

import asyncio
import os
import sys

import oxide_rx as ox
from oxide_rx.testing import client_or_mock

OFFLINE = not (os.environ.get("OPENAI_API_KEY") or os.environ.get("OPENAI_BASE_URL"))


async def get_weather(city: str) -> str:
    """The current weather in a city.

    Args:
        city: The city's name, in English.
    """
    await asyncio.sleep(0.2)  # stands in for a slow HTTP call
    return f"18 °C and clear in {city}"


async def main(question: str) -> None:
    scripted = {"metadata": {"x_mock_scenario": "tool_use"}} if OFFLINE else {}
    async with client_or_mock() as client, await client.responses.connect(
            defaults={"model": "gpt-5.4-mini"}) as session:
        run = session.run_tools(input=question, tools=[get_weather], **scripted)
        run.on(ox.ToolStarted, lambda e: print(f"[{e.name}({e.parsed_arguments}) started]"))
        run.on(ox.ContentDelta, lambda e: print(e.delta, end="", flush=True))
        await run.final_response()
        print(f"\n[{run.round} responses, {len(run.results)} tool calls, "
              f"{session.connections} connection(s)]")
        follow_up = await session.create_stream(input="Which of the two is warmer?")
        print((await follow_up.final_response()).output_text)


if __name__ == "__main__":
    asyncio.run(main(" ".join(sys.argv[1:]) or "What's the weather in Paris and Tokyo?"))
