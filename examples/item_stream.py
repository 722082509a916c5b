"""Each element of a streamed array, typed, the moment it closes (Responses API).

    python examples/item_stream.py "Three cities worth a visit, with their countries."

``stream.items("cities[*]", City)`` yields one ``City`` per element of the answer's
``cities`` array as soon as its closing brace arrives, while the model writes the next one
(instructor's ``Iterable[T]``, the AI SDK's ``elementStream``). The same works on a tool
call's arguments (``tool="name"``) and as an Rx operator (``ox.ops.items(...)``).

Offline (no OPENAI_API_KEY) it streams from the built-in mock server, which answers with its
three-cities document (``X-Mock-Scenario: structured``).
"""

from __future__ import annotations

import asyncio
import os
import sys

import msgspec

from oxide_rx.testing import client_or_mock

OFFLINE = not (os.environ.get("OPENAI_API_KEY") or os.environ.get("OPENAI_BASE_URL"))


class City(msgspec.Struct):
    name: str
    country: str
    population: int


class Cities(msgspec.Struct):
    title: str
    cities: list[City]


async def main(prompt: str) -> None:
    async with client_or_mock() as client:
        scripted = {"X-Mock-Scenario": "structured"} if OFFLINE else None
        stream = await client.responses.create_stream(
            model="gpt-5.4-mini", input=prompt, text_format=Cities, extra_headers=scripted
        )
        async with stream:
            async for city in stream.items("cities[*]", City):
                print(f"{city.name} ({city.country}): {city.population:,} people")
            response = await stream.final_response()
        print(f"[{response.status}]")


if __name__ == "__main__":
    asyncio.run(main(" ".join(sys.argv[1:]) or "Three cities worth a visit, with countries."))
