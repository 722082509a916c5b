"""Make the README's screenshot of the relay page: a real headless Chromium on a real relay.

    python scripts/relay_screenshot.py [docs/relay-page.png]

The relay runs on the built-in mock server, which replays :func:`showcase_sse` (a Responses
stream with a reasoning summary, two tool calls and a markdown answer, paced like a model).
``tests/relay/test_relay_browser.py`` runs :func:`capture` too and checks what it rendered, so
the picture in the README is the one the browser test sees.
"""

from __future__ import annotations

import asyncio
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

import msgspec
from aiohttp import web

import oxide_rx as ox
from oxide_rx.relay import Relay
from oxide_rx.relay.app import relay_app
from oxide_rx.testing import Fault, MockServer, Scenario

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / "docs" / "relay-page.png"
PROMPT = "Should I take an umbrella in Paris or in Tokyo this afternoon?"
REASONING = ("The user wants weather for two cities. I will call get_weather for Paris and "
             "Tokyo in parallel, then compare the chance of rain.")
CALLS = [("call_paris", "get_weather", '{"city":"Paris","unit":"celsius"}'),
         ("call_tokyo", "get_weather", '{"city":"Tokyo","unit":"celsius"}')]
ANSWER = ("**Paris**: take the umbrella: light rain from 15:00, 14 °C.\n\n"
          "**Tokyo**: leave it at home: clear skies, 22 °C.\n\n"
          "- Paris: 80% chance of rain\n- Tokyo: 5% chance of rain")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-background-networking", "--disable-component-update",
                 "--disable-dev-shm-usage"]


def _pieces(text: str, size: int = 6) -> list[str]:
    return [text[i:i + size] for i in range(0, len(text), size)]


def showcase_sse() -> bytes:
    """A Responses API stream: reasoning summary, two function calls, a message, usage."""
    events: list[dict[str, Any]] = []
    response = {"id": "resp_showcase", "object": "response", "created_at": 1_800_000_000,
                "status": "in_progress", "model": "gpt-5.4-mini", "output": [], "usage": None}

    def add(kind: str, **fields: Any) -> None:
        events.append({"type": kind, "sequence_number": len(events), **fields})

    add("response.created", response=response)
    add("response.in_progress", response=response)
    output: list[dict[str, Any]] = []
    reasoning = {"type": "reasoning", "id": "rs_1", "summary": []}
    add("response.output_item.added", output_index=0, item=reasoning)
    part = {"type": "summary_text", "text": ""}
    add("response.reasoning_summary_part.added", item_id="rs_1", output_index=0,
        summary_index=0, part=part)
    for piece in _pieces(REASONING, 9):
        add("response.reasoning_summary_text.delta", item_id="rs_1", output_index=0,
            summary_index=0, delta=piece)
    add("response.reasoning_summary_text.done", item_id="rs_1", output_index=0,
        summary_index=0, text=REASONING)
    done_part = {"type": "summary_text", "text": REASONING}
    add("response.reasoning_summary_part.done", item_id="rs_1", output_index=0,
        summary_index=0, part=done_part)
    output.append({**reasoning, "summary": [done_part]})
    add("response.output_item.done", output_index=0, item=output[-1])
    for index, (call_id, name, arguments) in enumerate(CALLS, start=1):
        item = {"type": "function_call", "id": f"fc_{index}", "call_id": call_id, "name": name,
                "arguments": "", "status": "in_progress"}
        add("response.output_item.added", output_index=index, item=item)
        for piece in _pieces(arguments, 5):
            add("response.function_call_arguments.delta", item_id=item["id"],
                output_index=index, delta=piece)
        add("response.function_call_arguments.done", item_id=item["id"], output_index=index,
            arguments=arguments)
        output.append({**item, "arguments": arguments, "status": "completed"})
        add("response.output_item.done", output_index=index, item=output[-1])
    index = len(output)
    message = {"type": "message", "id": "msg_1", "role": "assistant", "status": "in_progress",
               "content": []}
    add("response.output_item.added", output_index=index, item=message)
    text_part = {"type": "output_text", "text": "", "annotations": []}
    add("response.content_part.added", item_id="msg_1", output_index=index, content_index=0,
        part=text_part)
    for piece in _pieces(ANSWER, 4):
        add("response.output_text.delta", item_id="msg_1", output_index=index,
            content_index=0, delta=piece)
    add("response.output_text.done", item_id="msg_1", output_index=index, content_index=0,
        text=ANSWER)
    final_part = {**text_part, "text": ANSWER}
    add("response.content_part.done", item_id="msg_1", output_index=index, content_index=0,
        part=final_part)
    output.append({**message, "status": "completed", "content": [final_part]})
    add("response.output_item.done", output_index=index, item=output[-1])
    usage = {"input_tokens": 31, "input_tokens_details": {"cached_tokens": 0},
             "output_tokens": 212, "output_tokens_details": {"reasoning_tokens": 64},
             "total_tokens": 243}
    add("response.completed",
        response={**response, "status": "completed", "output": output, "usage": usage})
    encode = msgspec.json.encode
    return b"".join(b"event: " + e["type"].encode() + b"\ndata: " + encode(e) + b"\n\n"
                    for e in events)


async def capture(out: Path, chromium: str, *, pace: float = 0.01) -> dict[str, Any]:
    """Run the relay on the mock, ask the showcase question in Chromium, screenshot the page.

    Returns what the page shows (answer text, tools with their state, reasoning, usage line).
    """
    from playwright.async_api import async_playwright

    with tempfile.TemporaryDirectory() as tmp:
        recording = Path(tmp) / "showcase.sse"
        recording.write_bytes(showcase_sse())
        async with MockServer() as mock, ox.OpenAI(base_url=mock.base_url,
                                                   api_key="demo") as client:
            mock.enqueue(Scenario.replay(recording, fault=Fault.pace(pace)))
            async with Relay(client) as relay:
                runner = web.AppRunner(relay_app(relay), access_log=None)
                await runner.setup()
                try:
                    await web.TCPSite(runner, "127.0.0.1", 0).start()
                    url = f"http://127.0.0.1:{runner.addresses[0][1]}/"
                    async with async_playwright() as playwright:
                        browser = await playwright.chromium.launch(executable_path=chromium,
                                                                   args=CHROMIUM_ARGS)
                        try:
                            page = await browser.new_page(
                                viewport={"width": 900, "height": 760}, device_scale_factor=1)
                            await page.goto(url)
                            await page.fill("#prompt", PROMPT)
                            await page.select_option("#api", "responses")
                            await page.fill("#model", "gpt-5.4-mini")
                            await page.click("#send")
                            await page.wait_for_selector("body[data-status=completed]",
                                                         timeout=30_000)
                            await page.click("#reasoning summary")
                            await page.wait_for_selector("#usage:not(:empty)")
                            out.parent.mkdir(parents=True, exist_ok=True)
                            await page.screenshot(path=str(out), full_page=True)
                            return {
                                "answer": await page.inner_text("#answer"),
                                "tools": await page.eval_on_selector_all(
                                    "#tools li", "els => els.map(e => [e.className, "
                                    "e.querySelector('.tick').textContent, e.innerText])"),
                                "reasoning": await page.inner_text("#reasoning-text"),
                                "usage": await page.inner_text("#usage"),
                                "status": await page.inner_text("#status"),
                            }
                        finally:
                            await browser.close()
                finally:
                    await runner.cleanup()


def main(argv: list[str]) -> int:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        print("chromium is not installed (apt-get install chromium)", file=sys.stderr)
        return 1
    out = Path(argv[0]) if argv else DEFAULT_OUT
    facts = asyncio.run(capture(out, chromium, pace=0.03))
    print(f"wrote {out}: {facts['status']}; {facts['usage']}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
