"""Function calling on the Responses API: run each tool the moment its call is complete.

    python examples/responses_tools.py "What's the weather in Paris and Tokyo?"

``ToolCallDone`` fires at ``response.function_call_arguments.done``, while the model may still
be writing the next call, so the tools run concurrently with the rest of the stream. Their
results go back as ``function_call_output`` items with ``previous_response_id``, and the
answer streams in.

Offline (no OPENAI_API_KEY) it talks to the built-in mock server, and asks it for its
``function_calls`` scenario (two ``get_weather`` calls) with the ``X-Mock-Scenario`` header.
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

TOOLS = [
    {
        "type": "function",
        "name": "get_weather",
        "description": "Current weather for a city.",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
            "additionalProperties": False,
        },
        "strict": True,
    }
]


async def get_weather(city: str) -> str:
    await asyncio.sleep(0.2)  # stands in for a slow HTTP call
    return f"18 °C and clear in {city}"


async def run_tool(call: ox.ToolCallDone) -> dict[str, Any]:
    """One ``function_call_output`` input item for ``call``."""
    arguments = call.parsed_arguments if isinstance(call.parsed_arguments, dict) else {}
    if call.name == "get_weather":
        output = await get_weather(str(arguments.get("city", "")))
    else:
        output = f"unknown tool {call.name!r}"
    print(f"[{call.name} finished: {output}]")
    return {"type": "function_call_output", "call_id": call.call_id, "output": output}


async def main(prompt: str) -> None:
    running: list[asyncio.Task[dict[str, Any]]] = []

    def start(call: ox.ToolCallDone) -> None:
        print(f"[{call.name}({call.arguments}) started, call_id {call.call_id}]")
        running.append(asyncio.create_task(run_tool(call)))

    async with client_or_mock() as client:
        scripted = {"X-Mock-Scenario": "function_calls"} if OFFLINE else None
        stream = await client.responses.create_stream(
            model=MODEL, input=prompt, tools=TOOLS, extra_headers=scripted
        )
        async with stream:
            stream.on(ox.ToolCallDone, start)
            response = await stream.final_response()
        print(f"[response {response.status}: {len(running)} tool calls]")

        outputs = await asyncio.gather(*running)
        answer = await client.responses.create_stream(
            model=MODEL, input=outputs, tools=TOOLS, previous_response_id=response.id
        )
        async with answer:
            answer.on(ox.ContentDelta, lambda e: print(e.delta, end="", flush=True))
            await answer.final_response()
        print()


if __name__ == "__main__":
    asyncio.run(main(" ".join(sys.argv[1:]) or "What's the weather in Paris and Tokyo?"))
