"""Item streams: each element of an array at a path, typed, the moment it closes, from a
structured answer or from tool-call arguments (``ox.ops.items``, ``stream.items``)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import msgspec
import pydantic
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from reactivex import operators as rx_ops
from support import wait_until
from test_partial_json import expected_items, json_texts

import oxide_rx as ox
from oxide_rx._core.items import ItemExtractor
from oxide_rx.testing import Fault, MockServer, Scenario


class City(msgspec.Struct):
    name: str
    country: str
    population: int


class PydanticCity(pydantic.BaseModel):
    name: str
    population: int


DOCUMENT = {
    "title": "Three cities",
    "cities": [
        {"name": "Oslo", "country": "Norway", "population": 717710},
        {"name": "Lima", "country": "Peru", "population": 10092000},
        {"name": "Osaka", "country": "Japan", "population": 2753862},
    ],
}
CITIES = [msgspec.convert(c, City) for c in DOCUMENT["cities"]]


def deltas(text: str, size: int = 4) -> list[ox.ContentDelta]:
    return [ox.ContentDelta(delta=text[i:i + size], snapshot="") for i in range(0, len(text), size)]


@settings(max_examples=200, deadline=None)
@given(json_texts(), st.integers(min_value=1, max_value=9))
def test_every_element_comes_once_in_order_when_it_closes(text: str, size: int) -> None:
    final = json.loads(text)
    if not isinstance(final, list):
        final = [final]
        text = f"[{text}]"
    extract: ItemExtractor[Any] = ItemExtractor("[*]")
    got = [item for event in deltas(text, size) for item in extract.handle(event)]
    assert got == [value for _, _, value in expected_items(final, {"[*]"})]


def test_an_element_arrives_with_the_delta_that_closes_it() -> None:
    text = json.dumps(DOCUMENT)
    extract = ItemExtractor("cities[*]", City)
    closes = [text.index("}", text.index(city.name)) + 1 for city in CITIES]
    got: list[City] = []
    end = 0
    for event in deltas(text):
        start, end = end, end + len(event.delta)
        for city in extract.handle(event):
            assert start < closes[len(got)] <= end  # this delta holds the element's '}'
            got.append(city)
    assert got == CITIES


def test_a_bad_path_is_refused_at_once() -> None:
    with pytest.raises(ValueError, match="watch path"):
        ox.ops.items("cities")


async def test_operator_on_a_structured_answer(client: ox.OpenAI, server: MockServer) -> None:
    server.enqueue(Scenario.structured(DOCUMENT))
    stream = await client.chat.completions.create_stream(model="m", messages=[])
    items: list[City] = []
    done = asyncio.get_running_loop().create_future()
    stream.events.pipe(ox.ops.items("cities[*]", City), rx_ops.to_list()).subscribe(
        done.set_result, done.set_exception)
    stream.events.pipe(ox.ops.items("cities[*]", PydanticCity)).subscribe(items.append)
    await stream.until_done()
    assert await asyncio.wait_for(done, 5) == CITIES
    assert [c.name for c in items] == ["Oslo", "Lima", "Osaka"]


async def test_each_item_arrives_before_the_answer_ends(client: ox.OpenAI,
                                                        server: MockServer) -> None:
    # Held after 30 events: the first city has closed (about the 27th), the second has not.
    server.enqueue(Scenario.structured(DOCUMENT, fault=Fault.hold_after(30)))
    stream = await client.responses.create_stream(model="m", input="x")
    got: list[City] = []

    async def consume() -> None:
        async for city in stream.items("cities[*]", City):
            got.append(city)

    task = asyncio.create_task(consume())
    await server.wait_for_held(1)
    await wait_until(lambda: got, what="the first city")
    assert not stream.finished and got == CITIES[:1]
    server.release_held()
    await asyncio.wait_for(task, 10)
    assert got == CITIES


async def test_each_item_arrives_before_the_answer_ends_over_a_websocket(
    client: ox.OpenAI, server: MockServer
) -> None:
    server.enqueue(Scenario.structured(DOCUMENT, fault=Fault.hold_after(30)))
    async with await client.responses.connect() as session:
        stream = await session.create_stream(model="m", input="Three cities?")
        got: list[City] = []

        async def consume() -> None:
            async for city in stream.items("cities[*]", City):
                got.append(city)

        task = asyncio.create_task(consume())
        await server.wait_for_held(1)
        await wait_until(lambda: got, what="the first city")
        assert not stream.finished and got == CITIES[:1]
        server.release_held()
        await asyncio.wait_for(task, 10)
    assert got == CITIES


async def test_items_from_tool_arguments(client: ox.OpenAI, server: MockServer) -> None:
    server.enqueue(Scenario.tool_calls([("save_cities", DOCUMENT), ("other", {"cities": [1]}),
                                        ("save_cities", {"cities": DOCUMENT["cities"][:1]})]))
    stream = await client.chat.completions.create_stream(model="m", messages=[])
    got = [city async for city in stream.items("cities[*]", City, tool="save_cities")]
    assert got == [*CITIES, CITIES[0]]


async def test_an_element_that_does_not_validate_ends_the_item_stream(
    client: ox.OpenAI, server: MockServer
) -> None:
    broken = {"cities": [DOCUMENT["cities"][0], {"name": "Nowhere"}]}
    server.enqueue(Scenario.structured(broken))
    stream = await client.chat.completions.create_stream(model="m", messages=[])
    other: list[ox.Event] = []
    stream.on(ox.Done, other.append)  # the stream itself goes on
    got: list[City] = []
    with pytest.raises(ox.DecodeError, match="missing required field") as caught:
        async for city in stream.items("cities[*]", City):
            got.append(city)
    assert got == CITIES[:1] and caught.value.partial == CITIES[:1]
    await stream.until_done()
    assert [e.finish_reason for e in other if isinstance(e, ox.Done)] == ["stop"]


async def test_invalid_json_ends_the_item_stream_with_a_typed_error(
    client: ox.OpenAI, server: MockServer
) -> None:
    server.enqueue(Scenario.text('{"cities": ["Oslo", Lima]}'))
    stream = await client.chat.completions.create_stream(model="m", messages=[])
    failed = asyncio.get_running_loop().create_future()
    got: list[Any] = []
    stream.events.pipe(ox.ops.items("cities[*]")).subscribe(got.append, failed.set_result)
    await stream.until_done()
    error = await asyncio.wait_for(failed, 5)
    assert isinstance(error, ox.DecodeError) and "Expecting value" in str(error)
    assert got == ["Oslo"]
