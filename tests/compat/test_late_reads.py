"""Snapshots on compat ``.stream()`` events are lazy, but must read as of their own event,
even when read after the stream ended."""

from __future__ import annotations

from oxide_rx.compat import AsyncOpenAI
from oxide_rx.testing import MockServer, Scenario

MESSAGES = [{"role": "user", "content": "Write a haiku about Rust programming."}]


async def test_chat_helper_snapshots_read_after_the_end_are_as_of_each_event(
    server: MockServer
) -> None:
    server.enqueue(Scenario.text("One two three four five six seven eight nine ten."))
    client = AsyncOpenAI(base_url=server.base_url, api_key="sk-test")
    async with client.chat.completions.stream(model="m", messages=MESSAGES) as stream:
        events = [event async for event in stream]
    await client.close()
    deltas = [e for e in events if e.type == "content.delta"]
    chunks = [e for e in events if e.type == "chunk"]
    assert len(deltas) > 3
    text = ""
    for event in deltas:
        text += event.delta
        assert event.snapshot == text
    contents = [c.snapshot.choices[0].message.content for c in chunks]
    assert contents == sorted(contents, key=len)  # each chunk's snapshot is its own moment
    assert contents[-1] == text


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
