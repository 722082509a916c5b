"""The relay page in a real headless Chromium (Debian's, driven by Playwright for Python),
served by one node, and by two nodes on one real ``redis-server`` behind a round-robin
proxy (each page's event stream may land on either node)."""

from __future__ import annotations

import contextlib
import importlib.util
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from relay_support import CHROMIUM, serve_relay, wait_for
from round_robin_proxy import RoundRobinProxy

import oxide_rx as ox
from oxide_rx.relay import Relay
from oxide_rx.testing import Fault, MockServer, Scenario

ROOT = Path(__file__).resolve().parents[2]
TEXT = "Streams are **hot**: one request, many viewers.\n\nEach viewer sees every token once."
ANSWER = "Streams are hot: one request, many viewers.\n\nEach viewer sees every token once."

try:
    from playwright.async_api import Browser, Page, async_playwright
except ImportError:  # pragma: no cover - the test extra installs it
    async_playwright = None  # type: ignore[assignment]

pytestmark = [
    pytest.mark.skipif(async_playwright is None, reason="playwright is not installed"),
    pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (CI installs it)"),
]


def screenshot_script() -> Any:
    spec = importlib.util.spec_from_file_location(
        "relay_screenshot", ROOT / "scripts" / "relay_screenshot.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@dataclass
class Site:
    """The relay as the browser sees it: one address, one or more nodes behind it."""

    url: str
    relays: list[Relay]
    proxy: RoundRobinProxy | None = None
    nodes: list[str] = field(default_factory=list)
    """The nodes' own URLs (behind the proxy)."""

    def viewers(self, generation_id: str) -> int:
        """Viewers of the generation on every node."""
        return sum(relay.viewers(generation_id) for relay in self.relays)


@pytest_asyncio.fixture(params=["one node", "two nodes"])
async def site(request: pytest.FixtureRequest, client: ox.OpenAI) -> AsyncIterator[Site]:
    async with contextlib.AsyncExitStack() as stack:
        if request.param == "one node":
            relay = await stack.enter_async_context(Relay(client))
            runner, url = await serve_relay(relay)
            stack.push_async_callback(runner.cleanup)
            yield Site(url, [relay])
            return
        from oxide_rx.relay.redis_log import RedisLog

        url, prefix = request.getfixturevalue("redis_url"), request.getfixturevalue(
            "redis_prefix")
        relays, urls = [], []
        for name in ("a", "b"):
            log = await stack.enter_async_context(RedisLog.from_url(url, prefix=prefix))
            relay = await stack.enter_async_context(Relay(client, log=log, node=name))
            runner, node_url = await serve_relay(relay)
            stack.push_async_callback(runner.cleanup)
            relays.append(relay)
            urls.append(node_url)
        proxy = await stack.enter_async_context(RoundRobinProxy(urls))
        yield Site(proxy.url, relays, proxy, urls)


@pytest_asyncio.fixture
async def browser() -> AsyncIterator[Browser]:
    assert CHROMIUM is not None
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=CHROMIUM, args=screenshot_script().CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            await launched.close()


async def ask(page: Page, url: str, prompt: str = "Tell me about streams") -> str:
    await page.goto(url)
    await page.fill("#prompt", prompt)
    await page.click("#send")
    await page.wait_for_url("**?g=*")
    generation = page.url.split("?g=")[1]
    return generation


async def answer_of(page: Page) -> str:
    return await page.inner_text("#answer")


async def test_the_page_shows_the_streamed_answer(
    browser: Browser, site: Site, mock: MockServer
) -> None:
    mock.enqueue(Scenario.text(TEXT, fault=Fault.pace(0.002)))
    page = await browser.new_page()
    await ask(page, site.url)
    await page.wait_for_selector("body[data-status=completed]", timeout=15_000)
    assert await answer_of(page) == ANSWER
    assert await page.inner_text("#question") == "Tell me about streams"
    assert "output tokens" in await page.inner_text("#usage")
    assert await page.is_disabled("#stop")


async def test_two_pages_on_one_generation_make_one_upstream_request(
    browser: Browser, site: Site, mock: MockServer
) -> None:
    mock.enqueue(Scenario.text(TEXT, fault=Fault.hold_after(3)))
    first = await browser.new_page()
    generation = await ask(first, site.url)
    await mock.wait_for_held()
    second = await browser.new_page()
    await second.goto(f"{site.url}?g={generation}")
    await wait_for(lambda: site.viewers(generation) == 2)
    if site.proxy is not None:  # one page on each node
        assert site.proxy.backend_of("events") == [n.rstrip("/") for n in site.nodes]
    mock.release_held()
    for page in (first, second):
        await page.wait_for_selector("body[data-status=completed]", timeout=15_000)
        assert await answer_of(page) == ANSWER
    assert len(mock.model_requests()) == 1


async def test_a_page_reloaded_mid_stream_ends_with_the_answer_once(
    browser: Browser, site: Site, mock: MockServer
) -> None:
    mock.enqueue(Scenario.text(TEXT, fault=Fault.hold_after(6)))
    page = await browser.new_page()
    generation = await ask(page, site.url)
    await mock.wait_for_held()
    await page.wait_for_function("document.querySelector('#answer').innerText.length > 4")
    await page.reload()
    await page.wait_for_function("document.querySelector('#answer').innerText.length > 4")
    await wait_for(lambda: site.viewers(generation) == 1, timeout=15)
    if site.proxy is not None:  # the reload's stream landed on the other node
        first, again = site.proxy.backend_of("events")[:2]
        assert first != again
    mock.release_held()
    await page.wait_for_selector("body[data-status=completed]", timeout=15_000)
    assert await answer_of(page) == ANSWER
    assert len(mock.model_requests()) == 1


async def test_the_stop_button_stops_the_upstream_request(
    browser: Browser, site: Site, mock: MockServer
) -> None:
    mock.enqueue(Scenario.text(TEXT, fault=Fault.hold_after(6)))
    page = await browser.new_page()
    await ask(page, site.url)
    await mock.wait_for_held()
    await page.wait_for_function("!document.querySelector('#stop').disabled")
    await page.click("#stop")
    await page.wait_for_selector("body[data-status=stopped]", timeout=15_000)
    await mock.wait_for_disconnects(1)
    partial = await answer_of(page)
    assert partial and ANSWER.startswith(partial)


async def test_tools_reasoning_and_usage_render_and_the_screenshot_is_made(
    tmp_path: Path,
) -> None:
    assert CHROMIUM is not None
    out = tmp_path / "relay-page.png"
    facts = await screenshot_script().capture(out, CHROMIUM)
    assert out.stat().st_size > 10_000
    assert [(cls, tick) for cls, tick, _ in facts["tools"]] == [("done", "✓"), ("done", "✓")]
    assert 'get_weather({"city":"Paris","unit":"celsius"})' in facts["tools"][0][2]
    assert facts["reasoning"].startswith("The user wants weather")
    assert facts["answer"].startswith("Paris: take the umbrella")
    assert "tokens/s" in facts["usage"]
    assert facts["status"].startswith("done")
