"""Checked by mypy --strict in tests/test_typing_tools.py (never run): the types of tools,
tool runs, item streams and partial values, as users see them."""

from __future__ import annotations

from typing import assert_type

import msgspec
from reactivex import Observable, abc

import oxide_rx as ox
from oxide_rx.types.chat import ChatCompletion
from oxide_rx.types.responses import Response


class City(msgspec.Struct):
    name: str


def get_weather(city: str) -> str:
    """The weather in a city."""
    return city


async def tools(client: ox.OpenAI) -> None:
    weather = ox.tool(get_weather)
    assert_type(weather, ox.Tool[str])
    assert_type(weather("Oslo"), str)
    decorated = ox.tool(name="w")(get_weather)
    assert_type(decorated, ox.Tool[str])

    run = client.chat.completions.run_tools(model="m", messages=[], tools=[weather])
    assert_type(run, ox.ChatToolRun)
    assert_type(run.events, Observable[ox.ChatRunEvent])
    assert_type(await run.final_completion(), ChatCompletion)
    async for event in run:
        assert_type(event, ox.ChatRunEvent)
        match event:
            case ox.ToolStarted(name=name, early=early):
                assert_type(name, str)
                assert_type(early, bool)
            case ox.ToolResult(output=output, error=error):
                assert_type(output, str)
                assert_type(error, str | None)
            case ox.ToolCallDelta():
                assert_type(event.arguments_error, str | None)
            case ox.ContentDelta():
                assert_type(event.parse_error, str | None)
            case _:
                pass
    assert_type(run.on(ox.ToolResult, lambda r: print(r.status)), abc.DisposableBase)
    assert_type(run.results, list[ox.ToolResult])

    answer = client.responses.run_tools(model="m", input="x", tools=[get_weather])
    assert_type(answer, ox.ResponseToolRun)
    assert_type(await answer.final_response(), Response)
    assert_type(answer.answers, list[Response])

    async with await client.responses.connect(defaults={"model": "m"}) as session:
        on_session = session.run_tools(input="x", tools=[get_weather])
        assert_type(on_session, ox.SessionToolRun)
        assert_type(await on_session.final_response(), Response)
        assert_type(session.lane("a").run_tools(input="y", tools=[weather]), ox.SessionToolRun)
        async for run_event in on_session:
            assert_type(run_event, ox.ResponseRunEvent)


async def items(client: ox.OpenAI) -> None:
    stream = await client.chat.completions.create_stream(model="m", messages=[])
    async for city in stream.items("cities[*]", City):
        assert_type(city, City)
    cities = stream.events.pipe(ox.ops.items("cities[*]", City))
    assert_type(cities, Observable[City])
