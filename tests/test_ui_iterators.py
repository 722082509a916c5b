"""``iter_text`` / ``iter_snapshots``: plain async iterators pulled at the consumer's pace."""

from __future__ import annotations

import asyncio
import itertools

import pytest

import oxide_rx as ox
from oxide_rx.testing import Fault, MockServer, Scenario

ANSWER = "Plain iterators for frameworks that want them, at their own pace."


async def test_iter_text_joins_to_the_final_text() -> None:
    async with MockServer() as server, ox.OpenAI(base_url=server.base_url, api_key="k") as client:
        server.enqueue(Scenario.text(ANSWER))
        stream = await client.chat.completions.create_stream(model="m", messages=[])
        pieces = [piece async for piece in ox.ui.iter_text(stream)]
    assert "".join(pieces) == ANSWER
    assert len(pieces) >= 1


async def test_a_slow_consumer_gets_what_arrived_meanwhile_in_one_item() -> None:
    async with MockServer() as server, ox.OpenAI(base_url=server.base_url, api_key="k") as client:
        server.enqueue(Scenario.synthetic(events=30, delta="abcd", interval=0.002))
        stream = await client.chat.completions.create_stream(model="m", messages=[])
        texts = ox.ui.iter_text(stream)
        first = await anext(texts)
        await stream.until_done()  # the consumer is busy while the rest arrives
        rest = [piece async for piece in texts]
    assert first + "".join(rest) == "abcd" * 30
    assert len(rest) == 1


async def test_iter_snapshots_grow_and_end_with_the_final_text() -> None:
    async with MockServer() as server, ox.OpenAI(base_url=server.base_url, api_key="k") as client:
        server.enqueue(Scenario.text(ANSWER))
        stream = await client.chat.completions.create_stream(model="m", messages=[])
        snapshots = [text async for text in ox.ui.iter_snapshots(stream)]
    assert snapshots[-1] == ANSWER
    assert all(b.startswith(a) for a, b in itertools.pairwise(snapshots))


async def test_iter_snapshots_of_a_responses_stream_join_the_message_items() -> None:
    async with MockServer() as server, ox.OpenAI(base_url=server.base_url, api_key="k") as client:
        server.enqueue(Scenario.reasoning("Think.", ANSWER))
        stream = await client.responses.create_stream(model="m", input="Hi")
        snapshots = [text async for text in ox.ui.iter_snapshots(stream)]
        response = await stream.final_response()
    assert snapshots[-1] == response.output_text == ANSWER


async def test_a_failure_is_raised_after_the_text_that_arrived() -> None:
    async with MockServer() as server, ox.OpenAI(base_url=server.base_url, api_key="k") as client:
        server.enqueue(Scenario.text(ANSWER, fault=Fault.truncate(after=4)))
        stream = await client.chat.completions.create_stream(model="m", messages=[])
        pieces: list[str] = []
        with pytest.raises(ox.StreamTruncatedError):
            async for piece in ox.ui.iter_text(stream):
                pieces.append(piece)
    assert pieces and ANSWER.startswith("".join(pieces))


async def test_leaving_the_loop_aborts_the_request() -> None:
    async with MockServer() as server, ox.OpenAI(base_url=server.base_url, api_key="k") as client:
        server.enqueue(Scenario.text("x" * 400, fault=Fault.stall_after(3)))
        stream = await client.chat.completions.create_stream(model="m", messages=[])
        snapshots = ox.ui.iter_snapshots(stream)
        async for _ in snapshots:
            break
        await snapshots.aclose()
        await server.wait_for_disconnects(1, timeout=5)
        await asyncio.wait_for(_finished(stream), 5)


async def _finished(stream: ox.ChatStream) -> None:
    while not stream.finished:
        await asyncio.sleep(0.005)
