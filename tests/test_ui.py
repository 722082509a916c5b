"""UI adapters: the three shapes UI frameworks take, and a headless Textual widget."""

from __future__ import annotations

import asyncio
import itertools

import pytest

import oxide_rx as ox
from oxide_rx import ui
from oxide_rx.testing import Fault, MockServer, Scenario

MESSAGES = [{"role": "user", "content": "Write a haiku about Rust programming."}]


async def _stream(client: ox.OpenAI) -> ox.ChatStream:
    return await client.chat.completions.create_stream(model="m", messages=MESSAGES)


async def test_text_deltas_concatenate_to_the_final_text(
    server: MockServer, client: ox.OpenAI
) -> None:
    stream = await _stream(client)
    pieces = [piece async for piece in ui.text_deltas(stream)]
    completion = await stream.final_completion()
    assert len(pieces) > 3
    assert "".join(pieces) == completion.choices[0].message.content


async def test_text_snapshots_are_paced_and_end_with_the_final_text(
    server: MockServer, client: ox.OpenAI
) -> None:
    # All 60 deltas in one write: they arrive well within one interval whatever the machine's
    # speed, so pacing them is not a matter of timing (sample_ui's timing is tested on
    # virtual time in test_operators.py).
    fault = Fault.chunking("whole")
    server.enqueue(Scenario.synthetic(events=60, delta="abcd", fault=fault))
    stream = await _stream(client)
    snapshots = [text async for text in ui.text_snapshots(stream, interval=0.03)]
    final = stream.current_content()
    assert snapshots[-1] == final and len(final) == 240
    assert 2 <= len(snapshots) < 60
    assert all(a == b[: len(a)] for a, b in itertools.pairwise(snapshots))


async def test_sse_relay_re_serves_the_stream_as_browser_events(
    server: MockServer, client: ox.OpenAI
) -> None:
    server.enqueue(Scenario.tool_calls([("get_weather", '{"city": "Oslo"}')]))
    stream = await _stream(client)
    frames = b"".join([frame async for frame in ui.sse_relay(stream)])
    decoder = ox.sse.SSEDecoder()
    events = decoder.feed(frames)
    assert [e.event for e in events] == ["tool_call", "done"]
    assert '"name":"get_weather"' in events[0].data


async def test_sse_relay_reports_a_failure_as_an_error_event(
    server: MockServer, client: ox.OpenAI
) -> None:
    server.enqueue(Scenario.text("cut short " * 20, fault=Fault.truncate(after=3)))
    stream = await _stream(client)
    frames = b"".join([frame async for frame in ui.sse_relay(stream)])
    events = ox.sse.SSEDecoder().feed(frames)
    assert events[-1].event == "error"
    assert "StreamTruncatedError" in events[-1].data


async def test_breaking_out_of_an_adapter_aborts_the_request(
    server: MockServer, client: ox.OpenAI
) -> None:
    server.enqueue(Scenario.text("x" * 400, fault=Fault.stall_after(3)))
    stream = await _stream(client)
    deltas = ui.text_deltas(stream)
    async for _ in deltas:
        break
    await deltas.aclose()
    await server.wait_for_disconnects(1, timeout=5)
    assert stream.finished


async def test_textual_stream_view_shows_the_text_headless(
    server: MockServer, client: ox.OpenAI
) -> None:
    textual = pytest.importorskip("textual", reason="textual is the optional `ui` extra")
    from textual.app import App, ComposeResult

    from oxide_rx.ui.textual import StreamView

    stream = await _stream(client)
    finished: list[StreamView.Finished] = []

    class Demo(App[None]):
        def compose(self) -> ComposeResult:
            yield StreamView(stream, interval=0.01, id="answer")

        def on_stream_view_finished(self, message: StreamView.Finished) -> None:
            finished.append(message)

    app = Demo()
    async with app.run_test() as pilot:
        async with asyncio.timeout(5):
            while not finished:  # the app handles its messages while the pilot pauses
                await pilot.pause(0.01)
        view = app.query_one("#answer", StreamView)
        assert finished[0].error is None
        assert view.text == stream.current_content() != ""
    assert textual.__version__
