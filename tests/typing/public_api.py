"""Checked by mypy --strict in tests/test_static.py (never run): the public API's types.

``assert_type`` is exact: an expression typed ``Any`` fails it, so each line below also proves
that a place users touch is not ``Any``.
"""

from __future__ import annotations

from typing import assert_type

from reactivex import Observable, abc

import oxide_rx as ox
from oxide_rx.types.chat import ChatCompletion, ChatCompletionChunk, CompletionUsage
from oxide_rx.types.responses import Response, ResponseUsage


async def chat(client: ox.OpenAI) -> None:
    stream = await client.chat.completions.create_stream(model="m", messages=[])
    assert_type(stream, ox.ChatStream)
    assert_type(stream.events, Observable[ox.ChatEvent])
    async for event in stream:
        assert_type(event, ox.ChatEvent)
        match event:
            case ox.Chunk(chunk=chunk):
                assert_type(chunk, ChatCompletionChunk)
                assert_type(event.raw, bytes | None)
            case ox.Usage(usage=usage):
                assert_type(usage, CompletionUsage | ResponseUsage)
            case ox.ContentDelta(delta=delta, snapshot=snapshot):
                assert_type(delta, str)
                assert_type(snapshot, str)
            case ox.ToolCallDone(name=name, arguments=arguments):
                assert_type(name, str)
                assert_type(arguments, str)
            case _:
                pass
    calls = stream.events.pipe(ox.ops.of_type(ox.ToolCallDone))
    assert_type(calls, Observable[ox.ToolCallDone])
    either = stream.events.pipe(ox.ops.of_type(ox.ContentDelta, ox.Done))
    assert_type(either, Observable[ox.ContentDelta | ox.Done])

    def on_delta(event: ox.ContentDelta) -> None:
        assert_type(event.delta, str)
        assert_type(event.detached(), ox.ContentDelta)  # handed to another thread

    assert_type(stream.on(ox.ContentDelta, on_delta), abc.DisposableBase)
    stream.on(ox.Usage, lambda event: assert_type(event.usage, CompletionUsage | ResponseUsage))

    def on_text(event: ox.ContentDelta | ox.RefusalDelta) -> None:
        assert_type(event.snapshot, str)

    stream.on((ox.ContentDelta, ox.RefusalDelta), on_text)
    assert_type(await stream.final_completion(), ChatCompletion)
    assert_type(stream.current_content(), str)
    async with stream as same:
        assert_type(same, ox.ChatStream)


async def responses(client: ox.OpenAI) -> None:
    stream = await client.responses.create_stream(model="m", input="hi")
    assert_type(stream, ox.ResponseStream)
    assert_type(stream.events, Observable[ox.ResponseEvent])
    async for event in stream:
        assert_type(event, ox.ResponseEvent)
    assert_type(await stream.final_response(), Response)
    assert_type((await stream.final_response()).output_text, str)


def users_build_events() -> None:
    # Public keyword constructors: what a user's own tests build.
    assert_type(ox.ContentDelta(delta="lo", snapshot="Hello"), ox.ContentDelta)
    assert_type(ox.ToolCallDone(index=0, call_id="c", name="f", arguments="{}"), ox.ToolCallDone)
    assert_type(ox.Done(finish_reason="stop"), ox.Done)
