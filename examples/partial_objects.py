"""Structured output as it streams: a typed partial object that fills in field by field.

    python examples/partial_objects.py "Three cities worth a visit, with their countries."

``ContentDelta.parsed`` is an instance of the format's *partial class* (the same fields, each
optional): the fields complete so far, the others ``None``. It changes only when a field
completes, so printing it whenever it changes shows the object being built; the final,
validated object is ``ContentDone.parsed``.

Offline (no OPENAI_API_KEY) it streams from the built-in mock server, which answers with its
three-cities document (``X-Mock-Scenario: structured``).
"""

from __future__ import annotations

import asyncio
import os
import sys

import msgspec

import oxide_rx as ox
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
        stream = await client.chat.completions.create_stream(
            model="gpt-4o-mini",
            messages=[{"role": "user", "content": prompt}],
            response_format=Cities,
            extra_headers=scripted,
        )
        shown: list[object] = [None]

        def show(event: ox.ContentDelta) -> None:
            if event.parse_error:
                print(f"[not valid: {event.parse_error}]")
            elif event.parsed is not None and event.parsed != shown[0]:
                shown[0] = event.parsed  # partial objects are immutable: safe to keep
                print(f"so far: {event.parsed}")

        async with stream:
            stream.on(ox.ContentDelta, show)
            stream.on(ox.ContentDone, lambda e: print(f"final:  {e.parsed}"))
            await stream.until_done()


if __name__ == "__main__":
    asyncio.run(main(" ".join(sys.argv[1:]) or "Three cities worth a visit, with countries."))
