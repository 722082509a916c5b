"""The Vercel AI SDK UI message stream: every frame as the AI SDK front end reads it (a strict
Python reading, and the real ``ai`` packages 5.0.0 and 7.x under node), and resume by id."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest
from relay_support import RelayServer, node_ready, run_node, wait_for
from ui_validator import UIStreamError, read_ui_stream

from oxide_rx.relay import Relay
from oxide_rx.testing import Fault, MockServer, Scenario

TEXT = "Relayed **once**, read by many. " * 2
CALLS = [("get_weather", {"city": "Paris"}), ("get_time", {"zone": "Europe/Paris"})]


async def ui_body(relay: Relay, generation_id: str) -> bytes:
    return b"".join([c async for c in relay.frames(generation_id, "ui")])


CHAT = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Hi"}],
        "stream_options": {"include_usage": True}}


async def test_text_generation_is_a_valid_ui_stream(relay: Relay, mock: MockServer) -> None:
    mock.enqueue(Scenario.text(TEXT))
    started = await relay.start("chat", dict(CHAT))
    message = read_ui_stream(await ui_body(relay, started.id))
    assert message.id == "msg_" + started.id
    assert message.text == TEXT
    assert message.metadata["finishReason"] == "stop"
    assert message.metadata["usage"]["completion_tokens"] > 0
    assert message.done_marker


async def test_tool_calls_build_up_as_dynamic_tools(relay: Relay, mock: MockServer) -> None:
    mock.enqueue(Scenario.tool_calls(CALLS))
    started = await relay.start("chat", dict(CHAT))
    message = read_ui_stream(await ui_body(relay, started.id))
    assert [(t["toolName"], t["input"], t["state"]) for t in message.tools] == [
        (name, args, "input-available") for name, args in CALLS
    ]
    deltas = [c for c in message.chunks if c["type"] == "tool-input-delta"]
    assert len(deltas) > 2  # the arguments stream, they are not sent whole at the end
    assert message.metadata["finishReason"] == "tool_calls"


async def test_reasoning_then_text(relay: Relay, mock: MockServer) -> None:
    mock.enqueue(Scenario.reasoning("Let me think about it.", TEXT))
    started = await relay.start("responses", {"model": "m", "input": "Hi"})
    message = read_ui_stream(await ui_body(relay, started.id))
    assert message.reasoning == "Let me think about it."
    assert message.text == TEXT
    kinds = [p["type"] for p in message.parts]
    assert kinds == ["step-start", "reasoning", "text"]


async def test_refusal_is_shown_as_text(relay: Relay, mock: MockServer) -> None:
    mock.enqueue(Scenario.refusal("No, sorry."))
    started = await relay.start("chat", dict(CHAT))
    assert read_ui_stream(await ui_body(relay, started.id)).text == "No, sorry."


async def test_failure_sends_one_error_then_finishes(relay: Relay, mock: MockServer) -> None:
    mock.enqueue(Scenario.response_error(message="upstream broke"))
    started = await relay.start("chat", dict(CHAT))
    message = read_ui_stream(await ui_body(relay, started.id))
    assert message.metadata["errorText"] == "upstream broke"
    assert [c["type"] for c in message.chunks][-3:] == ["error", "finish-step", "finish"]


async def test_stopped_generation_ends_with_abort(relay: Relay, mock: MockServer) -> None:
    mock.enqueue(Scenario.text(TEXT, fault=Fault.hold_after(4)))
    started = await relay.start("chat", dict(CHAT))
    await mock.wait_for_held()
    await relay.stop(started.id)
    message = read_ui_stream(await ui_body(relay, started.id))
    assert message.chunks[-1]["type"] == "abort"
    assert TEXT.startswith(message.text) and message.text


def test_the_validator_catches_what_the_client_rejects() -> None:
    bad = [
        b'data: {"type":"text-delta","id":"t","delta":"x"}\n\n',
        b'data: {"type":"start"}\n\ndata: {"type":"text-delta","id":"t","delta":"x"}\n\n',
        b'data: {"type":"start","futureField":1}\n\n',
        b'data: {"type":"start"}\n\ndata: {"type":"finish","finishReason":"stop"}\n\n',
        b'data: {"type":"start"}\n\ndata: {"type":"text-start","id":"t"}\n\n'
        b'data: {"type":"finish-step"}\n\n',
        b'data: {"type":"start"}\n\ndata: {"type":"new-thing"}\n\n',
        b"data: not json\n\n",
    ]
    for body in bad:
        with pytest.raises(UIStreamError):
            read_ui_stream(body)


# --- over HTTP, with the AI SDK's own transport ------------------------------------------


async def test_use_chat_endpoint_and_resume_over_http(
    server: RelayServer, mock: MockServer, http: aiohttp.ClientSession
) -> None:
    mock.enqueue(Scenario.text(TEXT, fault=Fault.hold_after(4)))
    body = {"id": "chat-7", "messages": [
        {"id": "u1", "role": "user", "parts": [{"type": "text", "text": "Hi"}]}],
        "trigger": "submit-message"}
    async with http.post(server.url + "api/chat", json=body) as first:
        assert first.headers["x-vercel-ai-ui-message-stream"] == "v1"
        await mock.wait_for_held()
        # The page was reloaded: useChat({resume: true}) asks for the stream again.
        async with http.get(server.url + "api/chat/chat-7/stream") as resumed:
            assert resumed.status == 200
            await wait_for(lambda: server.relay.viewers(first.headers["x-oxide-rx-generation"])
                           == 2)
            mock.release_held()
            original, again = await asyncio.gather(first.read(), resumed.read())
    assert read_ui_stream(original).text == read_ui_stream(again).text == TEXT
    async with http.get(server.url + "api/chat/chat-7/stream") as after_end:
        assert after_end.status == 204  # nothing to resume once the answer is complete
    async with http.get(server.url + "api/chat/unknown/stream") as unknown:
        assert unknown.status == 204


needs_node = pytest.mark.skipif(node_ready() is not None, reason=str(node_ready()))


@needs_node
@pytest.mark.parametrize("sdk", ["ai", "ai5"], ids=["ai-7", "ai-5.0.0"])
async def test_the_ai_sdk_reads_the_relay(
    server: RelayServer, mock: MockServer, sdk: str
) -> None:
    mock.enqueue(Scenario.tool_calls(CALLS))
    result = await run_node("use_chat.mjs", sdk, server.url + "api/chat", "chat-tools", "send")
    tools = [p for p in result["message"]["parts"] if p["type"] == "dynamic-tool"]
    assert [(t["toolName"], t["input"], t["state"]) for t in tools] == [
        (name, args, "input-available") for name, args in CALLS
    ]
    mock.enqueue(Scenario.text(TEXT))
    result = await run_node("use_chat.mjs", sdk, server.url + "api/chat", "chat-text", "send")
    text = "".join(p.get("text", "") for p in result["message"]["parts"] if p["type"] == "text")
    assert text == TEXT
    assert result["message"]["metadata"]["finishReason"] == "stop"


@needs_node
async def test_the_ai_sdk_resumes_a_running_stream_by_chat_id(
    server: RelayServer, mock: MockServer, http: aiohttp.ClientSession
) -> None:
    mock.enqueue(Scenario.text(TEXT, fault=Fault.hold_after(4)))
    body = {"id": "chat-r", "messages": [
        {"id": "u1", "role": "user", "parts": [{"type": "text", "text": "Hi"}]}]}
    async with http.post(server.url + "api/chat", json=body) as first:
        await mock.wait_for_held()
        generation = first.headers["x-oxide-rx-generation"]
        resume = asyncio.create_task(
            run_node("use_chat.mjs", "ai", server.url + "api/chat", "chat-r", "resume"))
        await wait_for(lambda: server.relay.viewers(generation) == 2, timeout=30)
        mock.release_held()
        result = await resume
        await first.read()
    parts = result["message"]["parts"]
    assert result["message"]["id"] == "msg_" + generation
    assert "".join(p.get("text", "") for p in parts if p["type"] == "text") == TEXT
    nothing = await run_node("use_chat.mjs", "ai", server.url + "api/chat", "chat-r", "resume")
    assert nothing["message"] is None
