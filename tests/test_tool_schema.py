"""Tools from functions and structured-output schemas: one generator, strict as the API wants,
valid JSON Schema that accepts the examples; arguments come back as the parameters' types."""

from __future__ import annotations

import dataclasses
import enum
import json
from typing import Any, Literal, Optional, TypedDict

import jsonschema
import msgspec
import pydantic
import pytest
from openai.lib._pydantic import to_strict_json_schema

import oxide_rx as ox
from oxide_rx._core.schema import strict_schema
from oxide_rx.testing import MockServer, Scenario


class Unit(enum.Enum):
    CELSIUS = "c"
    FAHRENHEIT = "f"


class Place(msgspec.Struct):
    city: str
    country: str | None = None


@dataclasses.dataclass
class Window:
    days: int
    hourly: bool = False


class Options(TypedDict):
    language: str


class Query(pydantic.BaseModel):
    """A search query."""

    text: str = pydantic.Field(description="What to look for")
    limit: int | None = None
    tags: list[str] = []


def forecast(
    place: Place,
    window: Window,
    unit: Unit,
    options: Options,
    detail: Literal["short", "long"] = "short",
    note: Optional[str] = None,  # noqa: UP045 - Optional is one of the supported spellings
    scores: list[float] | None = None,
) -> str:
    """Forecast the weather.

    Several days at once.

    Args:
        place: Where.
        window (Window): How long,
            in days.
        unit: Which unit.

    Returns:
        The forecast.
    """
    return f"{place.city}: {window.days} days in {unit.value}"


def search(query: Query, pages: int = 1) -> list[str]:
    """Search the web.

    :param query: the query
    :param pages: how many pages
    :returns: the results
    """
    return [query.text] * pages


def describe(x: int, y: dict[str, list[int]]) -> None:
    """Numpy style.

    Parameters
    ----------
    x : int
        The x.
    y
        The y map.
    """


FORECAST_EXAMPLE = {
    "place": {"city": "Oslo", "country": None},
    "window": {"days": 3, "hourly": True},
    "unit": "c",
    "options": {"language": "nb"},
    "detail": "long",
    "note": None,
    "scores": [1.5, 2.0],
}


def assert_strict(node: Any, root: dict[str, Any]) -> None:
    """What the API's strict mode asks of every object, all the way down."""
    if isinstance(node, dict):
        if node.get("type") == "object":
            assert node["additionalProperties"] is False
            assert node["required"] == list(node.get("properties", {}))
        if "$ref" in node:
            assert len(node) == 1, node  # no $ref beside other keywords
        for value in node.values():
            assert_strict(value, root)
    elif isinstance(node, list):
        for value in node:
            assert_strict(value, root)


def validator(schema: dict[str, Any]) -> jsonschema.Draft202012Validator:
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def test_a_tool_from_a_function_is_strict_and_valid() -> None:
    tool = ox.tool(forecast)
    schema = tool.parameters
    assert_strict(schema, schema)
    check = validator(schema)
    check.validate(FORECAST_EXAMPLE)
    assert list(check.iter_errors({**FORECAST_EXAMPLE, "extra": 1}))  # additionalProperties
    assert list(check.iter_errors({k: v for k, v in FORECAST_EXAMPLE.items() if k != "note"}))
    assert list(check.iter_errors({**FORECAST_EXAMPLE, "unit": "k"}))
    properties = schema["properties"]
    assert properties["note"] == {"anyOf": [{"type": "string"}, {"type": "null"}]}
    assert sorted(properties["detail"]["enum"]) == ["long", "short"]
    assert properties["window"]["description"] == "How long, in days."
    assert properties["place"]["description"] == "Where."
    assert "$defs" in schema and "Window" in schema["$defs"]
    assert tool.description == "Forecast the weather.\n\nSeveral days at once."


def test_arguments_arrive_as_the_parameters_types() -> None:
    keywords = ox.tool(forecast).parse_arguments(json.dumps(FORECAST_EXAMPLE))
    assert keywords == {
        "place": Place("Oslo"), "window": Window(3, True), "unit": Unit.CELSIUS,
        "options": {"language": "nb"}, "detail": "long", "note": None, "scores": [1.5, 2.0]}
    assert forecast(**keywords) == "Oslo: 3 days in c"
    with pytest.raises(ox.DecodeError, match="unit"):
        ox.tool(forecast).parse_arguments(json.dumps({**FORECAST_EXAMPLE, "unit": "k"}))


def test_a_tool_with_a_pydantic_model_uses_pydantic() -> None:
    tool = ox.tool(search)
    assert_strict(tool.parameters, tool.parameters)
    check = validator(tool.parameters)
    check.validate({"query": {"text": "rust", "limit": None, "tags": []}, "pages": 2})
    keywords = tool.parse_arguments('{"query": {"text": "rust", "limit": 3, "tags": []}, '
                                    '"pages": 2}')
    assert keywords == {"query": Query(text="rust", limit=3), "pages": 2}
    assert tool.parameters["properties"]["pages"]["description"] == "how many pages"
    assert tool.description == "Search the web."


def test_numpy_docstrings() -> None:
    tool = ox.tool(describe)
    assert tool.description == "Numpy style."
    assert tool.parameters["properties"]["x"]["description"] == "The x."
    assert tool.parameters["properties"]["y"]["description"] == "The y map."


def test_decorator_form_and_request_entries() -> None:
    @ox.tool(name="weather", description="Say the weather.")
    def get_weather(city: str) -> str:
        return city

    assert get_weather("Oslo") == "Oslo"
    assert get_weather.chat_param() == {"type": "function", "function": {
        "name": "weather", "description": "Say the weather.", "strict": True,
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}},
                       "required": ["city"], "additionalProperties": False}}}
    assert get_weather.responses_param()["name"] == "weather"


@pytest.mark.parametrize("bad", [
    lambda *cities: None,
    lambda **options: None,
    lambda city: None,
])
def test_signatures_a_tool_cannot_have_are_refused(bad: Any) -> None:
    with pytest.raises(TypeError, match="tool"):
        ox.tool(bad)


def test_mixing_pydantic_and_structs_is_refused() -> None:
    def mixed(place: Place, query: Query) -> None: ...

    with pytest.raises(TypeError, match="mixes pydantic models and msgspec Structs"):
        ox.tool(mixed)


# --- structured outputs: the same generator ------------------------------------------------------


class Report(msgspec.Struct):
    title: str
    places: list[Place]
    unit: Unit
    window: Window | None = None


class PydanticReport(pydantic.BaseModel):
    title: str
    queries: list[Query]
    level: Literal["low", "high"] = "low"
    note: str | None = None


@pytest.mark.parametrize(("target", "example"), [
    (Report, Report("t", [Place("Oslo")], Unit.CELSIUS, Window(2))),
    (PydanticReport, PydanticReport(title="t", queries=[Query(text="x")])),
    (Window, Window(1)),
])
def test_structured_output_schemas_are_strict_and_accept_examples(target: Any,
                                                                   example: Any) -> None:
    schema = strict_schema(target)
    assert_strict(schema, schema)
    plain = example.model_dump() if isinstance(example, pydantic.BaseModel) else (
        msgspec.to_builtins(example))
    validator(schema).validate(plain)


def test_a_pydantic_schema_is_the_official_packages() -> None:
    assert strict_schema(PydanticReport) == to_strict_json_schema(PydanticReport)
    assert strict_schema(Query) == to_strict_json_schema(Query)


async def test_tools_in_create_stream_parse_into_their_types(client: ox.OpenAI,
                                                             server: MockServer) -> None:
    server.enqueue(Scenario.tool_calls([("forecast", FORECAST_EXAMPLE)]))
    stream = await client.chat.completions.create_stream(
        model="m", messages=[], tools=[ox.tool(forecast)])
    events = [e async for e in stream]
    done = next(e for e in events if isinstance(e, ox.ToolCallDone))
    assert done.parsed_arguments.place == Place("Oslo")
    last = [e for e in events if isinstance(e, ox.ToolCallDelta)][-1]
    assert type(last.parsed_arguments).__name__ == "PartialForecastArguments"
    assert last.parsed_arguments.unit is Unit.CELSIUS
    sent = server.model_requests()[0].json["tools"]
    assert sent == [ox.tool(forecast).chat_param()]


async def test_tools_on_a_websocket_session_parse_into_their_types(client: ox.OpenAI,
                                                                   server: MockServer) -> None:
    server.enqueue(Scenario.tool_calls([("forecast", FORECAST_EXAMPLE)]))
    async with await client.responses.connect() as session:
        stream = await session.create_stream(model="m", input="Oslo?",
                                             tools=[ox.tool(forecast)])
        events = [e async for e in stream]
    done = next(e for e in events if isinstance(e, ox.ToolCallDone))
    assert done.parsed_arguments.place == Place("Oslo")
    last = [e for e in events if isinstance(e, ox.ToolCallDelta)][-1]
    assert last.parsed_arguments.unit is Unit.CELSIUS
    assert server.websocket_messages[0].json["tools"] == [ox.tool(forecast).responses_param()]
