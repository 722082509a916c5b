"""Final parsed values equal the official ``openai`` package's, on the recorded corpus.

Each recording is replayed by the mock server twice over a real socket: once to oxide_rx's
``create_stream`` (``response_format`` / ``tool_types``), once to the official
``AsyncOpenAI``'s ``.stream()`` helper with the same types (its parse helpers run inside it).
``ContentDone.parsed`` and ``ToolCallDone.parsed_arguments`` must equal the official
``message.parsed`` and ``parsed_arguments``; the last partial value of each document equals
the final one too.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

import msgspec
import openai
import pydantic
import pytest
from support import CORPUS, corpus_files, needs_shared
from test_chat_corpus_sansio import GetWeatherArgs, Location, NodeLocation

import oxide_rx as ox
from oxide_rx.testing import MockServer, Scenario

pytestmark = needs_shared


class OfficialLocation(pydantic.BaseModel):
    city: str
    temperature: float
    units: Literal["c", "f"]


class OfficialNodeLocation(pydantic.BaseModel):
    city: str
    units: Literal["c", "f"]


FORMATS: dict[str, tuple[type, type[pydantic.BaseModel]]] = {
    "chat-structured-json-schema": (Location, OfficialLocation),
    "chat-structured-n3": (Location, OfficialLocation),
    "chat-refusal-structured": (Location, OfficialLocation),
    "chat-structured-usage-node": (NodeLocation, OfficialNodeLocation),
}
CHAT_FILES = sorted({*FORMATS, *(p.stem for p in corpus_files("chat-tool-call"))})
RESPONSE_FILES = [p.stem for p in corpus_files("responses-") if "function-call" in p.stem]


def plain(value: Any) -> Any:
    if isinstance(value, pydantic.BaseModel):
        return value.model_dump()
    return msgspec.to_builtins(value)


def tool_names(name: str) -> set[str]:
    """The function names called in a recording (read from its frames)."""
    names = set()
    for line in (CORPUS / f"{name}.sse").read_text().splitlines():
        if line.startswith("data:") and '"name"' in line:
            for match in line.split('"name":')[1:]:
                names.add(json.loads(match.split(",")[0].rstrip("}] ")))
    return names


def strict_tool(name: str) -> dict[str, Any]:
    return {"type": "function", "function": {
        "name": name, "strict": True,
        "parameters": {"type": "object", "properties": {}, "additionalProperties": True}}}


@pytest.mark.parametrize("name", CHAT_FILES)
async def test_chat_parsed_values_equal_the_official_ones(name: str, server: MockServer,
                                                          client: ox.OpenAI) -> None:
    ours_format, official_format = FORMATS.get(name, (None, None))
    typed = {"GetWeatherArgs": GetWeatherArgs} if "pydantic" in name else {}
    official_tools: list[Any] = [
        openai.pydantic_function_tool(GetWeatherArgs) if tool in typed else strict_tool(tool)
        for tool in sorted(tool_names(name))
    ]
    server.enqueue(Scenario.replay(CORPUS / f"{name}.sse"), Scenario.replay(CORPUS / f"{name}.sse"))

    extra: dict[str, Any] = {} if ours_format is None else {"response_format": ours_format}
    stream = await client.chat.completions.create_stream(
        model="m", messages=[{"role": "user", "content": "x"}], tool_types=typed, **extra)
    events = [event async for event in stream]

    official = openai.AsyncOpenAI(api_key="test", base_url=server.base_url, max_retries=0)
    async with official:
        kwargs: dict[str, Any] = {"tools": official_tools} if official_tools else {}
        if official_format is not None:
            kwargs["response_format"] = official_format
        async with official.chat.completions.stream(
            model="m", messages=[{"role": "user", "content": "x"}], **kwargs
        ) as official_stream:
            completion = await official_stream.get_final_completion()

    contents = {e.choice: e for e in events if isinstance(e, ox.ContentDone)}
    calls = {(e.choice, e.index): e for e in events if isinstance(e, ox.ToolCallDone)}
    deltas = {(e.choice, e.index): e for e in events if isinstance(e, ox.ToolCallDelta)}
    checked = 0
    for choice in completion.choices:
        message = choice.message
        if official_format is not None:
            ours = contents[choice.index].parsed if choice.index in contents else None
            assert plain(ours) == plain(message.parsed)
            checked += message.parsed is not None
        for index, call in enumerate(message.tool_calls or []):
            ours_call = calls[choice.index, index]
            assert plain(ours_call.parsed_arguments) == plain(call.function.parsed_arguments)
            last = deltas[choice.index, index].parsed_arguments
            assert plain(last) == json.loads(call.function.arguments)
            checked += 1
    assert checked or name == "chat-refusal-structured"


@pytest.mark.parametrize("name", RESPONSE_FILES)
async def test_responses_parsed_arguments_equal_the_official_ones(
    name: str, server: MockServer, client: ox.OpenAI
) -> None:
    tools = [{**strict_tool(tool)["function"], "type": "function"}
             for tool in sorted(tool_names(name))]
    server.enqueue(Scenario.replay(CORPUS / f"{name}.sse"), Scenario.replay(CORPUS / f"{name}.sse"))
    stream = await client.responses.create_stream(model="m", input="x")
    events = [event async for event in stream]

    official = openai.AsyncOpenAI(api_key="test", base_url=server.base_url, max_retries=0)
    async with official, official.responses.stream(model="m", input="x", tools=tools) as helper:
        response = await helper.get_final_response()

    calls = [item for item in response.output if item.type == "function_call"]
    ours = {e.call_id: e for e in events if isinstance(e, ox.ToolCallDone)}
    assert calls and len(ours) == len(calls)
    for call in calls:
        assert ours[call.call_id].parsed_arguments == call.parsed_arguments
        last = [e for e in events if isinstance(e, ox.ToolCallDelta) and e.call_id == call.call_id]
        if last:  # a legacy recording may carry the arguments on the done event only
            assert last[-1].parsed_arguments == call.parsed_arguments


def test_the_corpus_has_what_these_tests_compare() -> None:
    assert {"chat-tool-call-pydantic", "chat-structured-json-schema"} <= set(CHAT_FILES)
    assert RESPONSE_FILES
    assert all(Path(CORPUS / f"{name}.sse").exists() for name in FORMATS)
