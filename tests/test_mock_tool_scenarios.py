"""The mock server's scenarios for tools and structured outputs: a model that calls tools and
answers once it has their results, JSON answers, refusals, and send-time stamps."""

from __future__ import annotations

import json
import time

import msgspec

import oxide_rx as ox
from oxide_rx.testing import MockServer, Scenario

ASK = [{"role": "user", "content": "weather?"}]


async def test_tool_use_answers_from_the_results_it_receives(client: ox.OpenAI,
                                                             server: MockServer) -> None:
    headers = {"X-Mock-Scenario": "tool_use"}
    stream = await client.chat.completions.create_stream(model="m", messages=ASK,
                                                         extra_headers=headers)
    completion = await stream.final_completion()
    calls = completion.choices[0].message.tool_calls or []
    assert [json.loads(c.function.arguments)["city"] for c in calls] == ["Paris", "Tokyo"]
    messages = [*ASK, {"role": "assistant", "tool_calls": [msgspec.to_builtins(c) for c in calls]},
                *({"role": "tool", "tool_call_id": c.id, "content": f"sunny {i}"}
                  for i, c in enumerate(calls))]
    answer = await client.chat.completions.create(model="m", messages=messages,
                                                  extra_headers=headers)
    assert answer.choices[0].message.content == "From the tools: sunny 0; sunny 1"


async def test_tool_use_on_the_responses_api_and_its_websocket(client: ox.OpenAI,
                                                               server: MockServer) -> None:
    scenario = Scenario.tool_use([("add", {"a": 1, "b": 2})], answer="three")
    server.enqueue(scenario, scenario)
    async with await client.responses.connect() as connection:
        stream = await connection.create_stream(model="m", input="1+2?")
        calls = [e async for e in stream if isinstance(e, ox.ToolCallDone)]
        assert [(c.name, c.parsed_arguments) for c in calls] == [("add", {"a": 1, "b": 2})]
        outputs = [{"type": "function_call_output", "call_id": calls[0].call_id, "output": "3"}]
        stream = await connection.create_stream(model="m", input=outputs)
        assert (await stream.final_response()).output_text == "three"


async def test_structured_answers_and_refusals(client: ox.OpenAI, server: MockServer) -> None:
    document = {"items": [{"n": 1}, {"n": 2}], "done": True}
    headers = {"X-Mock-Scenario": "structured:" + json.dumps(document)}
    stream = await client.chat.completions.create_stream(model="m", messages=ASK,
                                                         extra_headers=headers)
    assert json.loads((await stream.final_completion()).choices[0].message.content or "") == (
        document)
    stream = await client.responses.create_stream(
        model="m", input="x", extra_headers={"X-Mock-Scenario": "structured"})
    assert "cities" in json.loads((await stream.final_response()).output_text)
    server.enqueue(Scenario.refusal("No."))
    stream = await client.chat.completions.create_stream(model="m", messages=ASK)
    events = [e async for e in stream]
    assert [e.refusal for e in events if isinstance(e, ox.RefusalDone)] == ["No."]
    assert not [e for e in events if isinstance(e, ox.ContentDone)]


async def test_stamped_tool_calls_carry_their_send_time(client: ox.OpenAI,
                                                        server: MockServer) -> None:
    server.enqueue(Scenario.tool_calls([("f", {"x": 1})], stamp=True))
    before = time.monotonic_ns()
    stream = await client.chat.completions.create_stream(model="m", messages=ASK)
    stamps = [msgspec.json.decode(e.raw or b"")["x_stamp"] async for e in stream
              if isinstance(e, ox.Chunk)]
    assert stamps and before <= stamps[0] and stamps == sorted(stamps)
    assert stamps[-1] <= time.monotonic_ns()
