"""Issue 10, hole 12: tool calls from OpenAI-compatible servers (vLLM, Ollama, Groq, LiteLLM).

Calls sent whole at ``index`` 0 used to merge into one (``{"city":"SF"}{"city":"Tokyo"}``)
and fragments without ``index`` raised ``DecodeError``. Now a new ``id`` at an index starts
a new call and a missing index means the next call. The streams are the project's fixtures
(``tests/fixtures/compatible``), replayed through the mock server and a raw socket.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import msgspec
import pytest
from rawsocket import respond, sse_head
from runs import HANG, MESSAGES, chat_stream

import oxide_rx as ox
from oxide_rx.testing import MockServer, Scenario
from oxide_rx.types.chat import CHUNK_DECODER

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "compatible"

EXPECTED: dict[str, list[tuple[str, str, str]]] = {
    "ollama-parallel-calls-index-0": [
        ("call_h6w8v2kq", "get_weather", '{"city":"SF"}'),
        ("call_p3m1z9xc", "get_weather", '{"city":"Tokyo"}'),
    ],
    "ollama-calls-without-index": [
        ("call_0tq3lh1b", "get_current_weather", '{"location":"Boston, MA"}'),
        ("call_8yqa0fn2", "get_time", '{"zone":"America/New_York"}'),
    ],
    "vllm-streamed-calls-index-0": [
        ("chatcmpl-tool-5b2f", "get_weather", '{"city": "Paris"}'),
        ("chatcmpl-tool-9d41", "get_time", '{"zone": "Europe/Paris"}'),
    ],
    "groq-whole-calls": [
        ("call_ahqk", "get_weather", '{"city":"Berlin"}'),
        ("call_bmst", "get_weather", '{"city":"Lima"}'),
    ],
    "litellm-calls-without-index": [
        ("call_f00d", "search", '{"query": "oxide rx"}'),
        ("call_beef", "open_page", '{"n": 1}'),
    ],
}


def _calls(completion: Any) -> list[tuple[str, str, str]]:
    calls = completion.choices[0].message.tool_calls or []
    return [(c.id, c.function.name, c.function.arguments) for c in calls]


def _check(events: list[Any], completion: Any, expected: list[tuple[str, str, str]]) -> None:
    done = [e for e in events if isinstance(e, ox.ToolCallDone)]
    assert [(d.call_id, d.name, d.arguments) for d in done] == expected
    assert [d.parsed_arguments for d in done] == [msgspec.json.decode(a) for *_, a in expected]
    assert [d.index for d in done] == list(range(len(expected)))
    assert _calls(completion) == expected
    deltas: dict[int, str] = {}
    for e in events:
        if isinstance(e, ox.ToolCallDelta):
            deltas[e.index] = deltas.get(e.index, "") + e.arguments_delta
    assert [deltas[i] for i in sorted(deltas)] == [a for *_, a in expected]


@pytest.mark.parametrize("name", sorted(EXPECTED))
async def test_replayed_through_the_mock_server(name: str) -> None:
    async with MockServer() as server, ox.OpenAI(api_key="sk-test",
                                                 base_url=server.base_url) as client:
        server.enqueue(Scenario.replay(FIXTURES / f"{name}.sse"))
        stream = await client.chat.completions.create_stream(model="m", messages=MESSAGES)
        events: list[Any] = []
        stream.events.subscribe(events.append)
        completion = await asyncio.wait_for(stream.final_completion(), HANG)
    _check(events, completion, EXPECTED[name])


@pytest.mark.parametrize("framing", ["close", "length"])
@pytest.mark.parametrize("name", sorted(EXPECTED))
async def test_replayed_through_a_raw_socket(name: str, framing: str) -> None:
    body = (FIXTURES / f"{name}.sse").read_bytes()
    reply = sse_head(framing, len(body)) + body  # type: ignore[arg-type]
    outcome = await chat_stream(respond(reply))
    assert outcome.error is None, outcome.error
    _check(outcome.events, outcome.result, EXPECTED[name])
    assert outcome.requests == 1


# --- the merge rules, sans-IO --------------------------------------------------------------------


def _feed(*tool_calls: list[dict[str, Any]]) -> tuple[ox.ChatCompletionAccumulator, list[Any]]:
    acc = ox.ChatCompletionAccumulator()
    events: list[Any] = []
    for calls in tool_calls:
        chunk = {"choices": [{"index": 0, "delta": {"tool_calls": calls}}]}
        events += acc.handle_chunk(CHUNK_DECODER.decode(msgspec.json.encode(chunk)))
    finish = {"choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}]}
    events += acc.handle_chunk(CHUNK_DECODER.decode(msgspec.json.encode(finish)))
    return acc, events


def _fn(name: str | None = None, arguments: str | None = None) -> dict[str, Any]:
    return {k: v for k, v in (("name", name), ("arguments", arguments)) if v is not None}


def test_the_same_id_repeated_on_every_fragment_is_one_call() -> None:
    acc, _ = _feed([{"index": 0, "id": "a", "function": _fn("f", '{"x":')}],
                   [{"index": 0, "id": "a", "function": _fn(arguments="1}")}])
    assert _calls(acc.completion()) == [("a", "f", '{"x":1}')]


def test_a_new_id_at_a_used_index_takes_the_next_free_index() -> None:
    acc, events = _feed([{"index": 0, "id": "a", "function": _fn("f", "{}")}],
                        [{"index": 1, "id": "b", "function": _fn("g", "{}")}],
                        [{"index": 0, "id": "c", "function": _fn("h", "{}")}],
                        [{"index": 0, "function": _fn(arguments="")}])
    assert _calls(acc.completion()) == [("a", "f", "{}"), ("b", "g", "{}"), ("c", "h", "{}")]
    assert [(e.index, e.call_id) for e in events if isinstance(e, ox.ToolCallDone)] == [
        (0, "a"), (1, "b"), (2, "c")]


def test_a_call_is_done_as_soon_as_the_next_one_starts() -> None:
    acc = ox.ChatCompletionAccumulator()
    first = {"choices": [{"index": 0, "delta": {"tool_calls": [
        {"index": 0, "id": "a", "function": _fn("f", '{"n":1}')}]}}]}
    second = {"choices": [{"index": 0, "delta": {"tool_calls": [
        {"index": 0, "id": "b", "function": _fn("f", '{"n":2}')}]}}]}
    acc.handle_chunk(CHUNK_DECODER.decode(msgspec.json.encode(first)))
    events = acc.handle_chunk(CHUNK_DECODER.decode(msgspec.json.encode(second)))
    assert [(e.call_id, e.parsed_arguments) for e in events if isinstance(e, ox.ToolCallDone)] \
        == [("a", {"n": 1})]


def test_fragments_without_index_continue_the_current_call_unless_they_start_one() -> None:
    acc, _ = _feed([{"id": "a", "function": _fn("f", '{"q": "')}],
                   [{"function": _fn(arguments='x"}')}],
                   [{"function": _fn("g", "{}")}])  # a name without an id: a new call too
    assert _calls(acc.completion()) == [("a", "f", '{"q": "x"}'), ("", "g", "{}")]


def test_standard_openai_fragments_are_merged_as_before() -> None:
    acc, events = _feed([{"index": 0, "id": "a", "type": "function", "function": _fn("f", "")}],
                        [{"index": 0, "function": _fn(arguments='{"a":')}],
                        [{"index": 0, "function": _fn(arguments="1}")}],
                        [{"index": 1, "id": "b", "type": "function", "function": _fn("g", "")}],
                        [{"index": 1, "function": _fn(arguments='{"b":2}')}])
    assert _calls(acc.completion()) == [("a", "f", '{"a":1}'), ("b", "g", '{"b":2}')]
    assert [e.arguments for e in events if isinstance(e, ox.ToolCallDone)] == [
        '{"a":1}', '{"b":2}']
