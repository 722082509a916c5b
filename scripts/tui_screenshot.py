"""Render the terminal app's screenshot for the README: ``docs/tui.svg``.

Runs ``oxide-rx tui`` headless (Textual's ``run_test``) on the built-in mock server: a turn
with two tool calls, then a Responses API turn with reasoning and a markdown answer, caught
mid-stream (the mock server holds the rest back), and saves the screen with Textual's
``save_screenshot``; then stops the answer with Esc, as a user would. Needs the ``tui``
extra::

    python scripts/tui_screenshot.py            # writes docs/tui.svg
    python scripts/tui_screenshot.py out.svg
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable
from pathlib import Path

from textual.pilot import Pilot
from textual.widgets import Input

from oxide_rx.testing import Fault, MockServer, Scenario
from oxide_rx.ui.tui import ChatApp

DEFAULT_OUTPUT = Path(__file__).resolve().parent.parent / "docs" / "tui.svg"
SIZE = (104, 40)

REASONING = "The user wants bursty text to read evenly: explain smooth and show the pipeline."
ANSWER = """\
## Smooth streams

Text arrives in bursts; `ox.ops.smooth()` cuts it into words and paces them:

```python
stream.events.pipe(
    ox.ops.of_type(ox.ContentDelta),
    ox.ops.smooth(),          # words, at the arrival rate
    ox.ops.sample_ui(0.05),   # at most 20 renders a second
)
```

- a fast stream is **not slowed**;
- a burst reads evenly, never more than `max_latency` late.
"""
CALLS = [("get_weather", {"city": "Paris", "unit": "celsius"}),
         ("get_weather", {"city": "Tokyo", "unit": "celsius"})]
HELD_BACK_AFTER = 100  # wire events: the reasoning, then about two thirds of the answer
FIRST_TOKEN_DELAY = 0.3  # a believable time to first token (the mock answers at once)
LIVE_FOR = 0.5  # seconds of streaming behind the footer's live figures


async def _until(pilot: Pilot[None], predicate: Callable[[], bool], timeout: float = 30.0) -> None:
    async with asyncio.timeout(timeout):
        while not predicate():
            await pilot.pause(0.02)


async def _submit(pilot: Pilot[None], app: ChatApp, question: str) -> None:
    app.query_one("#prompt", Input).value = question
    await pilot.press("enter")


async def render(output: Path = DEFAULT_OUTPUT) -> Path:
    """Run the two turns and write the screenshot to ``output``."""
    held = Fault.stall_after(HELD_BACK_AFTER, max_seconds=30)
    held |= Fault(headers_delay=FIRST_TOKEN_DELAY)
    async with MockServer() as server:
        server.enqueue(
            Scenario.tool_calls(CALLS), Scenario.reasoning(REASONING, ANSWER, fault=held)
        )
        app = ChatApp(api="responses", model="gpt-5.4-mini", base_url=server.base_url,
                      api_key="mock")
        async with app.run_test(size=SIZE) as pilot:
            await _submit(pilot, app, "What's the weather in Paris and Tokyo?")
            await _until(pilot, lambda: bool(app.turns) and app.turns[-1].finished)
            await _submit(pilot, app, "How does oxide_rx make bursty text read evenly?")
            await _until(pilot, lambda: len(app.turns) == 2 and len(app.turns[1].answer_text) > 200)
            turn = app.turns[1]
            await pilot.pause(LIVE_FOR)
            await _until(pilot, lambda: turn.answer.source == turn.answer_text)
            output.parent.mkdir(parents=True, exist_ok=True)
            app.save_screenshot(filename=output.name, path=str(output.parent))
            await pilot.press("escape")
            await _until(pilot, lambda: turn.finished)
    return output


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_OUTPUT
    print(asyncio.run(render(target)))
