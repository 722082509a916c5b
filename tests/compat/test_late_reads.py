"""Helper events read after the stream ended read as the official client's do."""

from __future__ import annotations

import json
import re
import tracemalloc
from typing import Any

import openai

from oxide_rx.compat import AsyncOpenAI
from oxide_rx.testing import Fault, MockServer, Scenario

MESSAGES = [{"role": "user", "content": "Write a haiku about Rust programming."}]


async def _chat_events_read_late(client: Any) -> str:
    async with client.chat.completions.stream(model="m", messages=MESSAGES) as stream:
        events = [event async for event in stream]
    await client.close()
    dumps = json.dumps([event.model_dump() for event in events])  # read after the end
    return re.sub(r'"(id|created)": ("[^"]*"|\d+)', r'"\1": null', dumps)  # each stream's own


async def test_chat_helper_events_read_after_the_end_are_the_official_ones(
    server: MockServer
) -> None:
    # The official helper keeps one snapshot object for the whole stream (a chunk event's
    # snapshot read late shows the final state); each delta's text snapshot is its own.
    scenario = Scenario.text("One two three four five six seven eight nine ten.")
    server.enqueue(scenario, scenario)
    official = await _chat_events_read_late(
        openai.AsyncOpenAI(base_url=server.base_url, api_key="sk-test"))
    compat = await _chat_events_read_late(
        AsyncOpenAI(base_url=server.base_url, api_key="sk-test"))
    assert compat.count('"type": "content.delta"') > 3
    assert compat == official


async def test_responses_helper_snapshots_read_after_the_end_are_as_of_each_event(
    server: MockServer
) -> None:
    server.enqueue(Scenario.text("Alpha beta gamma delta epsilon zeta eta theta."))
    client = AsyncOpenAI(base_url=server.base_url, api_key="sk-test")
    async with client.responses.stream(model="m", input="hi") as stream:
        events = [event async for event in stream]
    await client.close()
    deltas = [e for e in events if e.type == "response.output_text.delta"]
    assert len(deltas) > 3
    text = ""
    for event in deltas:
        text += event.delta
        assert event.snapshot == text


async def test_a_consumer_behind_the_stream_does_not_hold_a_text_copy_per_chunk(
    server: MockServer
) -> None:
    # The whole body is sent in one write, so thousands of chunks are queued before the
    # consumer runs: 4,000 chunks of a 16,000-character text. Queued with a copy of the text
    # so far each, they held 14 MB at the peak; without, 3 MB (the events themselves).
    text = "abcd" * 4_000
    server.enqueue(Scenario.text(text, fault=Fault.chunking("whole")))
    client = AsyncOpenAI(base_url=server.base_url, api_key="sk-test")
    tracemalloc.start()
    try:
        async with client.chat.completions.stream(model="m", messages=MESSAGES) as stream:
            async for event in stream:
                if event.type == "content.delta":
                    final = event.snapshot
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
        await client.close()
    assert final == text
    assert peak < 8_000_000, f"{peak:,} bytes at the peak"
