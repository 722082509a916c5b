"""The ``oxide-rx`` command, offline (the built-in mock server)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENAI_")}
    return subprocess.run(
        [sys.executable, "-m", "oxide_rx.cli", *args],
        env=env, capture_output=True, text=True, timeout=60,
    )


def test_chat_streams_the_answer_and_says_it_uses_the_mock() -> None:
    result = _run("chat", "Write a haiku about Rust programming.")
    assert result.returncode == 0, result.stderr
    assert "OPENAI_API_KEY is not set" in result.stderr
    assert "rust" in result.stdout.lower()


def test_events_prints_every_typed_event_one_per_line() -> None:
    result = _run("chat", "--events", "--system", "Be brief.", "Hi")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("Chunk {")
    assert any(line.startswith("ContentDelta(") for line in lines)
    assert lines[-2].startswith("Done(finish_reason='stop'")
    assert lines[-1].startswith("Metrics(time_to_first_token=")


@pytest.mark.parametrize("argv", [["--help"], ["chat", "--help"], ["mock-server", "--help"]])
def test_help_describes_the_commands(argv: list[str]) -> None:
    result = _run(*argv)
    assert result.returncode == 0
    assert "usage: oxide-rx" in result.stdout
