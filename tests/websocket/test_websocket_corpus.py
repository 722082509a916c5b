"""The recorded corpus over both transports: every ``responses-*.sse`` recording, replayed by
the mock server as an SSE body or as one WebSocket text frame per event, gives a stream the
same helper and wire events, the same final response and the same error as the sans-IO
accumulator fed the recording's payloads (so the two transports agree with each other)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from support import ClientFactory, corpus_files, needs_shared, response_events, until_metrics

import oxide_rx as ox
from oxide_rx.testing import MockServer, Scenario
from oxide_rx.types import responses as rt

FILES = corpus_files("responses-")


def _payloads(path: Path) -> list[bytes]:
    payloads = []
    for block in path.read_bytes().replace(b"\r\n", b"\n").split(b"\n\n"):
        lines = [line[5:].removeprefix(b" ") for line in block.split(b"\n")
                 if line.startswith(b"data:")]
        if lines and lines != [b"[DONE]"]:
            payloads.append(b"\n".join(lines))
    return payloads


def _expected(path: Path) -> tuple[list[Any], rt.Response, str | None]:
    """What the sans-IO accumulator makes of the recording, up to its terminal event."""
    accumulator = ox.ResponseAccumulator()
    events: list[Any] = []
    for payload in _payloads(path):
        events += response_events(accumulator, rt.decode_event(payload))
        if accumulator.terminal:
            break
    failure = accumulator.failure
    return events, accumulator.response(), None if failure is None else failure.code


async def _collect(transport: str, client: ox.OpenAI) -> tuple[list[Any], ox.ResponseStream,
                                                               str | None]:
    """Every event of the replayed response over ``transport``, the stream, the error code."""
    session = None
    if transport == "sse":
        stream = await client.responses.create_stream(model="m", input="replay")
    else:
        session = await client.responses.connect(fallback="never")
        stream = await session.create_stream(model="m", input="replay")
    events: list[Any] = []
    code: str | None = None
    try:
        async for event in stream:
            events.append(event)
    except ox.ResponseFailedError as exc:
        code = exc.code
        assert exc.partial == stream.current_response()
    finally:
        if session is not None:
            await session.aclose()
    return until_metrics(events), stream, code


@needs_shared
@pytest.mark.parametrize("transport", ["sse", "websocket"])
@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
async def test_recording_gives_the_same_events_and_response_over_each_transport(
    server: MockServer, make_client: ClientFactory, transport: str, path: Path
) -> None:
    expected_events, expected_response, expected_code = _expected(path)
    server.enqueue(Scenario.replay(path))
    events, stream, code = await _collect(transport, make_client(max_retries=0))
    assert events == expected_events
    assert stream.current_response() == expected_response
    assert code == expected_code
