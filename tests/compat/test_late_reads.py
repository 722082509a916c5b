"""Helper events read after the stream ended read as the official client's do."""

from __future__ import annotations

import json
import re
from typing import Any

import openai

from oxide_rx.compat import AsyncOpenAI
from oxide_rx.testing import MockServer, Scenario

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
