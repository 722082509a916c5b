"""The README's two commands are the ones that work: the demo in a fresh virtual environment
on a clean clone, and the test command that .ci/run runs (CI runs that one on a fresh clone)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from support import ROOT

README = (ROOT / "README.md").read_text()


def _two_commands() -> list[str]:
    section = README.split("## Two commands", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```sh\n(.+?)\n```", section)


def test_readme_shows_exactly_two_commands() -> None:
    assert len(_two_commands()) == 2


def test_ci_runs_the_readme_test_command() -> None:
    ci_script = (ROOT / ".ci" / "run").read_text()
    assert _two_commands()[1] in ci_script.splitlines()


@pytest.mark.timeout(600)
def test_demo_command_works_offline_in_a_fresh_venv_on_a_clean_clone(tmp_path: Path) -> None:
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    if not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True, timeout=120)
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "VIRTUAL_ENV"))}
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    result = subprocess.run(
        ["bash", "-c", _two_commands()[0]],
        cwd=clone, env=env, capture_output=True, text=True, timeout=540,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "mock server" in result.stderr
    assert "rust" in result.stdout.lower()
