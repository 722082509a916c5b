"""``oxide-rx tui``, headless (Textual's ``App.run_test``) against the mock server."""

from __future__ import annotations

import asyncio
import importlib.util
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

pytest.importorskip("textual", reason="textual is the optional `tui` extra")

from textual.pilot import Pilot
from textual.widgets import Input

from oxide_rx.testing import Fault, MockServer, Scenario
from oxide_rx.ui.tui import ChatApp, MetricsBar, TurnView

SIZE = (100, 40)
SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "tui_screenshot.py"


@pytest.fixture
async def server() -> AsyncIterator[MockServer]:
    async with MockServer() as mock:
        yield mock


def app_for(server: MockServer, **options: object) -> ChatApp:
    return ChatApp(base_url=server.base_url, api_key="test", **options)  # type: ignore[arg-type]


async def until(pilot: Pilot[None], predicate: Callable[[], bool], timeout: float = 10.0) -> None:
    """Let the app run until ``predicate`` holds (TimeoutError otherwise)."""
    async with asyncio.timeout(timeout):
        while not predicate():
            await pilot.pause(0.01)


async def ask(pilot: Pilot[None], app: ChatApp, question: str) -> TurnView:
    """Type ``question``, press Enter, and return the new turn once it has finished."""
    count = len(app.turns)
    app.query_one("#prompt", Input).value = question
    await pilot.press("enter")
    await until(pilot, lambda: len(app.turns) > count and app.turns[-1].finished)
    return app.turns[-1]


async def test_the_answer_renders_as_markdown(server: MockServer) -> None:
    answer = "# Streams\n\nAnswers arrive **word by word**, with `code` too.\n\n- one\n- two\n"
    server.enqueue(Scenario.text(answer))
    app = app_for(server)
    async with app.run_test(size=SIZE) as pilot:
        turn = await ask(pilot, app, "Show me markdown")
        assert turn.answer.source == answer == turn.answer_text
        assert turn.answer.query("MarkdownH1") and turn.answer.query("MarkdownBulletList")
        assert turn.status_text == "✓ stop"
        assert app.stream is None


async def test_the_tool_panel_builds_arguments_up_and_ticks_each_call(server: MockServer) -> None:
    calls = [("get_weather", {"city": "Paris", "unit": "celsius"}),
             ("get_time", {"timezone": "Asia/Tokyo"})]
    server.enqueue(Scenario.tool_calls(calls))
    app = app_for(server)
    async with app.run_test(size=SIZE) as pilot:
        turn = await ask(pilot, app, "Weather in Paris and time in Tokyo?")
        rows = list(turn.tools.rows.values())
        assert turn.tools.has_class("active")
        assert turn.tools.ticks == 2
        assert [row.call_name for row in rows] == ["get_weather", "get_time"]
        assert rows[0].arguments == '{"city":"Paris","unit":"celsius"}'
        assert all(row.updates > 2 for row in rows)  # arguments built up over several deltas
        assert all(str(row.render()).startswith("✓ ") for row in rows)
        assert turn.status_text == "✓ tool_calls"


@pytest.mark.parametrize("smooth", [True, False])
async def test_escape_stops_the_answer_and_the_server_sees_the_disconnect(
    server: MockServer, smooth: bool
) -> None:
    server.enqueue(Scenario.text("Never-ending words " * 50, fault=Fault.stall_after(6)))
    app = app_for(server, smooth=smooth)
    async with app.run_test(size=SIZE) as pilot:
        app.query_one("#prompt", Input).value = "Talk forever"
        await pilot.press("enter")
        await until(pilot, lambda: bool(app.turns) and app.turns[0].answer_text != "")
        assert server.open_streams == 1
        await pilot.press("escape")
        await server.wait_for_disconnects(1, timeout=5)
        turn = app.turns[0]
        await until(pilot, lambda: turn.finished)
        assert turn.status_text == "■ stopped"
        assert app.stream is None
        partial = turn.answer_text
        assert partial and "Never-ending words ".startswith(partial[:19])
        assert app.conversation.history[-1] == {"role": "assistant", "content": partial}


async def test_the_footer_shows_time_to_first_token_and_tokens_per_second(
    server: MockServer,
) -> None:
    server.enqueue(Scenario.synthetic(events=20, delta="word ", interval=0.005))
    app = app_for(server)
    async with app.run_test(size=SIZE) as pilot:
        app.query_one("#prompt", Input).value = "Go"
        await pilot.press("enter")
        bar = app.query_one(MetricsBar)
        await until(pilot, lambda: "TTFT 0." in bar.text)  # live, while it streams
        await until(pilot, lambda: bool(app.turns) and app.turns[0].finished)
        assert "TTFT" in str(bar.render()) and "tokens/s" in bar.text
        assert "total" in bar.text


async def test_responses_reasoning_folds_away_and_a_refusal_is_styled(server: MockServer) -> None:
    server.enqueue(
        Scenario.reasoning("First I think, then I answer.", "The answer after thinking."),
        Scenario.refusal("I can't help with that."),
    )
    app = app_for(server, api="responses", model="gpt-5.4-mini")
    async with app.run_test(size=SIZE) as pilot:
        first = await ask(pilot, app, "Think first")
        assert first.reasoning_section.has_class("active")
        assert first.reasoning_section.collapsed
        assert str(first.reasoning.render()) == "First I think, then I answer."
        assert first.answer.source == "The answer after thinking."
        assert not first.refusal.has_class("active")

        second = await ask(pilot, app, "Something forbidden")
        assert second.refusal.has_class("active")
        assert "I can't help with that." in str(second.refusal.render())
        assert second.refusal.styles.text_style.italic
        # Multi-turn: the second request carried the first exchange.
        assert server.requests[-1].json["input"] == [
            {"role": "user", "content": "Think first"},
            {"role": "assistant", "content": "The answer after thinking."},
            {"role": "user", "content": "Something forbidden"},
        ]


async def test_chat_turns_carry_the_history_and_the_system_message(server: MockServer) -> None:
    server.enqueue(Scenario.text("First answer."), Scenario.text("Second answer."))
    app = app_for(server, system="Be brief.")
    async with app.run_test(size=SIZE) as pilot:
        await ask(pilot, app, "One")
        await ask(pilot, app, "Two")
        assert server.requests[-1].json["messages"] == [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "One"},
            {"role": "assistant", "content": "First answer."},
            {"role": "user", "content": "Two"},
        ]
        assert server.requests[-1].json["stream_options"] == {"include_usage": True}


async def test_an_api_error_is_shown_in_the_turn(server: MockServer) -> None:
    server.enqueue(Scenario.error(400, "Bad prompt"))
    app = app_for(server)
    async with app.run_test(size=SIZE) as pilot:
        turn = await ask(pilot, app, "Oops")
        assert turn.status_text.startswith("✗ BadRequestError")
        assert turn.status.has_class("failed")
        assert app.stream is None


async def test_offline_it_uses_the_mock_server_and_says_so_on_screen(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    app = ChatApp()
    async with app.run_test(size=SIZE) as pilot:
        notice = app.query_one("#offline")
        assert notice.has_class("active")
        assert "mock server at http://127.0.0.1:" in str(notice.render())
        turn = await ask(pilot, app, "Write a haiku about Rust programming.")
        assert "rust" in turn.answer.source.lower()
        assert app.query_one(MetricsBar).text.startswith("offline (mock server) · TTFT")


async def test_the_readme_screenshot_script_renders_the_app(tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location("tui_screenshot", SCRIPT)
    assert spec is not None and spec.loader is not None
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    svg = (await script.render(tmp_path / "tui.svg")).read_text()
    assert svg.startswith("<svg") and "Tool&#160;calls" in svg and "TTFT" in svg


async def test_escape_before_the_response_headers_cancels_the_request(server: MockServer) -> None:
    server.enqueue(Scenario.text("Too late.", fault=Fault(headers_delay=30)))
    app = app_for(server)
    async with app.run_test(size=SIZE) as pilot:
        app.query_one("#prompt", Input).value = "Slow server"
        await pilot.press("enter")
        await until(pilot, lambda: len(server.requests) == 1 and app.busy)
        await pilot.press("escape")
        await until(pilot, lambda: not app.busy)
        assert app.turns[0].status_text == "■ stopped"
        app.query_one("#prompt", Input).value = "Again"  # the app takes the next question
        server.enqueue(Scenario.text("On time."))
        await pilot.press("enter")
        await until(pilot, lambda: len(app.turns) == 2 and app.turns[1].finished)
        assert app.turns[1].answer_text == "On time."
