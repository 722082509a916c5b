"""Checked by mypy --strict in tests/test_static.py (never run): the public API's types."""

from __future__ import annotations

from typing import assert_type

from reactivex import Observable

import oxide_rx as ox
from oxide_rx.types.chat import ChatCompletion


async def check(client: ox.OpenAI) -> None:
    stream = await client.chat.completions.create_stream(model="m", messages=[])
    assert_type(stream, ox.ChatStream)
    calls = stream.events.pipe(ox.ops.of_type(ox.ToolCallDone))
    assert_type(calls, Observable[ox.ToolCallDone])
    either = stream.events.pipe(ox.ops.of_type(ox.ContentDelta, ox.Done))
    assert_type(either, Observable[ox.ContentDelta | ox.Done])
    assert_type(await stream.final_completion(), ChatCompletion)
    assert_type(stream.current_content(), str)
    response_stream = await client.responses.create_stream(model="m", input="hi")
    assert_type((await response_stream.final_response()).output_text, str)
