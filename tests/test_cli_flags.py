"""``oxide-rx chat --smooth / --stats / --events [--snapshots]`` and ``oxide-rx tui``, offline."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from oxide_rx import cli

PROMPT = "Write a haiku about Rust programming."


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENAI_")}
    return subprocess.run(
        [sys.executable, "-m", "oxide_rx.cli", *args],
        env=env, capture_output=True, text=True, timeout=60,
    )


def test_stats_prints_one_summary_line_on_stderr_and_keeps_stdout_plain() -> None:
    plain = _run("chat", PROMPT)
    result = _run("chat", "--stats", PROMPT)
    assert result.returncode == 0, result.stderr
    assert result.stdout == plain.stdout
    summary = [line for line in result.stderr.splitlines() if "TTFT" in line]
    assert len(summary) == 1
    assert re.fullmatch(
        r"oxide-rx: TTFT \d+\.\d\d s · [\d.]+ tokens/s · 0 stalls · total \d+\.\d\d s",
        summary[0],
    ), summary[0]


def test_stats_on_the_responses_api_counts_tokens_too() -> None:
    result = _run("chat", "--api", "responses", "--stats", PROMPT)
    assert result.returncode == 0, result.stderr
    assert "tokens/s" in result.stderr


def test_smooth_prints_the_same_text() -> None:
    plain = _run("chat", PROMPT)
    smooth = _run("chat", "--smooth", PROMPT)
    assert smooth.returncode == 0, smooth.stderr
    assert smooth.stdout == plain.stdout and "rust" in smooth.stdout.lower()


def test_events_leave_snapshots_out_unless_asked() -> None:
    result = _run("chat", "--events", PROMPT)
    assert result.returncode == 0, result.stderr
    deltas = [line for line in result.stdout.splitlines() if line.startswith("ContentDelta(")]
    assert deltas and all("snapshot=" not in line for line in deltas)
    assert deltas[1].startswith("ContentDelta(delta='")
    assert deltas[1].endswith(", choice=0, output_index=None)")

    with_snapshots = _run("chat", "--events", "--snapshots", PROMPT)
    deltas = [line for line in with_snapshots.stdout.splitlines()
              if line.startswith("ContentDelta(")]
    assert all("snapshot=" in line for line in deltas)


def test_events_output_grows_linearly_with_the_answer() -> None:
    lines = _run("chat", "--events", PROMPT).stdout.splitlines()
    longest = max(len(line) for line in lines if line.startswith("ContentDelta("))
    assert longest < 60  # a 4-character delta, never the whole text so far


def test_events_with_smooth_carry_whole_words() -> None:
    result = _run("chat", "--events", "--smooth", PROMPT)
    assert result.returncode == 0, result.stderr
    deltas = re.findall(r"^ContentDelta\(delta='(.*)', choice=0, output_index=None\)$",
                        result.stdout, re.M)
    words = [d for d in deltas if d]
    assert all(d.endswith((" ", "\\n")) for d in words[:-1])
    assert len(words) > 5


def test_tui_starts_the_app_with_the_options(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("textual", reason="textual is the optional `tui` extra")
    from oxide_rx.ui.tui import ChatApp

    started: list[ChatApp] = []
    monkeypatch.setattr(ChatApp, "run", lambda self, *a, **k: started.append(self))
    argv = ["tui", "--api", "responses", "--model", "m", "--system", "Be brief.", "--no-smooth"]
    assert cli.main(argv) == 0
    (app,) = started
    assert (app.conversation.api, app.conversation.model, app.conversation.system) == (
        "responses", "m", "Be brief."
    )
    assert app.smooth is False


def test_tui_without_textual_says_how_to_install_it(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    if "oxide_rx.ui.tui" in sys.modules:  # never run the real app in a test's terminal
        app_class = sys.modules["oxide_rx.ui.tui"].ChatApp
        monkeypatch.setattr(app_class, "run", lambda *a, **k: pytest.fail("the app ran"))
    # None in sys.modules makes the import fail, as it does without textual installed.
    monkeypatch.setitem(sys.modules, "oxide_rx.ui.tui", None)
    assert cli.main(["tui"]) == 2
    assert "pip install 'oxide_rx[tui]'" in capsys.readouterr().err


def test_tui_help() -> None:
    result = _run("tui", "--help")
    assert result.returncode == 0
    assert "--api" in result.stdout and "--no-smooth" in result.stdout
