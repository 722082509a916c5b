"""The adapter recipes run: FastAPI, an aiohttp app with the relay mounted, Streamlit (its own
test runner, its own loop), Gradio's function (without gradio), and the loop fix."""

from __future__ import annotations

import asyncio
import importlib.util
import itertools
import socket
import threading
from pathlib import Path
from types import ModuleType
from typing import Any

import aiohttp
import msgspec
import pytest
from relay_support import collect, serve_relay
from ui_validator import read_ui_stream

import oxide_rx as ox
from oxide_rx.relay import Relay
from oxide_rx.testing import MockServer, Scenario

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "adapters"


def load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def offline(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL"):
        monkeypatch.delenv(name, raising=False)


async def test_fastapi_example_streams_typed_sse(offline: None) -> None:
    uvicorn = pytest.importorskip("uvicorn")
    app = load("fastapi_app").app
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    serving = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        async with asyncio.timeout(10):
            while not server.started:
                await asyncio.sleep(0.01)
        async with aiohttp.ClientSession() as http, http.get(
            f"http://127.0.0.1:{port}/ask", params={"q": "Hi"}
        ) as response:
            events = await collect(response)
    finally:
        server.should_exit = True
        await serving
        sock.close()
    text = "".join(msgspec.json.decode(e.data)["delta"] for e in events
                   if e.event == "ContentDelta")
    assert text
    ids = [int(e.id) for e in events]
    assert ids == sorted(set(ids))  # one id per event, increasing: Last-Event-ID works
    assert events[-1].event == "end"
    assert msgspec.json.decode(events[-1].data)["status"] == "completed"


async def test_aiohttp_example_mounts_the_relay_and_its_own_handler(
    mock: MockServer, client: ox.OpenAI
) -> None:
    app = load("aiohttp_app").make_app(client)
    from aiohttp import web

    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    url = f"http://127.0.0.1:{runner.addresses[0][1]}"
    mock.enqueue(Scenario.text("From my own handler."), Scenario.text("From the relay."))
    try:
        async with aiohttp.ClientSession() as http:
            async with http.get(url + "/ask", params={"q": "Hi"}) as response:
                assert read_ui_stream(await response.read()).text == "From my own handler."
            async with http.get(url + "/relay/") as page:
                assert "oxide_rx" in await page.text()
            async with http.post(url + "/relay/generations", json={"prompt": "Hi"}) as started:
                generation = (await started.json())["id"]
            async with http.get(f"{url}/relay/generations/{generation}/ui") as response:
                assert read_ui_stream(await response.read()).text == "From the relay."
    finally:
        await runner.cleanup()


def test_streamlit_example_writes_the_streamed_answer(offline: None) -> None:
    testing = pytest.importorskip("streamlit.testing.v1")
    app = testing.AppTest.from_file(str(EXAMPLES / "streamlit_app.py"), default_timeout=30)
    app.run()
    app.chat_input[0].set_value("Tell me about streams").run()
    assert not app.exception
    assistant = app.chat_message[1]
    assert assistant.name == "assistant"
    assert "streams" in assistant.markdown[0].value.lower()


def test_streamlit_with_a_stream_from_another_loop_says_what_to_do(offline: None) -> None:
    testing = pytest.importorskip("streamlit.testing.v1")
    script = '''
import asyncio
import streamlit as st
import oxide_rx as ox
from oxide_rx.testing import MockServer

async def open_elsewhere():
    server = MockServer()
    await server.start()
    client = ox.OpenAI(base_url=server.base_url, api_key="k")
    return await client.chat.completions.create_stream(
        model="m", messages=[{"role": "user", "content": "Hi"}])

stream = asyncio.run(open_elsewhere())
st.write_stream(ox.ui.text_deltas(stream))
'''
    app = testing.AppTest.from_string(script, default_timeout=30).run()
    assert app.exception
    assert "opened on another event loop" in app.exception[0].message
    assert "lambda: client.chat.completions.create_stream" in app.exception[0].message


async def test_gradio_recipe_yields_growing_text_ending_with_the_answer(offline: None) -> None:
    gradio_app = load("gradio_app")  # the recipe's logic; gradio itself is not installed in CI
    history = [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello"},
               {"role": "system", "content": "ignored"}]
    assert gradio_app.to_messages("More", history) == [
        {"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello"},
        {"role": "user", "content": "More"}]
    texts = [text async for text in gradio_app.respond("Tell me about streams", [])]
    assert texts and all(b.startswith(a) for a, b in itertools.pairwise(texts))
    assert "streams" in texts[-1].lower()


def _in_new_loop(coroutine: Any) -> Any:
    """Run ``coroutine`` on a fresh loop in another thread (as Streamlit does)."""
    box: dict[str, Any] = {}

    def run() -> None:
        try:
            box["value"] = asyncio.run(coroutine)
        except BaseException as exc:
            box["error"] = exc

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(30)
    if "error" in box:
        raise box["error"]
    return box["value"]


async def test_text_deltas_opens_a_stream_from_a_function_on_the_consuming_loop(
    mock: MockServer
) -> None:
    mock.enqueue(Scenario.text("Opened where it is read."))

    async def consume() -> str:
        async with ox.OpenAI(base_url=mock.base_url, api_key="sk-relay-test-SECRET-never-shown",
                             max_retries=0) as client:
            pieces = ox.ui.text_deltas(lambda: client.chat.completions.create_stream(
                model="m", messages=[{"role": "user", "content": "Hi"}]))
            return "".join([piece async for piece in pieces])

    assert await asyncio.to_thread(_in_new_loop, consume()) == "Opened where it is read."


async def test_text_deltas_refuses_a_stream_of_another_loop_with_help(
    client: ox.OpenAI, relay: Relay
) -> None:
    stream = await client.chat.completions.create_stream(
        model="m", messages=[{"role": "user", "content": "Hi"}])

    async def consume() -> list[str]:
        return [piece async for piece in ox.ui.text_deltas(stream)]

    try:
        with pytest.raises(RuntimeError, match="opened on another event loop"):
            await asyncio.to_thread(_in_new_loop, consume())
    finally:
        await stream.aclose()


async def test_the_relay_mounts_under_a_prefix(relay: Relay, mock: MockServer) -> None:
    runner, url = await serve_relay(relay, prefix="/relay/")
    mock.enqueue(Scenario.text("Mounted."))
    try:
        async with aiohttp.ClientSession() as http:
            async with http.get(url) as page:  # the page's URLs are relative to /relay/
                assert "static/app.js" in await page.text()
            async with http.get(url + "static/app.js") as script:
                assert script.status == 200
            async with http.post(url + "generations", json={"prompt": "Hi"}) as started:
                body = await started.json()
            assert body["urls"]["events"] == f"/relay/generations/{body['id']}/events"
            async with http.get(url + f"generations/{body['id']}/events") as events:
                assert events.headers["x-oxide-rx-generation"] == body["id"]
                assert any(e.event == "end" for e in await collect(events))
    finally:
        await runner.cleanup()
