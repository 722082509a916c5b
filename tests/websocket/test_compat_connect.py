"""``oxide_rx.compat``'s ``client.responses.connect()`` against the official package's: each
program below runs twice against one mock server, once with ``openai`` and once with
``oxide_rx.compat`` in its place, and both runs must print the same (ids and timestamps the
mock makes up are masked): the official event classes, every field, in the same order."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable, Iterator
from types import ModuleType
from typing import Any

import pytest
from support import ServerThread, wait_until

from oxide_rx.testing import Fault, MockServer, Scenario

openai = pytest.importorskip("openai")
pytest.importorskip("websockets")  # the official connect() needs openai[realtime]
import oxide_rx.compat as compat  # noqa: E402

_MASKS = (
    (re.compile(r"\b(resp_|msg_|fc_|rs_|call_|req_)[A-Za-z0-9_]{6,}"), r"\1<id>"),
    (re.compile(r"\b1[6-9]\d{8}(\.0)?\b"), "<timestamp>"),
)

Program = Callable[[ModuleType, MockServer, list[str]], Awaitable[None]]


def _show(event: Any) -> str:
    text = f"{type(event).__name__} {event.model_dump_json()}"
    for pattern, replacement in _MASKS:
        text = pattern.sub(replacement, text)
    return text


async def _both(server: MockServer, program: Program, scenarios: list[Scenario]) -> list[str]:
    """Run ``program`` with each package; assert equal outputs, return one."""
    outputs = []
    for module in (openai, compat):
        server.enqueue(*scenarios)
        out: list[str] = []
        await asyncio.wait_for(program(module, server, out), 20)
        outputs.append(out)
    assert outputs[1] == outputs[0]
    return outputs[0]


async def _until_terminal(connection: Any, out: list[str]) -> None:
    async for event in connection:
        out.append(_show(event))
        if event.type in ("response.completed", "response.incomplete", "error"):
            return


async def test_create_iterate_send_recv_and_parse_are_the_official_ones(
    server: MockServer
) -> None:
    async def program(module: ModuleType, server: MockServer, out: list[str]) -> None:
        client = module.AsyncOpenAI(base_url=server.base_url, api_key="sk-test")
        async with client.responses.connect() as connection:
            await connection.response.create(model="m", input="hello", instructions="Be brief")
            await _until_terminal(connection, out)
            await connection.send({"type": "response.create", "model": "m", "input": "again"})
            while (event := await connection.recv()).type != "response.completed":
                out.append(_show(event))
            await connection.send_raw('{"type": "response.create", "model": "m"}')
            raw = await connection.recv_bytes()
            out.append(f"{type(raw).__name__} {_show(connection.parse_event(raw))}")
            await _until_terminal(connection, out)
        await client.close()

    out = await _both(server, program, [Scenario.text("Hi there."),
                                        Scenario.function_calls([("f", '{"a": 1}')]),
                                        Scenario.text("Third.")])
    assert out[0].startswith("ResponseWsCreated ") and '"instructions":"Be brief"' in out[0]
    assert any(line.startswith("bytes ResponseWsCreated") for line in out)


async def test_error_events_lanes_and_handlers_before_and_after_entering(
    server: MockServer
) -> None:
    async def program(module: ModuleType, server: MockServer, out: list[str]) -> None:
        client = module.AsyncOpenAI(base_url=server.base_url, api_key="sk-test")
        manager = client.responses.connect()
        lane = "lane-1"  # one lane: the server answers its requests in order
        manager.send({"type": "response.create", "model": "m", "input": "queued",
                      "stream_id": lane})
        manager.on("response.output_text.delta", lambda e: out.append(f"delta {e.delta}"))
        async with manager as connection:
            seen: list[str] = []

            async def on_event(event: Any) -> None:
                seen.append(event.type)
                if seen.count("response.completed") == 2:
                    await connection.close()

            connection.once("error", lambda e: out.append(_show(e)))
            connection.on("event", on_event)
            await connection.response.create(model="m", input="refused", stream_id=lane)
            await connection.response.create(model="m", input="ok", stream_id=lane)
            await connection.dispatch_events()
            out.append(" ".join(seen))
        await client.close()

    out = await _both(server, program, [Scenario.text("lane one"),
                                        Scenario.error(429, message="Slow down",
                                                       code="rate_limit"),
                                        Scenario.text("fine")])
    assert any('"stream_id":"lane-1"' in line for line in out)
    assert any(line.startswith("ResponseWsError") and "rate_limit" in line for line in out)


async def test_steering_events_are_the_official_ones(server: MockServer) -> None:
    async def program(module: ModuleType, server: MockServer, out: list[str]) -> None:
        client = module.AsyncOpenAI(base_url=server.base_url, api_key="sk-test")
        async with client.responses.connect() as connection:
            await connection.response.create(model="m", input="long story")
            first = await connection.recv()
            out.append(_show(first))
            await server.wait_for_held()
            await connection.response.steer(input="shorter",
                                            previous_response_id=first.response.id)
            for _ in range(3):  # accepted, the steered response's end, the successor's start
                out.append(_show(await connection.recv()))
            await _until_terminal(connection, out)
        await client.close()

    out = await _both(server, program, [
        Scenario.text("Once upon a time " * 5, fault=Fault.hold_after(1)),
        Scenario.text("The end.")])
    assert [line.split(" ", 1)[0] for line in out[:4]][1:] == [
        "ResponseSteerAcceptedEvent", "ResponseWsIncomplete", "ResponseWsCreated"]


async def test_on_reconnecting_reconnects_as_the_official_does(server: MockServer) -> None:
    async def program(module: ModuleType, server: MockServer, out: list[str]) -> None:
        def reconnecting(event: Any) -> None:
            out.append(f"reconnecting attempt={event.attempt}/{event.max_attempts} "
                       f"code={event.close_code}")

        client = module.AsyncOpenAI(base_url=server.base_url, api_key="sk-test")
        async with client.responses.connect(on_reconnecting=reconnecting,
                                            initial_delay=0.001) as connection:
            await connection.response.create(model="m", input="one")
            await _until_terminal(connection, out)
            upgrades = server.websocket_upgrades
            await server.close_websockets(1012)
            events = aiter(connection)
            receiving = asyncio.ensure_future(anext(events))  # sees the close, reconnects
            await wait_until(lambda: server.websocket_upgrades > upgrades, what="a reconnect")
            await connection.response.create(model="m", input="two")
            out.append(_show(await receiving))
            while (event := await anext(events)).type != "response.completed":
                out.append(_show(event))
        await client.close()

    out = await _both(server, program, [Scenario.text("one"), Scenario.text("two")])
    assert "reconnecting attempt=1/5 code=1012" in out


@pytest.fixture
def server_thread() -> Iterator[MockServer]:
    """A mock server on a thread of its own: the synchronous clients block this one."""
    with ServerThread() as server:
        yield server


@pytest.mark.filterwarnings(r"ignore:connect\(\) must be used as a context manager")
def test_the_synchronous_client_streams_over_its_connection(server_thread: MockServer) -> None:
    outputs = []
    for module in (openai, compat):
        server_thread.enqueue(Scenario.text("Blocking hello."))
        client = module.OpenAI(base_url=server_thread.base_url, api_key="sk-test")
        out: list[str] = []
        with client.responses.connect() as connection:
            connection.response.create(model="m", input="hello")
            for event in connection:
                out.append(_show(event))
                if event.type == "response.completed":
                    break
        client.close()
        outputs.append(out)
    assert outputs[1] == outputs[0] and len(outputs[0]) > 5


async def test_a_queue_over_its_budget_is_the_official_error(server: MockServer) -> None:
    client = compat.AsyncOpenAI(base_url=server.base_url, api_key="sk-test")
    manager = client.responses.connect(max_queue_size=64)
    with pytest.raises(compat.WebSocketQueueFullError):
        manager.send({"type": "response.create", "model": "m", "input": "x" * 100})
    await client.close()


async def test_a_refused_handshake_is_a_compat_status_error() -> None:
    async with MockServer(api_key="sk-right") as server:
        client = compat.AsyncOpenAI(base_url=server.base_url, api_key="sk-wrong")
        with pytest.raises(compat.AuthenticationError) as info:
            async with client.responses.connect():
                pass
        await client.close()
    assert info.value.status_code == 401 and info.value.code == "invalid_api_key"
