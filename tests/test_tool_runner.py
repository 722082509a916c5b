"""The tool runner on the mock server: tools start the moment their arguments close (before
the model has finished the later calls), run concurrently, their results go back, and the loop
ends with the model's answer; errors, timeouts, approval, rounds and cancellation.

Ordering is read from clocks, never bounded by them: the server stamps each chunk with its
send time (``Scenario.tool_calls(stamp=True)``: ``x_stamp``, ``time.monotonic_ns``), the tools
record theirs on the same clock, and the last call's early start is shown while the server
holds the stream before its finish chunk.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from typing import Any

import msgspec
import pytest
from support import ROOT, other_tasks, tasks_left, wait_until

import oxide_rx as ox
from oxide_rx.testing import Fault, MockServer, Scenario

CITIES = ["Paris", "Tokyo", "Lima"]
CALLS = [("get_weather", {"city": city, "note": "x" * 24}) for city in CITIES]
ASK = [{"role": "user", "content": "Weather in Paris, Tokyo and Lima?"}]


def frames_before_finish(calls: list[tuple[str, dict[str, Any]]]) -> int:
    """How many chunks the mock's chat answer sends before its finish chunk: the role chunk,
    then per call a header and the arguments in 4-character pieces."""
    return 1 + sum(1 + -(-len(json.dumps(a, separators=(",", ":"))) // 4) for _, a in calls)


class Recorder:
    """Slow async tools that record when they start and end, on the server's clock."""

    def __init__(self, expected: int) -> None:
        self.started: dict[str, int] = {}
        self.ended: dict[str, int] = {}
        self.expected = expected
        self.all_started = asyncio.Event()
        self.cancelled: list[str] = []

    async def get_weather(self, city: str, note: str) -> str:
        """The weather in a city.

        Args:
            city: The city.
            note: Anything.
        """
        self.started[city] = time.monotonic_ns()
        if len(self.started) == self.expected:
            self.all_started.set()
        try:
            # Every tool waits until all have started: they can only all finish if they ran
            # at the same time (one at a time, the first would time out here).
            await asyncio.wait_for(self.all_started.wait(), 10)
        except asyncio.CancelledError:
            self.cancelled.append(city)
            raise
        self.ended[city] = time.monotonic_ns()
        return f"18 °C in {city}"


def stamp_of(event: ox.Chunk) -> int:
    return int(msgspec.json.decode(event.raw or b"{}")["x_stamp"])


async def test_tools_start_as_their_arguments_close_and_overlap(
    client: ox.OpenAI, server: MockServer
) -> None:
    hold = frames_before_finish(CALLS)
    server.enqueue(
        Scenario.tool_use(CALLS, stamp=True, fault=Fault.pace(0.02) | Fault.hold_after(hold)),
        Scenario.tool_use(CALLS))
    tools = Recorder(len(CALLS))
    run = client.chat.completions.run_tools(model="m", messages=ASK,
                                            tools=[ox.tool(tools.get_weather)])
    events: list[Any] = []
    run.on(object, events.append)
    run.start()

    # Held before the finish chunk: the last call is not done for the stream yet...
    await server.wait_for_held(1, timeout=10)
    await wait_until(lambda: "Lima" in tools.started, what="the last tool started")
    assert server.held == 1
    assert not [e for e in events if isinstance(e, ox.ToolCallDone) and e.index == 2]
    server.release_held()  # ...but its tool already runs.
    completion = await asyncio.wait_for(run.final_completion(), 20)

    # The model's final answer, built by the mock from the results it received.
    assert completion.choices[0].message.content == (
        "From the tools: 18 °C in Paris; 18 °C in Tokyo; 18 °C in Lima")
    # Each tool started before the server sent the last argument piece of the next call.
    last_piece: dict[int, int] = {}
    for event in events:
        if isinstance(event, ox.Chunk) and event.chunk.choices:
            fragments = event.chunk.choices[0].delta.tool_calls or []
            for fragment in fragments:
                if fragment.function and fragment.function.arguments:
                    last_piece[fragment.index] = stamp_of(event)
    for index, city in enumerate(CITIES[:-1]):
        assert tools.started[city] < last_piece[index + 1]
    # They overlapped: every tool started before any ended.
    assert max(tools.started.values()) < min(tools.ended.values())
    started = [e for e in events if isinstance(e, ox.ToolStarted)]
    assert [(e.name, e.parsed_arguments["city"], e.early) for e in started] == [
        ("get_weather", city, True) for city in CITIES]
    assert [e.status for e in events if isinstance(e, ox.ToolResult)] == ["ok"] * 3
    # Both rounds' events on the one stream of events.
    assert [e.finish_reason for e in events if isinstance(e, ox.Done)] == ["tool_calls", "stop"]


async def test_responses_run_starts_tools_before_the_later_calls_are_streamed(
    client: ox.OpenAI, server: MockServer
) -> None:
    server.enqueue(Scenario.tool_use(CALLS, stamp=True, fault=Fault.pace(0.02)),
                   Scenario.tool_use(CALLS))
    tools = Recorder(len(CALLS))
    run = client.responses.run_tools(model="m", input="Weather?",
                                     tools=[ox.tool(tools.get_weather)])
    stamps: dict[int, int] = {}  # output index -> send time of its last arguments delta
    run.on(ox.types.responses.FunctionCallArgumentsDelta,
           lambda e: stamps.__setitem__(e.output_index, msgspec.json.decode(e.raw)["x_stamp"]))
    response = await asyncio.wait_for(run.final_response(), 20)
    assert response.output_text.startswith("From the tools: 18 °C in Paris")
    for index, city in enumerate(CITIES[:-1]):
        assert tools.started[city] < stamps[index + 1]
    assert max(tools.started.values()) < min(tools.ended.values())
    second = server.model_requests("/responses")[1].json
    assert second["previous_response_id"] == run.answers[0].id
    assert [item["type"] for item in second["input"]] == ["function_call_output"] * 3


async def test_cancelling_the_run_cancels_the_tools_and_the_request(
    client: ox.OpenAI, server: MockServer
) -> None:
    before = other_tasks()
    server.enqueue(Scenario.tool_use(CALLS, fault=Fault.hold_after(frames_before_finish(CALLS))))
    tools = Recorder(len(CALLS) + 1)  # never all started: every tool waits
    run = client.chat.completions.run_tools(model="m", messages=ASK,
                                            tools=[ox.tool(tools.get_weather)])
    run.start()
    await server.wait_for_held(1, timeout=10)
    await wait_until(lambda: len(tools.started) == 3, what="three tools running")
    await run.aclose()
    assert sorted(tools.cancelled) == sorted(CITIES)
    with pytest.raises(ox.ToolRunError) as caught:
        await run.until_done()
    assert caught.value.partial is not None  # the completion so far
    assert await tasks_left(before) == set()
    await server.wait_for_open_connections(0)


async def test_leaving_the_loop_early_stops_the_run(client: ox.OpenAI, server: MockServer) -> None:
    before = other_tasks()
    server.enqueue(Scenario.tool_use(CALLS, fault=Fault.hold_after(frames_before_finish(CALLS))))
    tools = Recorder(len(CALLS) + 1)
    run = client.chat.completions.run_tools(model="m", messages=ASK,
                                            tools=[ox.tool(tools.get_weather)])

    async def consume() -> None:
        async for event in run:
            if isinstance(event, ox.ToolStarted) and event.index == 2:
                return

    await asyncio.wait_for(consume(), 10)
    await wait_until(lambda: run.finished, what="the run ended")
    assert sorted(tools.cancelled) == sorted(CITIES)
    assert await tasks_left(before) == set()
    await server.wait_for_open_connections(0)


async def test_a_tool_that_raises_is_reported_to_the_model(client: ox.OpenAI,
                                                           server: MockServer) -> None:
    def divide(a: float, b: float) -> float:
        return a / b

    server.enqueue(Scenario.tool_use([("divide", {"a": 1, "b": 0})]),
                   Scenario.tool_use([("divide", {"a": 1, "b": 0})]))
    run = client.chat.completions.run_tools(model="m", messages=ASK, tools=[divide])
    results = []
    run.on(ox.ToolResult, results.append)
    await asyncio.wait_for(run.final_completion(), 10)
    assert [(r.status, r.error) for r in results] == [
        ("error", "ZeroDivisionError: float division by zero")]
    tool_message = server.model_requests()[-1].json["messages"][-1]
    assert tool_message["content"] == "Error: ZeroDivisionError: float division by zero"


async def test_a_tool_that_raises_can_stop_the_run(client: ox.OpenAI, server: MockServer) -> None:
    def explode(reason: str) -> str:
        raise RuntimeError(reason)

    server.enqueue(Scenario.tool_use([("explode", {"reason": "boom"})]))
    run = client.chat.completions.run_tools(model="m", messages=ASK, tools=[explode],
                                            on_tool_error="raise")
    with pytest.raises(ox.ToolRunError) as caught:
        await asyncio.wait_for(run.final_completion(), 10)
    assert isinstance(caught.value.__cause__, RuntimeError)
    assert (caught.value.tool, caught.value.round) == ("explode", 1)
    assert len(server.model_requests()) == 1


async def test_timeouts_invalid_arguments_and_unknown_tools_become_error_results(
    client: ox.OpenAI, server: MockServer
) -> None:
    async def slow(seconds: float) -> str:
        await asyncio.sleep(seconds)
        return "done"

    calls = [("slow", {"seconds": 30}), ("slow", '{"seconds": "long"}'), ("nope", {})]
    server.enqueue(Scenario.tool_use(calls), Scenario.tool_use(calls))
    run = client.chat.completions.run_tools(model="m", messages=ASK, tools=[slow],
                                            tool_timeout=0.05)
    completion = await asyncio.wait_for(run.final_completion(), 10)
    results = run.results  # in the order of the calls (the events: in the order they end)
    assert [r.status for r in results] == ["timeout", "error", "error"]
    assert "invalid arguments" in (results[1].error or "")
    assert results[2].error == "there is no tool named 'nope'"
    assert (completion.choices[0].message.content or "").startswith("From the tools: Error:")


async def test_approval_and_sync_tools_off_the_loop(client: ox.OpenAI, server: MockServer) -> None:
    threads: list[int] = []

    def delete_file(path: str) -> str:
        threads.append(threading.get_ident())
        return f"deleted {path}"

    async def approve(name: str, arguments: dict[str, Any]) -> bool:
        return bool(arguments["path"].startswith("/tmp/"))

    calls = [("delete_file", {"path": "/tmp/a"}), ("delete_file", {"path": "/etc/passwd"})]
    server.enqueue(Scenario.tool_use(calls), Scenario.tool_use(calls))
    run = client.chat.completions.run_tools(model="m", messages=ASK, tools=[delete_file],
                                            approve=approve)
    await asyncio.wait_for(run.final_completion(), 10)
    assert [(r.status, r.output) for r in run.results] == [
        ("ok", "deleted /tmp/a"), ("denied", "The user did not approve this call.")]
    assert threads and threading.get_ident() not in threads


class Point(msgspec.Struct):
    x: float
    y: float


async def test_typed_arguments_and_results(client: ox.OpenAI, server: MockServer) -> None:
    def norm(point: Point, scale: int = 1) -> dict[str, float]:
        return {"norm": scale * (point.x**2 + point.y**2) ** 0.5}

    server.enqueue(Scenario.tool_use([("norm", {"point": {"x": 3, "y": 4}, "scale": 2})]),
                   Scenario.tool_use([("norm", {})]))
    run = client.chat.completions.run_tools(model="m", messages=ASK, tools=[norm])
    started: list[ox.ToolStarted] = []
    run.on(ox.ToolStarted, started.append)
    await asyncio.wait_for(run.final_completion(), 10)
    assert started[0].parsed_arguments == {"point": Point(3.0, 4.0), "scale": 2}
    assert run.results[0].output == '{"norm":10.0}'
    sent = server.model_requests()[0].json["tools"][0]["function"]
    assert sent["strict"] is True and sent["parameters"]["required"] == ["point", "scale"]


async def test_max_rounds_stops_a_model_that_keeps_calling_tools(
    client: ox.OpenAI, server: MockServer
) -> None:
    ran: list[int] = []

    def ping(n: int) -> int:
        ran.append(n)
        return n

    server.enqueue(*[Scenario.tool_calls([("ping", {"n": i})]) for i in range(3)])
    run = client.chat.completions.run_tools(model="m", messages=ASK, tools=[ping], max_rounds=2)
    with pytest.raises(ox.ToolRunError, match="max_rounds=2") as caught:
        await asyncio.wait_for(run.final_completion(), 10)
    assert ran == [0]  # the last round runs no tool: its result could not be sent
    assert len(server.model_requests()) == 2
    assert caught.value.partial.choices[0].finish_reason == "tool_calls"


async def test_responses_without_storage_send_the_conversation(
    client: ox.OpenAI, server: MockServer
) -> None:
    def add(a: int, b: int) -> int:
        return a + b

    server.enqueue(Scenario.tool_use([("add", {"a": 1, "b": 2})]),
                   Scenario.tool_use([("add", {"a": 1, "b": 2})]))
    run = client.responses.run_tools(model="m", input="1+2?", tools=[add], store=False)
    response = await asyncio.wait_for(run.final_response(), 10)
    assert response.output_text == "From the tools: 3"
    second = server.model_requests("/responses")[1].json
    assert "previous_response_id" not in second
    assert [item.get("type", item.get("role")) for item in second["input"]] == [
        "user", "function_call", "function_call_output"]


async def test_an_approval_hook_that_raises_stops_the_run(client: ox.OpenAI,
                                                          server: MockServer) -> None:
    def act(what: str) -> str:
        return what

    def approve(name: str, arguments: dict[str, Any]) -> bool:
        raise PermissionError("no approver")

    server.enqueue(Scenario.tool_use([("act", {"what": "x"})]))
    run = client.chat.completions.run_tools(model="m", messages=ASK, tools=[act],
                                            approve=approve)
    with pytest.raises(ox.ToolRunError) as caught:
        await asyncio.wait_for(run.final_completion(), 10)
    assert isinstance(caught.value.__cause__, PermissionError)
    assert not [e for e in run.results if e.status == "ok"]


@pytest.mark.parametrize(("fixture", "expected"), [
    ("ollama-parallel-calls-index-0", [("call_h6w8v2kq", "SF"), ("call_p3m1z9xc", "Tokyo")]),
    ("litellm-calls-without-index", [("call_f00d", "search: oxide rx"), ("call_beef", "page 1")]),
])
async def test_calls_numbered_as_compatible_servers_number_them_all_run(
    client: ox.OpenAI, server: MockServer, fixture: str, expected: list[tuple[str, str]]
) -> None:
    # Ollama sends every call whole at index 0, LiteLLM without an index: each is its own
    # call (the accumulator's rules), so each runs once and each result answers its id.
    def get_weather(city: str) -> str:
        return city

    def search(query: str) -> str:
        return f"search: {query}"

    def open_page(n: int) -> str:
        return f"page {n}"

    server.enqueue(Scenario.replay(ROOT / "tests" / "fixtures" / "compatible" / f"{fixture}.sse"),
                   Scenario.text("Done."))
    run = client.chat.completions.run_tools(model="m", messages=ASK,
                                            tools=[get_weather, search, open_page])
    completion = await asyncio.wait_for(run.final_completion(), 10)
    assert completion.choices[0].message.content == "Done."
    assert [(r.call_id, r.output) for r in run.results] == expected
    sent = server.model_requests()[1].json["messages"][-len(expected):]
    assert [(m["tool_call_id"], m["content"]) for m in sent] == expected


# --- on a WebSocket session ----------------------------------------------------------------------


def events_before_last_arguments_done(calls: list[tuple[str, dict[str, Any]]]) -> int:
    """How many events the mock's Responses answer sends before the last call's
    ``function_call_arguments.done``: created, in_progress, then per call the item added, the
    arguments in 4-character pieces, their done and the item done."""
    pieces = [-(-len(json.dumps(a, separators=(",", ":"))) // 4) for _, a in calls]
    return 2 + sum(3 + n for n in pieces) - 2


async def test_a_websocket_session_runs_tools_early_and_chains_the_rounds(
    client: ox.OpenAI, server: MockServer
) -> None:
    hold = events_before_last_arguments_done(CALLS)
    server.enqueue(
        Scenario.tool_use(CALLS, stamp=True, fault=Fault.pace(0.02) | Fault.hold_after(hold)),
        Scenario.tool_use(CALLS), Scenario.text("Pack an umbrella."))
    tools = Recorder(len(CALLS))
    async with await client.responses.connect(defaults={"model": "m"}) as session:
        run = session.run_tools(input="Weather?", tools=[ox.tool(tools.get_weather)])
        stamps: dict[int, int] = {}  # output index -> send time of its last arguments delta
        run.on(ox.types.responses.FunctionCallArgumentsDelta,
               lambda e: stamps.__setitem__(e.output_index,
                                            msgspec.json.decode(e.raw)["x_stamp"]))
        done: list[ox.ToolCallDone] = []
        run.on(ox.ToolCallDone, done.append)
        run.start()
        # Held before the last call's arguments.done: its tool runs already.
        await server.wait_for_held(1, timeout=10)
        await wait_until(lambda: "Lima" in tools.started, what="the last tool started")
        assert server.held == 1 and [e.index for e in done] == [0, 1]
        server.release_held()
        response = await asyncio.wait_for(run.final_response(), 20)
        assert response.output_text == (
            "From the tools: 18 °C in Paris; 18 °C in Tokyo; 18 °C in Lima")
        for index, city in enumerate(CITIES[:-1]):
            assert tools.started[city] < stamps[index + 1]
        assert max(tools.started.values()) < min(tools.ended.values())
        # The lane chained the rounds: the second sends only the results...
        second = server.websocket_messages[1].json
        assert second["previous_response_id"] == run.answers[0].id
        assert [item["type"] for item in second["input"]] == ["function_call_output"] * 3
        # ...and the session goes on after the run, from its answer.
        after = await session.create_stream(input="So, an umbrella?")
        assert (await asyncio.wait_for(after.final_response(), 5)).output_text == (
            "Pack an umbrella.")
    assert server.websocket_messages[2].json["previous_response_id"] == response.id
    assert server.websocket_upgrades == 1  # every round on the one connection


async def test_cancelling_a_websocket_run_cancels_its_tools_and_response(
    client: ox.OpenAI, server: MockServer
) -> None:
    server.enqueue(Scenario.tool_use(CALLS, fault=Fault.hold_after(
        events_before_last_arguments_done(CALLS))))
    tools = Recorder(len(CALLS) + 1)  # never all started: every tool waits
    async with await client.responses.connect(defaults={"model": "m"}) as session:
        before = other_tasks()
        run = session.run_tools(input="Weather?", tools=[ox.tool(tools.get_weather)])
        run.start()
        await server.wait_for_held(1, timeout=10)
        await wait_until(lambda: len(tools.started) == 3, what="three tools running")
        await run.aclose()
        assert sorted(tools.cancelled) == sorted(CITIES)
        # The only response in flight was aborted: the connection closed with it.
        await server.wait_for_open_connections(0)
        assert await tasks_left(before) == set()


async def test_a_websocket_run_without_storage_sends_only_the_results(
    client: ox.OpenAI, server: MockServer
) -> None:
    # Over HTTP, store=False sends the whole conversation each round; on a session the
    # connection keeps the unstored response, so the lane sends only the results.
    def add(a: int, b: int) -> int:
        return a + b

    server.enqueue(Scenario.tool_use([("add", {"a": 1, "b": 2})]),
                   Scenario.tool_use([("add", {"a": 1, "b": 2})]))
    async with await client.responses.connect(defaults={"model": "m"}) as session:
        run = session.run_tools(input="1+2?", tools=[add], store=False)
        response = await asyncio.wait_for(run.final_response(), 10)
        assert response.output_text == "From the tools: 3"
        assert [item.get("type", item.get("role")) for item in session.items] == [
            "user", "function_call", "function_call_output", "message"]
    second = server.websocket_messages[1].json
    assert second["previous_response_id"] == run.answers[0].id
    assert [item["type"] for item in second["input"]] == ["function_call_output"]
