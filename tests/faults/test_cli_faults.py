"""Issue 10, hole 13: the CLI as a new user meets it.

``oxide-rx chat ... | head -c 20`` stops the request when stdout closes and exits quietly;
``--timeout``; ``--version``; ``-`` reads the prompt from stdin; ``mock-server`` on a busy
port says so in one line; the help text has no reST markup. Each runs the real command in a
subprocess, against a mock server or a raw socket on this test's loop.
"""

from __future__ import annotations

import asyncio
import os
import shlex
import sys

import pytest
from rawsocket import RawServer, respond, sse_head

from oxide_rx import __version__
from oxide_rx.testing import Fault, MockServer, Scenario

COMMAND = [sys.executable, "-m", "oxide_rx.cli"]
LONG = " ".join(f"word{i}" for i in range(400))


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("OPENAI_") and "proxy" not in k.lower()}
    env.update(extra)
    return env


async def _run(*args: str, stdin: bytes | None = None,
               env: dict[str, str] | None = None) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        *COMMAND, *args, env=env or _env(), stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    stdout, stderr = await asyncio.wait_for(process.communicate(stdin), 60)
    assert process.returncode is not None
    return process.returncode, stdout.decode(), stderr.decode()


async def test_a_closed_stdout_stops_the_request_and_exits_quietly() -> None:
    async with MockServer() as server:
        # ~8 s of paced events if read to the end: the reader leaves after 20 bytes.
        server.enqueue(Scenario.text(LONG, fault=Fault(pace_interval=0.02)))
        chat = shlex.join([*COMMAND, "chat", "--base-url", server.base_url, "Tell me"])
        script = f'{chat} | head -c 20; echo "status=${{PIPESTATUS[0]}}" >&2'
        process = await asyncio.create_subprocess_exec(
            "bash", "-c", script, env=_env(OPENAI_API_KEY="sk-test"),
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        stdout, stderr = await asyncio.wait_for(process.communicate(), 60)
        await server.wait_for_disconnects(1, timeout=10)  # the request was stopped early
        assert server.model_requests()[0].json["stream"] is True
    assert len(stdout) == 20
    assert stderr.decode().strip() == "status=0"  # no traceback, no BrokenPipeError


async def test_timeout_ends_a_stalled_stream_with_one_line() -> None:
    async with RawServer(respond(sse_head(), then="hold")) as server:
        code, _, stderr = await _run(
            "chat", "--base-url", server.base_url, "--timeout", "0.3", "Hi",
            env=_env(OPENAI_API_KEY="sk-test"))
    assert code == 1
    assert stderr.strip().splitlines() == [
        "oxide-rx: APITimeoutError: No event arrived for 0.3 s (idle timeout)"]


@pytest.mark.parametrize("value", ["0", "-1", "soon"])
async def test_timeout_must_be_a_positive_number(value: str) -> None:
    code, _, stderr = await _run("chat", "--timeout", value, "Hi")
    assert code == 2
    assert "--timeout" in stderr and "Traceback" not in stderr


async def test_version_prints_the_package_version() -> None:
    code, stdout, _ = await _run("--version")
    assert (code, stdout.strip()) == (0, f"oxide-rx {__version__}")


async def test_a_dash_reads_the_prompt_from_stdin() -> None:
    async with MockServer() as server:
        code, stdout, stderr = await _run("chat", "--base-url", server.base_url, "-",
                                          stdin=b"Explain borrowing lifetimes\n",
                                          env=_env(OPENAI_API_KEY="sk-test"))
        sent = server.model_requests()[0].json["messages"][-1]["content"]
    assert code == 0, stderr
    assert sent == "Explain borrowing lifetimes"
    assert "borrowing" in stdout.lower()


async def test_an_empty_stdin_prompt_is_refused() -> None:
    code, stdout, stderr = await _run("chat", "-", stdin=b"  \n")
    assert (code, stdout) == (2, "")
    assert stderr.strip() == "oxide-rx: no prompt: stdin was empty"


async def test_mock_server_on_a_busy_port_says_so_in_one_line() -> None:
    async with RawServer(respond(b"")) as busy:
        port = busy.port
        code, _, stderr = await _run("mock-server", "--port", str(port))
    assert code == 1
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith(f"oxide-rx: cannot listen on 127.0.0.1:{port}: ")
    assert "in use" in lines[0]


@pytest.mark.parametrize("argv", [["--help"], ["chat", "--help"], ["tui", "--help"],
                                  ["mock-server", "--help"], ["serve", "--help"]])
async def test_help_has_no_markup(argv: list[str]) -> None:
    code, stdout, _ = await _run(*argv)
    assert code == 0
    assert "usage: oxide-rx" in stdout
    assert "``" not in stdout and "`" not in stdout and ":func:" not in stdout
