"""``oxide-rx chat --ws``: every prompt on one WebSocket session, chained by the session."""

from __future__ import annotations

import asyncio
import os
import sys

from oxide_rx.testing import MockServer, Scenario


async def _cli(*args: str) -> tuple[int, str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENAI_")}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "oxide_rx.cli", *args, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    stdout, stderr = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode is not None
    return process.returncode, stdout.decode(), stderr.decode()


async def test_chat_ws_runs_each_turn_on_one_connection_chained(server: MockServer) -> None:
    server.enqueue(Scenario.text("Lisbon."), Scenario.text("The light."))
    code, out, err = await _cli("chat", "--ws", "--base-url", server.base_url,
                                "--system", "Be brief.", "Pick a city", "--turn", "Why?")
    assert code == 0, err
    assert out.splitlines() == ["Lisbon.", "The light."]
    first, second = (m.json for m in server.websocket_messages)
    assert (first["input"], first["instructions"]) == ("Pick a city", "Be brief.")
    assert second["input"] == "Why?" and second["previous_response_id"].startswith("resp_")
    assert server.websocket_upgrades == 1


async def test_chat_ws_prints_typed_events_and_works_offline() -> None:
    code, out, err = await _cli("chat", "--ws", "--events", "Hi")
    assert code == 0, err
    assert "mock server" in err
    lines = out.splitlines()
    assert lines[0].startswith("ResponseCreated {")
    assert any(line.startswith("ContentDelta(") for line in lines)
    assert lines[-1].startswith("Metrics(")
