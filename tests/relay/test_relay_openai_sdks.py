"""The official ``openai`` packages (Python, and Node under node) stream through the relay's
OpenAI-compatible endpoints unchanged, and get what a direct request gets."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import openai
import pytest
from conftest import SECRET
from relay_support import RelayServer, node_ready, run_node, wait_for

from oxide_rx.testing import Fault, MockServer, Scenario

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT.parent / "shared" / "corpus" / "openai"
needs_corpus = pytest.mark.skipif(
    not CORPUS.is_dir(), reason=f"the recorded corpus is not at {CORPUS} (../shared)")
needs_node = pytest.mark.skipif(node_ready() is not None, reason=str(node_ready()))

CHAT_RECORDINGS = ["chat-text-basic", "chat-tool-calls-parallel-usage", "chat-refusal-usage",
                   "chat-logprobs-top3-usage"]
RESPONSES_RECORDINGS = ["responses-text", "responses-reasoning-function-call",
                        "responses-web-search-annotations", "responses-reasoning-summary"]
MESSAGES = [{"role": "user", "content": "Hi"}]
DIRECT = "http://127.0.0.1:"  # the mock; the relay is reached as http://localhost:...


def relay_url(server: RelayServer) -> str:
    return server.url.replace("127.0.0.1", "localhost") + "v1"


def sdk(base_url: str, **headers: str) -> openai.AsyncOpenAI:
    # The client's own key goes to the relay, which never forwards it (the mock would 401);
    # a direct request to the mock needs the mock's key.
    key = SECRET if base_url.startswith(DIRECT) else "sk-client-key"
    return openai.AsyncOpenAI(base_url=base_url, api_key=key, max_retries=0,
                              default_headers=headers or None)


async def chat_through(base_url: str, **headers: str) -> tuple[list[Any], Any]:
    async with sdk(base_url, **headers) as client:
        stream = await client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES,
                                                      stream=True)
        chunks = [chunk.model_dump() async for chunk in stream]
        async with client.chat.completions.stream(model="gpt-4o-mini",
                                                  messages=MESSAGES) as helper:
            final = await helper.get_final_completion()
    return chunks, final.model_dump()


async def responses_through(base_url: str) -> tuple[list[Any], Any]:
    async with sdk(base_url) as client:
        stream = await client.responses.create(model="gpt-5.4-mini", input="Hi", stream=True)
        events = [event.model_dump() async for event in stream]
        async with client.responses.stream(model="gpt-5.4-mini", input="Hi") as helper:
            final = await helper.get_final_response()
    return events, final.model_dump()


@needs_corpus
@pytest.mark.parametrize("name", CHAT_RECORDINGS)
async def test_python_sdk_chat_through_the_relay_equals_direct(
    server: RelayServer, mock: MockServer, name: str
) -> None:
    recording = Scenario.replay(CORPUS / f"{name}.sse")
    mock.enqueue(recording, recording, recording, recording)
    direct = await chat_through(mock.base_url)
    relayed = await chat_through(relay_url(server))
    assert relayed == direct


@needs_corpus
@pytest.mark.parametrize("name", RESPONSES_RECORDINGS)
async def test_python_sdk_responses_through_the_relay_equals_direct(
    server: RelayServer, mock: MockServer, name: str
) -> None:
    recording = Scenario.replay(CORPUS / f"{name}.sse")
    mock.enqueue(recording, recording, recording, recording)
    direct = await responses_through(mock.base_url)
    relayed = await responses_through(relay_url(server))
    assert relayed == direct


async def test_non_streaming_requests_get_the_whole_object(
    server: RelayServer, mock: MockServer
) -> None:
    mock.enqueue(Scenario.text("Whole answer."), Scenario.text("Whole response."))
    async with sdk(relay_url(server)) as client:
        completion = await client.chat.completions.create(model="gpt-4o-mini",
                                                          messages=MESSAGES)
        response = await client.responses.create(model="gpt-5.4-mini", input="Hi")
    assert completion.choices[0].message.content == "Whole answer."
    assert completion.choices[0].finish_reason == "stop"
    assert completion.usage is not None and completion.usage.total_tokens > 0
    assert response.output_text == "Whole response."
    assert response.status == "completed"


async def test_clients_with_one_key_share_one_upstream_request(
    server: RelayServer, mock: MockServer
) -> None:
    mock.enqueue(Scenario.text("One paid answer for everyone.", fault=Fault.hold_after(3)))
    key = {"x-oxide-rx-generation": "shared-answer"}

    async def one_client() -> str:
        async with sdk(relay_url(server), **key) as client:
            stream = await client.chat.completions.create(
                model="gpt-4o-mini", messages=MESSAGES, stream=True)
            return "".join([c.choices[0].delta.content or "" async for c in stream
                            if c.choices])

    first = asyncio.create_task(one_client())
    await mock.wait_for_held()
    others = [asyncio.create_task(one_client()) for _ in range(3)]
    await wait_for(lambda: server.relay.viewers("shared-answer") == 4)
    mock.release_held()
    answers = await asyncio.gather(first, *others)
    assert answers == ["One paid answer for everyone."] * 4
    assert len(mock.model_requests()) == 1


async def test_upstream_errors_reach_the_sdk_as_the_same_error(
    server: RelayServer, mock: MockServer
) -> None:
    mock.enqueue(Scenario.error(429, "Slow down"), Scenario.response_error(message="Broke"))
    async with sdk(relay_url(server)) as client:
        with pytest.raises(openai.RateLimitError, match="Slow down"):
            await client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES,
                                                 stream=True)
        stream = await client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES,
                                                      stream=True)
        with pytest.raises(openai.APIError, match="Broke"):
            async for _ in stream:
                pass


async def test_a_stopped_generation_is_an_error_for_sdk_clients(
    server: RelayServer, mock: MockServer
) -> None:
    mock.enqueue(Scenario.text("never finished " * 20, fault=Fault.hold_after(3)))
    key = {"x-oxide-rx-generation": "to-stop"}
    async with sdk(relay_url(server), **key) as client:
        stream = await client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES,
                                                      stream=True)
        await mock.wait_for_held()
        await server.relay.stop("to-stop")
        with pytest.raises(openai.APIError, match="stopped"):
            async for _ in stream:
                pass


@needs_node
@needs_corpus
@pytest.mark.parametrize(("api", "name"), [("chat", "chat-tool-calls-parallel-usage"),
                                           ("chat", "chat-text-basic"),
                                           ("responses", "responses-reasoning-function-call"),
                                           ("responses", "responses-text")])
async def test_node_sdk_through_the_relay_equals_direct(
    server: RelayServer, mock: MockServer, api: str, name: str
) -> None:
    recording = Scenario.replay(CORPUS / f"{name}.sse")
    mock.enqueue(recording, recording)
    direct = await run_node("openai_stream.mjs", mock.base_url, api, env={"OPENAI_API_KEY": SECRET})
    relayed = await run_node("openai_stream.mjs", relay_url(server), api)
    assert relayed == direct


@needs_node
async def test_node_clients_share_one_generation_by_key(
    server: RelayServer, mock: MockServer
) -> None:
    mock.enqueue(Scenario.text("Shared with node.", fault=Fault.hold_after(2)))
    url = relay_url(server)
    runs = [asyncio.create_task(run_node("openai_stream.mjs", url, "chat", "node-key"))
            for _ in range(3)]
    await wait_for(lambda: server.relay.viewers("node-key") == 3, timeout=30)
    mock.release_held()
    results = await asyncio.gather(*runs)
    assert [r["text"] for r in results] == ["Shared with node."] * 3
    assert len({r["completion"]["id"] for r in results}) == 1
    assert len(mock.model_requests()) == 1
