"""``oxide-rx serve``: offline on the built-in mock (saying so on stderr), page and API up,
a clean exit on SIGTERM."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sys

import aiohttp
from relay_support import collect

from oxide_rx.cli import main


async def test_serve_works_offline_and_says_so() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENAI_")}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "oxide_rx.cli", "serve", "--port", "0", env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    assert process.stdout is not None and process.stderr is not None
    try:
        async with asyncio.timeout(30):
            line = (await process.stdout.readline()).decode()
        match = re.search(r"listening on (http://127\.0\.0\.1:\d+/)", line)
        assert match, line
        url = match.group(1)
        async with aiohttp.ClientSession() as http:
            async with http.get(url) as page:
                assert "oxide_rx" in await page.text()
            async with http.post(url + "generations", json={"prompt": "Hello relay"}) as r:
                generation = (await r.json())["id"]
            async with http.get(f"{url}generations/{generation}/events") as events:
                received = await collect(events)
        assert received[0].event == "generation" and received[-1].event == "end"
        assert any(e.event == "ContentDelta" for e in received)
    finally:
        process.send_signal(signal.SIGTERM)
        async with asyncio.timeout(30):
            _, stderr = await process.communicate()
    assert process.returncode == 0
    assert "OPENAI_API_KEY is not set" in stderr.decode()
    assert "mock server" in stderr.decode()


def test_serve_is_in_the_cli_help(capsys: object) -> None:
    try:
        main(["serve", "--help"])
    except SystemExit as exit_:
        assert exit_.code == 0
    out = capsys.readouterr().out  # type: ignore[attr-defined]
    assert "--port" in out and "--unwatched-timeout" in out and "--redis URL" in out


async def test_serve_refuses_a_redis_it_cannot_reach_and_shows_no_password() -> None:
    from redis_support import free_port

    password = "pw-NEVER-shown"
    url = f"redis://:{password}@127.0.0.1:{free_port()}/0"
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENAI_")}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "oxide_rx.cli", "serve", "--port", "0", "--redis", url, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    async with asyncio.timeout(60):
        stdout, stderr = await process.communicate()
    assert process.returncode == 2
    assert "oxide-rx: Redis at redis://:***@127.0.0.1:" in stderr.decode()
    assert "ConnectionError" in stderr.decode()
    assert password not in (stdout + stderr).decode()
    assert "listening" not in stdout.decode()
