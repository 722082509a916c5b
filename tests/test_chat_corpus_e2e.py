"""Every recorded chat stream, replayed by the mock server over a real socket.

- the final completion equals what the official ``openai`` package accumulates from the same
  bytes, fetched by its own client from the same server (choice by choice);
- the event sequence is the same whatever the TCP chunking.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import msgspec
import openai
import pytest
from openai.lib.streaming.chat import ChatCompletionStreamState
from support import corpus_files, needs_shared, until_metrics

import oxide_rx as ox
from oxide_rx.testing import Fault, MockServer, Scenario

pytestmark = needs_shared

CHAT_FILES = corpus_files("chat-")
MESSAGES = [{"role": "user", "content": "replay"}]
SMALL_FILE = 16 * 1024  # byte-at-a-time replay is slow on big recordings


def _ids(paths: list[Path]) -> list[str]:
    return [p.stem for p in paths]


async def _ours(server: MockServer, scenario: Scenario) -> tuple[list[Any], Any]:
    server.enqueue(scenario)
    async with ox.OpenAI(base_url=server.base_url, api_key="sk-test", max_retries=0) as client:
        stream = await client.chat.completions.create_stream(model="m", messages=MESSAGES)
        events = until_metrics([event async for event in stream])
        return events, await stream.final_completion()


async def _official(server: MockServer, path: Path) -> tuple[Any, Any]:
    """The official client's raw chunks through its own stream accumulator."""
    server.enqueue(Scenario.replay(path))
    client = openai.AsyncOpenAI(base_url=server.base_url, api_key="sk-test", max_retries=0)
    state: ChatCompletionStreamState = ChatCompletionStreamState()
    last_usage = None
    try:
        stream = await client.chat.completions.create(model="m", messages=MESSAGES, stream=True)
        async for chunk in stream:
            if chunk.usage is not None:
                last_usage = chunk.usage
            if chunk.object != "chat.completion.chunk":
                continue  # the official stream wrapper skips Azure filter chunks too
            state.handle_chunk(chunk)
    finally:
        await client.close()
    return state.current_completion_snapshot, last_usage


def _builtins(value: Any) -> Any:
    return msgspec.to_builtins(value) if value is not None else None


def _tokens(tokens: Any) -> Any:
    """Token logprobs as plain tuples, whichever library's objects they are."""
    if tokens is None:
        return None
    return [
        (t.token, t.logprob, t.bytes, [(top.token, top.logprob, top.bytes)
                                       for top in t.top_logprobs or []])
        for t in tokens
    ]


def _logprobs(logprobs: Any) -> Any:
    return None if logprobs is None else (_tokens(logprobs.content), _tokens(logprobs.refusal))


@pytest.mark.parametrize("path", CHAT_FILES, ids=_ids(CHAT_FILES))
async def test_final_completion_matches_the_official_sdk(server: MockServer, path: Path) -> None:
    if path.stem == "chat-audio-output":
        pytest.skip("the official accumulator raises TypeError on chunks without `choices`; "
                    "covered by test_audio_stream_without_choices_accumulates")
    _, ours = await _ours(server, Scenario.replay(path))
    theirs, their_last_usage = await _official(server, path)
    assert len(ours.choices) == len(theirs.choices)
    for mine, official in zip(ours.choices, theirs.choices, strict=True):
        assert mine.index == official.index
        assert mine.finish_reason == official.finish_reason
        assert mine.message.content == official.message.content
        assert mine.message.refusal == official.message.refusal
        our_calls = [(c.id, c.function.name, c.function.arguments)
                     for c in mine.message.tool_calls or []]
        their_calls = [(c.id, c.function.name, c.function.arguments)
                       for c in official.message.tool_calls or []]
        assert our_calls == their_calls
        assert _logprobs(mine.logprobs) == _logprobs(official.logprobs)
    # Usage: ours is the last non-null usage; the SDK overwrites with every chunk's value.
    expected_usage = None if their_last_usage is None else their_last_usage.model_dump(
        exclude_none=True
    )
    assert _builtins(ours.usage) == expected_usage


async def test_audio_stream_without_choices_accumulates(server: MockServer) -> None:
    path = next((p for p in CHAT_FILES if p.stem == "chat-audio-output"), None)
    if path is None:
        pytest.skip("chat-audio-output.sse not in the corpus")
    _, completion = await _ours(server, Scenario.replay(path))
    audio = completion.choices[0].message.audio
    assert audio is not None and audio.transcript and audio.data
    assert completion.usage is not None


CHUNKINGS: list[Any] = ["whole", ("random", 7), ("random", 1234), 1]


@pytest.mark.parametrize("path", CHAT_FILES, ids=_ids(CHAT_FILES))
async def test_events_do_not_depend_on_tcp_chunking(server: MockServer, path: Path) -> None:
    reference, _ = await _ours(server, Scenario.replay(path))
    for chunking in CHUNKINGS:
        if chunking == 1 and path.stat().st_size > SMALL_FILE:
            continue
        events, _ = await _ours(server, Scenario.replay(path, fault=Fault.chunking(chunking)))
        assert events == reference, f"chunking={chunking!r}"
