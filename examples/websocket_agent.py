"""An agent loop over the Responses API's WebSocket mode: one connection, turns that chain by
themselves, tools run the moment their call is complete.

    python examples/websocket_agent.py "What's the weather in Paris and Tokyo?"

The session keeps the conversation: each turn sends only what is new (the user's message, or
the tools' outputs) with ``previous_response_id``, and if the server loses the previous
response (a reconnect, ``store=False``) it sends the whole conversation instead. A dropped
connection reconnects with backoff; a server without the WebSocket mode gets the same turns
over HTTP SSE.

Offline (no OPENAI_API_KEY) it talks to the built-in mock server and asks it for its
``function_calls`` scenario on the first turn (``metadata.x_mock_scenario``: a WebSocket
message has no headers).
"""

from __future__ import annotations

import asyncio
import os
import sys
from typing import Any

import oxide_rx as ox
from oxide_rx.testing import client_or_mock

MODEL = "gpt-4o-mini"
OFFLINE = not (os.environ.get("OPENAI_API_KEY") or os.environ.get("OPENAI_BASE_URL"))

TOOLS = [{
    "type": "function",
    "name": "get_weather",
    "description": "Current weather for a city.",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}},
                   "required": ["city"], "additionalProperties": False},
    "strict": True,
}]


async def get_weather(city: str) -> str:
    await asyncio.sleep(0.1)  # stands in for a slow HTTP call
    return f"18 °C and clear in {city}"


async def run_tool(call: ox.ToolCallDone) -> dict[str, Any]:
    arguments = call.parsed_arguments if isinstance(call.parsed_arguments, dict) else {}
    output = await get_weather(str(arguments.get("city", "")))
    print(f"[{call.name}({call.arguments}) -> {output}]")
    return {"type": "function_call_output", "call_id": call.call_id, "output": output}


async def turn(session: ox.ResponsesWebSocket, input: Any, **params: Any) -> list[dict[str, Any]]:
    """One response: print its text as it streams, start its tools as their calls complete;
    returns the tools' outputs (the next turn's input)."""
    running: list[asyncio.Task[dict[str, Any]]] = []
    stream = await session.create_stream(input=input, **params)
    async with stream:
        stream.on(ox.ContentDelta, lambda e: print(e.delta, end="", flush=True))
        stream.on(ox.ToolCallDone, lambda call: running.append(asyncio.create_task(run_tool(call))))
        response = await stream.final_response()
    if response.output_text:
        print()
    return list(await asyncio.gather(*running))


async def main(question: str) -> None:
    async with client_or_mock() as client, await client.responses.connect(
            defaults={"model": MODEL, "tools": TOOLS}) as session:
        # Prepare the server's state (instructions, tools) before the user's first words.
        await session.warmup(input=[{"role": "system", "content": "You are a travel helper."}])
        scripted = {"metadata": {"x_mock_scenario": "function_calls"}} if OFFLINE else {}
        outputs = await turn(session, question, **scripted)
        while outputs:  # the agent loop: answer every tool call, only the outputs go out
            outputs = await turn(session, outputs)
        await turn(session, "Which of the two is warmer?")
        print(f"[{session.connections} connection(s); {len(session.items)} items kept "
              f"in case the server loses the chain]")


if __name__ == "__main__":
    asyncio.run(main(" ".join(sys.argv[1:]) or "What's the weather in Paris and Tokyo?"))
