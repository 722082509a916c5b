"""A WebSocket session survives: recoverable close codes reconnect (with backoff and jitter),
a drop mid-response fails only that response, other codes end the session with a typed error.
Every test runs against the mock server's WebSocket mode, which closes with chosen codes."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

import oxide_rx as ox
from oxide_rx.testing import Fault, MockServer, Scenario
from oxide_rx.types import responses as rt

RECOVERABLE = [1001, 1005, 1006, 1011, 1012, 1013, 1015]
FAST = ox.ReconnectPolicy(initial_delay=0.0, max_delay=0.0)



async def _answer(session: ox.ResponsesWebSocket, text: str) -> str:
    stream = await session.create_stream(model="m", input=text)
    return (await asyncio.wait_for(stream.final_response(), 5)).output_text


@pytest.mark.parametrize("code", RECOVERABLE)
async def test_a_recoverable_close_between_responses_reconnects_transparently(
    server: MockServer, client: ox.OpenAI, code: int
) -> None:
    server.enqueue(Scenario.text("Before."), Scenario.text("After."))
    attempts: list[tuple[int, int]] = []
    async with await client.responses.connect(reconnect=FAST) as session:
        session.on_reconnect = lambda attempt, delay, closed: attempts.append((attempt, closed))
        assert await _answer(session, "one") == "Before."
        await server.close_websockets(code)
        assert await _answer(session, "two") == "After."
    assert attempts == [(1, code)]  # one reconnect, told why
    assert server.websocket_upgrades == 2
    assert [m.connection for m in server.websocket_messages] == [1, 2]


@pytest.mark.parametrize("code", RECOVERABLE)
async def test_a_drop_mid_response_fails_it_with_the_partial_and_the_next_one_reconnects(
    server: MockServer, client: ox.OpenAI, code: int
) -> None:
    server.enqueue(Scenario.text("a fairly long answer " * 10, fault=Fault.close_after(8, code)),
                   Scenario.text("Recovered."))
    async with await client.responses.connect(reconnect=FAST) as session:
        cut = await session.create_stream(model="m", input="one")
        with pytest.raises(ox.StreamTruncatedError, match=f"close code {code}") as info:
            await asyncio.wait_for(cut.final_response(), 5)
        assert isinstance(info.value.partial, rt.Response)
        assert info.value.partial.output_text == cut.current_content() != ""
        assert await _answer(session, "two") == "Recovered."
    assert server.websocket_upgrades == 2


async def test_a_request_the_server_never_answered_is_sent_again_after_a_reconnect(
    server: MockServer, client: ox.OpenAI
) -> None:
    # The connection closes before the first event: no response started, so the request
    # (never answered, never paid for) goes out again on the new connection.
    server.enqueue(Scenario.text("lost", fault=Fault.close_after(0, 1012)),
                   Scenario.text("Answered."))
    async with await client.responses.connect(reconnect=FAST) as session:
        assert await _answer(session, "question") == "Answered."
    sent = [(m.connection, m.json["input"]) for m in server.websocket_messages]
    assert sent == [(1, "question"), (2, "question")]


@pytest.mark.parametrize("code", [1000, 1003, 1008, 4000])
async def test_a_close_that_is_not_recoverable_ends_the_session_with_its_code(
    server: MockServer, client: ox.OpenAI, code: int
) -> None:
    server.enqueue(Scenario.text("Before."))
    async with await client.responses.connect(reconnect=FAST) as session:
        assert await _answer(session, "one") == "Before."
        await server.close_websockets(code)
        with pytest.raises(ox.WebSocketClosedError) as info:
            await _answer(session, "two")
        assert info.value.close_code == code
        assert session.closed
    assert server.websocket_upgrades == 1


async def test_a_non_recoverable_close_mid_response_fails_it_then_the_session(
    server: MockServer, client: ox.OpenAI
) -> None:
    server.enqueue(Scenario.text("word " * 50, fault=Fault.close_after(6, 1008)))
    async with await client.responses.connect(reconnect=FAST) as session:
        stream = await session.create_stream(model="m", input="one")
        with pytest.raises(ox.StreamTruncatedError, match="close code 1008") as info:
            await asyncio.wait_for(stream.final_response(), 5)
        assert info.value.partial is not None
        with pytest.raises(ox.WebSocketClosedError, match="not recoverable"):
            await _answer(session, "two")


async def test_reconnects_stop_after_the_policy_s_attempts(
    server: MockServer, client: ox.OpenAI
) -> None:
    delays: list[float] = []
    policy = ox.ReconnectPolicy(max_retries=3, initial_delay=0.001, max_delay=0.004)
    async with await client.responses.connect(reconnect=policy) as session:
        session.on_reconnect = lambda attempt, delay, code: delays.append(delay)
        await server.close_websockets(1012)
        server.websocket.enabled = False  # every reconnect is refused (404)
        with pytest.raises(ox.WebSocketClosedError, match="3 reconnects failed") as info:
            await _answer(session, "two")
        assert info.value.close_code == 1012
    # Exponential backoff with jitter in [0.75, 1] of min(0.001 * 2**(n-1), 0.004).
    bases = [0.001, 0.002, 0.004]
    assert len(delays) == 3
    assert all(0.75 * base <= delay <= base for delay, base in zip(delays, bases, strict=True))


def test_reconnect_delays_double_up_to_the_cap_with_jitter() -> None:
    policy = ox.ReconnectPolicy(initial_delay=0.5, max_delay=8.0)
    assert [policy.delay(n, jitter=1.0) for n in range(1, 7)] == [0.5, 1, 2, 4, 8, 8]
    assert [policy.delay(n, jitter=0.0) for n in range(1, 7)] == [0.375, 0.75, 1.5, 3, 6, 6]
    with pytest.raises(ValueError):
        ox.ReconnectPolicy(max_retries=-1)


async def test_progress_resets_the_reconnect_budget(server: MockServer, client: ox.OpenAI) -> None:
    # One attempt allowed in a row: each drop is followed by a response that makes progress.
    server.enqueue(*(Scenario.text(f"answer {n}") for n in range(3)))
    policy = ox.ReconnectPolicy(max_retries=1, initial_delay=0.0)
    async with await client.responses.connect(reconnect=policy) as session:
        for n in range(3):
            await server.close_websockets(1001)
            assert await _answer(session, f"q{n}") == f"answer {n}"
    assert server.websocket_upgrades == 4


async def test_no_retries_means_no_reconnect(server: MockServer, client: ox.OpenAI) -> None:
    async with await client.responses.connect(
            reconnect=ox.ReconnectPolicy(max_retries=0)) as session:
        await server.close_websockets(1012)
        with pytest.raises(ox.WebSocketClosedError):
            await _answer(session, "two")
    assert server.websocket_upgrades == 1


async def test_an_on_reconnect_that_says_no_stops_reconnecting(
    server: MockServer, client: ox.OpenAI
) -> None:
    seen: list[Any] = []

    def refuse(attempt: int, delay: float, code: int) -> bool:
        seen.append(code)
        return False

    async with await client.responses.connect(reconnect=FAST) as session:
        session.on_reconnect = refuse
        await server.close_websockets(1013)
        with pytest.raises(ox.WebSocketClosedError, match="stopped"):
            await _answer(session, "two")
    assert seen == [1013]
    assert server.websocket_upgrades == 1
