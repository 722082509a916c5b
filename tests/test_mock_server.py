"""The mock OpenAI server, observed from a plain aiohttp client over real loopback sockets."""

from __future__ import annotations

import asyncio
import base64
import json
import signal
import socket
import struct
import subprocess
import sys
import time
import zlib
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from support import CORPUS, needs_shared

from oxide_rx.testing import Fault, MockServer, Scenario, mock_server

TIMEOUT = aiohttp.ClientTimeout(total=10)
PROMPT = "Write a haiku about autumn leaves"
CHAT = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": PROMPT}]}
RESP = {"model": "gpt-4o-mini", "input": PROMPT}


# ``server`` (a fresh MockServer) comes from conftest.py.


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(timeout=TIMEOUT) as client:
        yield client


# --- helpers ------------------------------------------------------------------------------------


def frames(body: bytes) -> list[bytes]:
    return [f for f in body.split(b"\n\n") if f]


def datas(body: bytes) -> list[str]:
    """The ``data:`` payloads of an SSE body, in order."""
    out = []
    for frame in frames(body):
        lines = [ln[6:] for ln in frame.decode().split("\n") if ln.startswith("data: ")]
        out.extend(lines)
    return out


def chunks(body: bytes) -> list[dict[str, Any]]:
    return [json.loads(d) for d in datas(body) if d != "[DONE]"]


def events(body: bytes) -> list[dict[str, Any]]:
    return chunks(body)


def content(chat_chunks: list[dict[str, Any]], choice: int = 0) -> str:
    return "".join(
        c["delta"].get("content") or ""
        for chunk in chat_chunks
        for c in chunk["choices"]
        if c["index"] == choice
    )


async def post(
    session: aiohttp.ClientSession,
    server: MockServer,
    path: str,
    payload: dict[str, Any],
    **headers: str,
) -> tuple[aiohttp.ClientResponse, bytes]:
    async with session.post(server.base_url + path, json=payload, headers=headers) as resp:
        return resp, await resp.read()


async def chat_stream(
    session: aiohttp.ClientSession, server: MockServer, **extra: Any
) -> tuple[aiohttp.ClientResponse, bytes]:
    return await post(session, server, "/chat/completions", {**CHAT, "stream": True, **extra})


async def http_chunks(resp: aiohttp.ClientResponse) -> list[bytes]:
    """The body as the server's HTTP chunks (one per server write)."""
    out, buf = [], b""
    async for data, end_of_chunk in resp.content.iter_chunks():
        buf += data
        if end_of_chunk:
            out.append(buf)
            buf = b""
    return out + ([buf] if buf else [])


# --- chat: default and scenarios ----------------------------------------------------------------


async def test_default_chat_stream_is_sse_framed_and_ends_with_done(
    server: MockServer, session: aiohttp.ClientSession
) -> None:
    resp, body = await chat_stream(session, server)
    assert resp.headers["Content-Type"].startswith("text/event-stream")
    assert body.endswith(b"data: [DONE]\n\n")
    assert all(f.startswith(b"data: ") for f in frames(body))
    assert chunks(body)[0]["choices"][0]["delta"]["role"] == "assistant"


async def test_default_reply_is_deterministic_and_mentions_the_prompt(
    server: MockServer, session: aiohttp.ClientSession
) -> None:
    first = content(chunks((await chat_stream(session, server))[1]))
    second = content(chunks((await chat_stream(session, server))[1]))
    assert first == second
    assert "autumn" in first
    assert 4 <= first.count("\n") + 1 <= 5


async def test_default_reply_streams_four_character_deltas(
    server: MockServer, session: aiohttp.ClientSession
) -> None:
    pieces = [
        c["delta"]["content"]
        for chunk in chunks((await chat_stream(session, server))[1])
        for c in chunk["choices"]
        if c["delta"].get("content")
    ]
    assert all(len(p) == 4 for p in pieces[:-1])


async def test_non_streaming_chat_returns_a_chat_completion(
    server: MockServer, session: aiohttp.ClientSession
) -> None:
    server.enqueue(Scenario.text("Hello there!"))
    _, body = await post(session, server, "/chat/completions", CHAT)
    completion = json.loads(body)
    assert completion["object"] == "chat.completion"
    assert completion["choices"][0]["message"]["content"] == "Hello there!"
    assert completion["usage"]["total_tokens"] > 0


async def test_tool_calls_stream_parallel_fragments_by_index(
    server: MockServer, session: aiohttp.ClientSession
) -> None:
    server.enqueue(Scenario.tool_calls([("get_weather", {"city": "Paris"}), ("lookup", "{}")]))
    _, body = await chat_stream(session, server)
    fragments = [
        tc for ch in chunks(body) for tc in ch["choices"][0]["delta"].get("tool_calls", [])
    ]
    firsts = [tc for tc in fragments if "id" in tc]
    assert [(tc["index"], tc["function"]["name"]) for tc in firsts] == [
        (0, "get_weather"),
        (1, "lookup"),
    ]
    assert all(
        "id" not in tc and "name" not in tc["function"] for tc in fragments if tc not in firsts
    )
    args0 = "".join(tc["function"]["arguments"] for tc in fragments if tc["index"] == 0)
    assert json.loads(args0) == {"city": "Paris"}
    assert chunks(body)[-1]["choices"][0]["finish_reason"] == "tool_calls"


async def test_refusal_streams_delta_refusal_after_null_content(
    server: MockServer, session: aiohttp.ClientSession
) -> None:
    server.enqueue(Scenario.refusal("No can do."))
    parsed = chunks((await chat_stream(session, server))[1])
    assert parsed[0]["choices"][0]["delta"] == {"role": "assistant", "content": None, "refusal": ""}
    refusal = "".join(ch["choices"][0]["delta"].get("refusal") or "" for ch in parsed)
    assert refusal == "No can do."


async def test_n2_interleaves_choices_one_chunk_at_a_time(
    server: MockServer, session: aiohttp.ClientSession
) -> None:
    parsed = chunks((await chat_stream(session, server, n=2))[1])
    indexes = [ch["choices"][0]["index"] for ch in parsed]
    assert indexes[:4] == [0, 1, 0, 1]
    assert content(parsed, 0) and content(parsed, 1)
    finishes = [ch["choices"][0]["index"] for ch in parsed if ch["choices"][0]["finish_reason"]]
    assert sorted(finishes) == [0, 1]


async def test_include_usage_puts_null_on_every_chunk_then_a_usage_chunk(
    server: MockServer, session: aiohttp.ClientSession
) -> None:
    _, body = await chat_stream(session, server, stream_options={"include_usage": True})
    parsed = chunks(body)
    assert all(ch["usage"] is None for ch in parsed[:-1])
    assert parsed[-1]["choices"] == []
    assert parsed[-1]["usage"]["completion_tokens"] > 0
    assert datas(body)[-1] == "[DONE]"


async def test_usage_key_is_absent_without_include_usage(
    server: MockServer, session: aiohttp.ClientSession
) -> None:
    assert all("usage" not in ch for ch in chunks((await chat_stream(session, server))[1]))


async def test_logprobs_give_one_entry_per_token_with_top_alternatives(
    server: MockServer, session: aiohttp.ClientSession
) -> None:
    parsed = chunks((await chat_stream(session, server, logprobs=True, top_logprobs=2))[1])
    deltas = [ch["choices"][0] for ch in parsed if ch["choices"][0]["delta"].get("content")]
    for choice in deltas:
        (entry,) = choice["logprobs"]["content"]
        assert entry["token"] == choice["delta"]["content"]
        assert len(entry["top_logprobs"]) == 2


async def test_obfuscation_is_present_by_default_and_can_be_turned_off(
    server: MockServer, session: aiohttp.ClientSession
) -> None:
    assert all("obfuscation" in ch for ch in chunks((await chat_stream(session, server))[1]))
    _, body = await chat_stream(session, server, stream_options={"include_obfuscation": False})
    assert all("obfuscation" not in ch for ch in chunks(body))


async def test_chat_response_error_sends_an_error_frame_and_no_done(
    server: MockServer, session: aiohttp.ClientSession
) -> None:
    server.enqueue(Scenario.response_error("server_error", "boom"))
    _, body = await chat_stream(session, server)
    assert json.loads(datas(body)[-1])["error"]["message"] == "boom"
    assert b"[DONE]" not in body


async def test_chat_incomplete_finishes_with_length(
    server: MockServer, session: aiohttp.ClientSession
) -> None:
    server.enqueue(Scenario.incomplete())
    parsed = chunks((await chat_stream(session, server))[1])
    assert parsed[-1]["choices"][0]["finish_reason"] == "length"


# --- errors, queue, headers ---------------------------------------------------------------------


async def test_error_scenario_sends_status_json_body_and_headers(
    server: MockServer, session: aiohttp.ClientSession
) -> None:
    server.enqueue(Scenario.error(429, "slow down", headers={"retry-after": "1"}))
    resp, body = await chat_stream(session, server)
    assert resp.status == 429
    assert resp.headers["retry-after"] == "1"
    assert resp.headers["Content-Type"].startswith("application/json")
    assert json.loads(body)["error"] == {
        "message": "slow down",
        "type": "requests",
        "param": None,
        "code": "rate_limit_exceeded",
    }


async def test_every_response_has_an_x_request_id(
    server: MockServer, session: aiohttp.ClientSession
) -> None:
    server.enqueue(Scenario.error(500))
    failed, _ = await chat_stream(session, server)
    ok, _ = await chat_stream(session, server)
    async with session.get(server.base_url + "/nowhere") as missing:
        assert missing.status == 404
        assert missing.headers["x-request-id"].startswith("req_")
    assert failed.headers["x-request-id"] != ok.headers["x-request-id"]


async def test_enqueued_scenarios_are_served_in_order_then_the_default(
    server: MockServer, session: aiohttp.ClientSession
) -> None:
    server.enqueue(Scenario.error(503), Scenario.error(429), Scenario.text("ok"))
    statuses = [(await chat_stream(session, server))[0].status for _ in range(3)]
    _, last = await chat_stream(session, server)
    assert statuses == [503, 429, 200]
    assert "autumn" in content(chunks(last))


async def test_scenario_header_overrides_without_consuming_the_queue(
    server: MockServer, session: aiohttp.ClientSession
) -> None:
    server.enqueue(Scenario.text("queued"))
    resp, _ = await post(
        session, server, "/chat/completions", CHAT, **{"X-Mock-Scenario": "error:418"}
    )
    _, body = await chat_stream(session, server)
    assert resp.status == 418
    assert content(chunks(body)) == "queued"


async def test_unknown_scenario_header_is_a_400(
    server: MockServer, session: aiohttp.ClientSession
) -> None:
    resp, body = await post(session, server, "/chat/completions", CHAT, **{"X-Mock-Scenario": "?"})
    assert resp.status == 400
    assert "unknown" in json.loads(body)["error"]["message"]


async def test_fault_header_applies_a_fault(
    server: MockServer, session: aiohttp.ClientSession
) -> None:
    with pytest.raises(aiohttp.ClientPayloadError):
        await post(
            session,
            server,
            "/chat/completions",
            {**CHAT, "stream": True},
            **{"X-Mock-Fault": "drop_after=2"},
        )


async def test_authorization_is_never_recorded(
    server: MockServer, session: aiohttp.ClientSession
) -> None:
    await post(session, server, "/chat/completions", CHAT, Authorization="Bearer sk-canary")
    (recorded,) = server.requests
    assert recorded.json["model"] == "gpt-4o-mini"
    assert recorded.path == "/v1/chat/completions"
    assert "sk-canary" not in repr(recorded)


async def test_api_key_rejects_other_bearer_tokens(session: aiohttp.ClientSession) -> None:
    async with MockServer(api_key="sk-right") as guarded:
        bad, body = await post(
            session, guarded, "/chat/completions", CHAT, Authorization="Bearer x"
        )
        good, _ = await post(
            session, guarded, "/chat/completions", CHAT, Authorization="Bearer sk-right"
        )
    assert bad.status == 401
    assert json.loads(body)["error"]["code"] == "invalid_api_key"
    assert good.status == 200


async def test_closing_the_server_cuts_stalled_streams_without_counting_them(
    session: aiohttp.ClientSession,
) -> None:
    # Stalled for an hour: close() returning at all means it cut the stream.
    stalled = Scenario.text("x", fault=Fault.stall_after(1, max_seconds=3600))
    closing = MockServer(scenario=stalled)
    await closing.start()
    url = closing.base_url + "/chat/completions"
    async with session.post(url, json={**CHAT, "stream": True}) as resp:
        await resp.content.readuntil(b"\n\n")
        await asyncio.wait_for(closing.close(), 10)
        with pytest.raises(aiohttp.ClientPayloadError):
            await asyncio.wait_for(resp.read(), 10)  # the client sees its stream cut
    await closing.wait_for_open_connections(0)
    assert closing.disconnects == 0


def test_run_serves_until_interrupted() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    code = f"from oxide_rx.testing import run; run(port={port})"
    with subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True) as proc:
        try:
            assert proc.stdout is not None
            assert f"http://127.0.0.1:{port}/v1" in proc.stdout.readline()
            with socket.create_connection(("127.0.0.1", port), timeout=5) as conn:
                conn.sendall(b"GET /v1/models HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                assert conn.recv(64).startswith(b"HTTP/1.1 200")
        finally:
            proc.send_signal(signal.SIGINT)
            returncode = proc.wait(timeout=10)
    assert returncode == 0


async def test_mock_server_yields_a_working_base_url(session: aiohttp.ClientSession) -> None:
    async with mock_server() as base_url, session.get(base_url + "/models") as resp:
        assert base_url.startswith("http://127.0.0.1:")
        assert (await resp.json())["object"] == "list"


# --- replay and synthetic -----------------------------------------------------------------------


@needs_shared
async def test_replay_serves_a_corpus_file_byte_for_byte(session: aiohttp.ClientSession) -> None:
    async with MockServer(recordings_dir=CORPUS) as replaying:
        replaying.enqueue(Scenario.replay("chat-tool-calls-parallel"))
        _, body = await chat_stream(session, replaying)
    assert body == (CORPUS / "chat-tool-calls-parallel.sse").read_bytes()


@needs_shared
async def test_replay_by_header_serves_a_responses_recording(
    session: aiohttp.ClientSession,
) -> None:
    async with MockServer(recordings_dir=CORPUS) as replaying:
        _, body = await post(
            session,
            replaying,
            "/responses",
            {**RESP, "stream": True},
            **{"X-Mock-Scenario": "replay:responses-text.sse"},
        )
    assert body == (CORPUS / "responses-text.sse").read_bytes()


async def test_replay_of_an_unknown_recording_is_a_404(
    server: MockServer, session: aiohttp.ClientSession
) -> None:
    server.enqueue(Scenario.replay("no-such-recording"))
    resp, _ = await chat_stream(session, server)
    assert resp.status == 404


async def test_synthetic_chat_sends_the_requested_number_of_deltas(
    server: MockServer, session: aiohttp.ClientSession
) -> None:
    server.enqueue(Scenario.synthetic(events=50, delta="wxyz"))
    assert content(chunks((await chat_stream(session, server))[1])) == "wxyz" * 50


async def test_synthetic_stamp_is_taken_at_send_time(
    server: MockServer, session: aiohttp.ClientSession
) -> None:
    server.enqueue(Scenario.synthetic(events=3, interval=0.02, stamp=True))
    before = time.monotonic_ns()
    parsed = chunks((await chat_stream(session, server))[1])
    stamps = [ch["x_stamp"] for ch in parsed if "x_stamp" in ch]
    assert len(stamps) == 3
    assert before < stamps[0] < stamps[1] - 15_000_000


async def test_synthetic_responses_sends_output_text_deltas(
    server: MockServer, session: aiohttp.ClientSession
) -> None:
    server.enqueue(Scenario.synthetic(events=20))
    _, body = await post(session, server, "/responses", {**RESP, "stream": True})
    parsed = events(body)
    assert sum(e["type"] == "response.output_text.delta" for e in parsed) == 20
    assert [e["sequence_number"] for e in parsed] == list(range(len(parsed)))


# --- responses ----------------------------------------------------------------------------------


async def test_responses_stream_has_canonical_order_and_contiguous_sequence_numbers(
    server: MockServer, session: aiohttp.ClientSession
) -> None:
    _, body = await post(session, server, "/responses", {**RESP, "stream": True})
    parsed = events(body)
    types = [e["type"] for e in parsed]
    assert types[:4] == [
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "response.content_part.added",
    ]
    assert types[-4:] == [
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
        "response.completed",
    ]
    assert [e["sequence_number"] for e in parsed] == list(range(len(parsed)))
    assert all(
        f.startswith(b"event: " + e["type"].encode() + b"\n")
        for f, e in zip(frames(body), parsed, strict=True)
    )
    assert b"[DONE]" not in body


async def test_responses_default_text_matches_chat_default_text(
    server: MockServer, session: aiohttp.ClientSession
) -> None:
    chat_text = content(chunks((await chat_stream(session, server))[1]))
    _, body = await post(session, server, "/responses", {**RESP, "stream": True})
    deltas = "".join(e["delta"] for e in events(body) if e["type"] == "response.output_text.delta")
    assert deltas == chat_text


async def test_responses_function_calls_are_separate_items(
    server: MockServer, session: aiohttp.ClientSession
) -> None:
    server.enqueue(Scenario.function_calls([("a", {"x": 1}), ("b", {"y": 2})]))
    _, body = await post(session, server, "/responses", {**RESP, "stream": True})
    done = [e for e in events(body) if e["type"] == "response.output_item.done"]
    assert [(e["output_index"], e["item"]["name"]) for e in done] == [(0, "a"), (1, "b")]
    assert json.loads(done[1]["item"]["arguments"]) == {"y": 2}


async def test_responses_reasoning_streams_summary_then_message(
    server: MockServer, session: aiohttp.ClientSession
) -> None:
    server.enqueue(Scenario.reasoning("Hmm.", "Answer."))
    _, body = await post(session, server, "/responses", {**RESP, "stream": True})
    parsed = events(body)
    summary = "".join(
        e["delta"] for e in parsed if e["type"] == "response.reasoning_summary_text.delta"
    )
    items = [e["item"]["type"] for e in parsed if e["type"] == "response.output_item.done"]
    assert summary == "Hmm."
    assert items == ["reasoning", "message"]


async def test_responses_refusal_uses_refusal_events(
    server: MockServer, session: aiohttp.ClientSession
) -> None:
    server.enqueue(Scenario.refusal("Nope."))
    _, body = await post(session, server, "/responses", {**RESP, "stream": True})
    done = [e for e in events(body) if e["type"] == "response.refusal.done"]
    assert done[0]["refusal"] == "Nope."


async def test_responses_incomplete_ends_with_response_incomplete(
    server: MockServer, session: aiohttp.ClientSession
) -> None:
    server.enqueue(Scenario.incomplete("max_output_tokens"))
    _, body = await post(session, server, "/responses", {**RESP, "stream": True})
    last = events(body)[-1]
    assert last["type"] == "response.incomplete"
    assert last["response"]["incomplete_details"] == {"reason": "max_output_tokens"}


async def test_responses_error_sends_nested_error_then_response_failed(
    server: MockServer, session: aiohttp.ClientSession
) -> None:
    server.enqueue(Scenario.response_error("insufficient_quota", "no money"))
    _, body = await post(session, server, "/responses", {**RESP, "stream": True})
    error, failed = events(body)[-2:]
    assert error["type"] == "error"
    assert error["error"]["code"] == "insufficient_quota"
    assert failed["type"] == "response.failed"
    assert failed["response"]["error"] == {"code": "insufficient_quota", "message": "no money"}


async def test_non_streaming_response_can_be_retrieved(
    server: MockServer, session: aiohttp.ClientSession
) -> None:
    server.enqueue(Scenario.text("stored"))
    _, body = await post(session, server, "/responses", RESP)
    created = json.loads(body)
    async with session.get(f"{server.base_url}/responses/{created['id']}") as resp:
        fetched = await resp.json()
    assert fetched["status"] == "completed"
    assert fetched["output"][0]["content"][0]["text"] == "stored"


async def test_background_stream_resumes_after_starting_after(
    server: MockServer, session: aiohttp.ClientSession
) -> None:
    _, body = await post(
        session, server, "/responses", {**RESP, "stream": True, "background": True}
    )
    original = events(body)
    assert [e["type"] for e in original[:3]] == [
        "response.created",
        "response.queued",
        "response.in_progress",
    ]
    url = f"{server.base_url}/responses/{original[0]['response']['id']}"
    async with session.get(url, params={"stream": "true", "starting_after": "4"}) as resp:
        resumed = events(await resp.read())
    assert [e["sequence_number"] for e in resumed] == list(range(5, len(original)))
    assert resumed == original[5:]


async def test_background_fault_applies_to_the_first_connection_only(
    server: MockServer, session: aiohttp.ClientSession
) -> None:
    server.enqueue(Scenario.text("resume me", fault=Fault.drop_after(4)))
    url = server.base_url + "/responses"
    payload = {**RESP, "stream": True, "background": True}
    received = b""
    with pytest.raises(aiohttp.ClientPayloadError):
        async with session.post(url, json=payload) as resp:
            async for data in resp.content.iter_any():
                received += data
    seen = events(received)
    resume = f"{url}/{seen[0]['response']['id']}"
    params = {"stream": "true", "starting_after": str(seen[-1]["sequence_number"])}
    async with session.get(resume, params=params) as resp:
        rest = events(await resp.read())
    assert rest[0]["sequence_number"] == seen[-1]["sequence_number"] + 1
    assert rest[-1]["type"] == "response.completed"


async def test_background_polling_walks_queued_in_progress_completed(
    server: MockServer, session: aiohttp.ClientSession
) -> None:
    _, body = await post(session, server, "/responses", {**RESP, "background": True})
    created = json.loads(body)
    statuses = [created["status"]]
    for _ in range(2):
        async with session.get(f"{server.base_url}/responses/{created['id']}") as resp:
            statuses.append((await resp.json())["status"])
    assert statuses == ["queued", "in_progress", "completed"]


async def test_cancel_turns_a_queued_background_response_into_cancelled(
    server: MockServer, session: aiohttp.ClientSession
) -> None:
    _, body = await post(session, server, "/responses", {**RESP, "background": True})
    url = f"{server.base_url}/responses/{json.loads(body)['id']}"
    async with session.post(url + "/cancel") as resp:
        cancelled = await resp.json()
    async with session.get(url) as resp:
        polled = await resp.json()
    assert cancelled["status"] == polled["status"] == "cancelled"


async def test_cancel_of_a_foreground_response_is_a_400(
    server: MockServer, session: aiohttp.ClientSession
) -> None:
    _, body = await post(session, server, "/responses", RESP)
    async with session.post(f"{server.base_url}/responses/{json.loads(body)['id']}/cancel") as resp:
        assert resp.status == 400


async def test_unknown_response_id_is_a_404(
    server: MockServer, session: aiohttp.ClientSession
) -> None:
    async with session.get(server.base_url + "/responses/resp_nope") as resp:
        assert resp.status == 404
        assert "resp_nope" in (await resp.json())["error"]["message"]


# --- models and embeddings ----------------------------------------------------------------------


async def test_models_list_and_retrieve(server: MockServer, session: aiohttp.ClientSession) -> None:
    async with session.get(server.base_url + "/models/gpt-4o-mini") as resp:
        assert (await resp.json())["id"] == "gpt-4o-mini"
    async with session.get(server.base_url + "/models/nope") as resp:
        assert resp.status == 404


async def test_embeddings_are_deterministic_unit_vectors(
    server: MockServer, session: aiohttp.ClientSession
) -> None:
    payload = {"model": "text-embedding-3-small", "input": ["a", "b", "a"]}
    _, body = await post(session, server, "/embeddings", payload)
    vectors = [d["embedding"] for d in json.loads(body)["data"]]
    assert vectors[0] == vectors[2] != vectors[1]
    assert sum(x * x for x in vectors[0]) == pytest.approx(1.0)


async def test_embeddings_honour_base64_encoding(
    server: MockServer, session: aiohttp.ClientSession
) -> None:
    payload = {"model": "m", "input": "a", "dimensions": 4}
    _, as_floats = await post(session, server, "/embeddings", payload)
    _, as_b64 = await post(session, server, "/embeddings", {**payload, "encoding_format": "base64"})
    packed = base64.b64decode(json.loads(as_b64)["data"][0]["embedding"])
    expected = json.loads(as_floats)["data"][0]["embedding"]
    assert struct.unpack("<4f", packed) == pytest.approx(expected)


# --- faults -------------------------------------------------------------------------------------


async def test_drop_after_aborts_mid_body_with_a_payload_error(
    server: MockServer, session: aiohttp.ClientSession
) -> None:
    server.enqueue(Scenario.text("x" * 40, fault=Fault.drop_after(3)))
    received = b""
    with pytest.raises(aiohttp.ClientPayloadError):
        async with session.post(
            server.base_url + "/chat/completions", json={**CHAT, "stream": True}
        ) as resp:
            async for data in resp.content.iter_any():
                received += data
    assert len(frames(received)) == 3
    assert server.disconnects == 0


async def test_stall_after_trips_the_client_read_timeout(
    server: MockServer, session: aiohttp.ClientSession
) -> None:
    server.enqueue(Scenario.text("stall here", fault=Fault.stall_after(2, max_seconds=5)))
    timeout = aiohttp.ClientTimeout(total=5, sock_read=0.3)
    with pytest.raises(asyncio.TimeoutError):
        async with session.post(
            server.base_url + "/chat/completions", json={**CHAT, "stream": True}, timeout=timeout
        ) as resp:
            await resp.read()
    await server.wait_for_disconnects(1)


async def test_open_streams_counts_a_stalled_stream(
    server: MockServer, session: aiohttp.ClientSession
) -> None:
    server.enqueue(Scenario.text("stall", fault=Fault.stall_after(1, max_seconds=5)))
    async with session.post(
        server.base_url + "/chat/completions", json={**CHAT, "stream": True}
    ) as resp:
        await resp.content.readuntil(b"\n\n")
        assert server.open_streams == 1
    await server.wait_idle()
    assert server.open_streams == 0


async def test_client_closing_mid_stream_is_counted_as_a_disconnect(
    server: MockServer, session: aiohttp.ClientSession
) -> None:
    server.enqueue(Scenario.synthetic(events=1000, interval=0.005))
    async with session.post(
        server.base_url + "/chat/completions", json={**CHAT, "stream": True}
    ) as resp:
        for _ in range(3):
            await resp.content.readuntil(b"\n\n")
        resp.close()
    await server.wait_for_disconnects(1)
    await server.wait_idle()


async def test_wait_for_disconnects_times_out(server: MockServer) -> None:
    with pytest.raises(TimeoutError):
        await server.wait_for_disconnects(1, timeout=0.05)


# --- connections ----------------------------------------------------------------------------


async def test_a_keep_alive_connection_is_accepted_once_and_stays_open(
    server: MockServer, session: aiohttp.ClientSession
) -> None:
    assert (server.accepted_connections, server.open_connections) == (0, 0)
    for _ in range(3):
        await chat_stream(session, server)
    assert server.accepted_connections == 1  # the client reused its pooled connection
    assert server.open_connections == 1  # idle in the client's pool, still open
    await session.close()
    await server.wait_for_open_connections(0)
    assert server.accepted_connections == 1


async def test_connection_close_means_one_connection_per_request(
    server: MockServer, session: aiohttp.ClientSession
) -> None:
    for _ in range(3):
        await post(session, server, "/chat/completions", CHAT, Connection="close")
    await server.wait_for_open_connections(0)
    assert server.accepted_connections == 3


async def test_a_connection_is_counted_from_accept_to_close_without_any_request(
    server: MockServer,
) -> None:
    _, writer = await asyncio.open_connection(server.host, server.port)
    await server.wait_for_open_connections(1)
    assert server.accepted_connections == 1
    assert server.requests == []
    writer.close()
    await writer.wait_closed()
    await server.wait_for_open_connections(0)


async def test_a_stream_the_client_abandons_closes_its_connection(
    server: MockServer, session: aiohttp.ClientSession
) -> None:
    server.enqueue(Scenario.text("stall", fault=Fault.stall_after(1, max_seconds=5)))
    async with session.post(
        server.base_url + "/chat/completions", json={**CHAT, "stream": True}
    ) as resp:
        await resp.content.readuntil(b"\n\n")
        assert server.open_connections == 1
        resp.close()  # not read to the end: aiohttp closes the connection
    await server.wait_for_open_connections(0)
    await server.wait_for_disconnects(1)


async def test_wait_for_open_connections_times_out(server: MockServer) -> None:
    with pytest.raises(TimeoutError):
        await server.wait_for_open_connections(1, timeout=0.05)


async def test_requests_are_stamped_with_the_server_clock_in_order(
    server: MockServer, session: aiohttp.ClientSession
) -> None:
    before = time.monotonic()
    await chat_stream(session, server)
    await post(session, server, "/embeddings", {"model": "m", "input": "x"})
    after = time.monotonic()
    stamps = [r.received_at for r in server.requests]
    assert before <= stamps[0] <= stamps[1] <= after


async def test_trickle_writes_one_byte_per_http_chunk(
    server: MockServer, session: aiohttp.ClientSession
) -> None:
    server.enqueue(Scenario.text("hi", fault=Fault.trickle()))
    async with session.post(
        server.base_url + "/chat/completions", json={**CHAT, "stream": True}
    ) as resp:
        pieces = await http_chunks(resp)
    assert {len(p) for p in pieces} == {1}
    assert b"".join(pieces).endswith(b"data: [DONE]\n\n")


async def test_fixed_chunking_writes_fixed_size_http_chunks(
    server: MockServer, session: aiohttp.ClientSession
) -> None:
    server.enqueue(Scenario.text("chunk me please", fault=Fault.chunking(7)))
    async with session.post(
        server.base_url + "/chat/completions", json={**CHAT, "stream": True}
    ) as resp:
        pieces = await http_chunks(resp)
    assert {len(p) for p in pieces[:-1]} == {7}
    assert len(pieces[-1]) <= 7


async def test_events_chunking_writes_one_event_per_http_chunk(
    server: MockServer, session: aiohttp.ClientSession
) -> None:
    async with session.post(
        server.base_url + "/chat/completions", json={**CHAT, "stream": True}
    ) as resp:
        pieces = await http_chunks(resp)
    assert all(p.endswith(b"\n\n") and p.count(b"\n\n") == 1 for p in pieces)


async def test_whole_chunking_writes_the_body_at_once(
    server: MockServer, session: aiohttp.ClientSession
) -> None:
    server.enqueue(Scenario.text("all at once", fault=Fault.chunking("whole")))
    async with session.post(
        server.base_url + "/chat/completions", json={**CHAT, "stream": True}
    ) as resp:
        pieces = await http_chunks(resp)
    assert len(pieces) == 1


async def test_random_chunking_is_reproducible_from_its_seed(
    server: MockServer, session: aiohttp.ClientSession
) -> None:
    sizes = []
    for _ in range(2):
        server.enqueue(Scenario.text("random cuts", fault=Fault.chunking(("random", 3))))
        async with session.post(
            server.base_url + "/chat/completions", json={**CHAT, "stream": True}
        ) as resp:
            sizes.append([len(p) for p in await http_chunks(resp)])
    assert sizes[0] == sizes[1]
    assert len(set(sizes[0])) > 1


async def test_keepalive_only_sends_comments_and_no_events(
    server: MockServer, session: aiohttp.ClientSession
) -> None:
    server.enqueue(Scenario.text("never", fault=Fault.keepalive_only(0.01, max_seconds=0.05)))
    _, body = await chat_stream(session, server)
    assert frames(body) and all(f == b": keep-alive" for f in frames(body))


async def test_malformed_json_breaks_exactly_one_event(
    server: MockServer, session: aiohttp.ClientSession
) -> None:
    server.enqueue(Scenario.text("abcdefgh", fault=Fault.malformed_json(at=1)))
    payloads = datas((await chat_stream(session, server))[1])
    with pytest.raises(json.JSONDecodeError):
        json.loads(payloads[1])
    assert all(json.loads(p) for p in payloads[2:-1])


async def test_oversized_event_has_one_huge_data_line(
    server: MockServer, session: aiohttp.ClientSession
) -> None:
    server.enqueue(Scenario.text("small", fault=Fault.oversized_event(300_000)))
    payloads = datas((await chat_stream(session, server))[1])
    assert max(len(p) for p in payloads) >= 299_000
    assert payloads[-1] == "[DONE]"


async def test_endless_line_never_terminates_its_line(
    server: MockServer, session: aiohttp.ClientSession
) -> None:
    server.enqueue(Scenario.text("x", fault=Fault.endless_line(200_000)))
    _, body = await chat_stream(session, server)
    assert len(body) == 200_000
    assert body.startswith(b"data: ") and b"\n" not in body


async def test_gzip_bomb_is_small_on_the_wire_and_large_inflated(
    server: MockServer, session: aiohttp.ClientSession
) -> None:
    server.enqueue(Scenario.text("boom", fault=Fault.gzip_bomb(8 * 1024 * 1024)))
    async with aiohttp.ClientSession(timeout=TIMEOUT, auto_decompress=False) as raw:
        resp, compressed = await chat_stream(raw, server)
    assert resp.headers["Content-Encoding"] == "gzip"
    assert len(compressed) < 64 * 1024
    inflated = zlib.decompressobj(31).decompress(compressed, 16 * 1024 * 1024)
    assert len(inflated) > 100 * len(compressed)


async def test_truncate_ends_cleanly_without_done(
    server: MockServer, session: aiohttp.ClientSession
) -> None:
    server.enqueue(Scenario.text("cut short", fault=Fault.truncate()))
    _, body = await chat_stream(session, server)
    assert content(chunks(body)) == "cut short"
    assert b"[DONE]" not in body


async def test_truncate_after_n_events_sends_exactly_n(
    server: MockServer, session: aiohttp.ClientSession
) -> None:
    server.enqueue(Scenario.text("cut short", fault=Fault.truncate(after=2)))
    assert len(frames((await chat_stream(session, server))[1])) == 2


async def test_html_error_page_is_served_with_status_200(
    server: MockServer, session: aiohttp.ClientSession
) -> None:
    server.enqueue(Scenario.text("x", fault=Fault.html_error()))
    resp, body = await chat_stream(session, server)
    assert resp.status == 200
    assert resp.headers["Content-Type"].startswith("text/html")
    assert body.startswith(b"<!DOCTYPE html>")


async def test_wrong_content_type_sends_json_to_a_stream_request(
    server: MockServer, session: aiohttp.ClientSession
) -> None:
    server.enqueue(Scenario.text("as json", fault=Fault.wrong_type()))
    resp, body = await chat_stream(session, server)
    assert resp.headers["Content-Type"].startswith("application/json")
    assert json.loads(body)["choices"][0]["message"]["content"] == "as json"


async def test_invalid_utf8_lands_in_one_event(
    server: MockServer, session: aiohttp.ClientSession
) -> None:
    server.enqueue(Scenario.text("abcdefgh", fault=Fault.invalid_utf8(at=1)))
    bad = [f for f in frames((await chat_stream(session, server))[1]) if b"\xff\xfe" in f]
    assert len(bad) == 1
    with pytest.raises(UnicodeDecodeError):
        bad[0].decode()


async def test_headers_delay_trips_a_header_timeout(
    server: MockServer, session: aiohttp.ClientSession
) -> None:
    server.enqueue(Scenario.text("late", fault=Fault.delay_headers(1.0)))
    timeout = aiohttp.ClientTimeout(total=5, sock_read=0.2)
    with pytest.raises(asyncio.TimeoutError):
        await session.post(server.base_url + "/chat/completions", json=CHAT, timeout=timeout)


# --- the official SDK accepts the wire shapes ---------------------------------------------------


async def test_official_sdk_accumulates_the_chat_stream(server: MockServer) -> None:
    openai = pytest.importorskip("openai")
    server.enqueue(Scenario.tool_calls([("get_weather", {"city": "Paris"}), ("noop", "{}")]))
    client = openai.AsyncOpenAI(api_key="k", base_url=server.base_url, max_retries=0)
    async with client.chat.completions.stream(model="m", messages=CHAT["messages"]) as stream:
        final = await stream.get_final_completion()
    await client.close()
    calls = final.choices[0].message.tool_calls
    assert [(c.function.name, c.function.arguments) for c in calls] == [
        ("get_weather", '{"city":"Paris"}'),
        ("noop", "{}"),
    ]


async def test_official_sdk_accumulates_the_responses_stream(server: MockServer) -> None:
    openai = pytest.importorskip("openai")
    server.enqueue(Scenario.reasoning("Let me think.", "Forty-two."))
    client = openai.AsyncOpenAI(api_key="k", base_url=server.base_url, max_retries=0)
    async with client.responses.stream(model="m", input=PROMPT) as stream:
        final = await stream.get_final_response()
    await client.close()
    assert final.output_text == "Forty-two."
    assert [item.type for item in final.output] == ["reasoning", "message"]


# --- grammar ------------------------------------------------------------------------------------


def test_fault_header_grammar_parses_every_item() -> None:
    fault = Fault.parse("drop_after=3; chunking=random:5, headers_delay=0.5,html")
    assert fault == Fault(
        drop_after_events=3,
        chunking_mode=("random", 5),
        headers_delay=0.5,
        html_error_page=True,
    )


def test_fault_header_grammar_rejects_unknown_keys() -> None:
    with pytest.raises(ValueError, match="unknown"):
        Fault.parse("explode=1")


def test_fault_merge_keeps_both_sides_and_right_wins() -> None:
    merged = Fault.drop_after(3) | Fault.chunking(5) | Fault.drop_after(1)
    assert (merged.drop_after_events, merged.chunking_mode) == (1, 5)


def test_scenario_header_grammar_reads_arguments() -> None:
    assert Scenario.parse("error:503:busy") == Scenario.error(503, "busy")
    assert Scenario.parse("text:hi there") == Scenario.text("hi there")
