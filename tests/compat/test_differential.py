"""Differential tests of ``oxide_rx.compat`` against the official ``openai`` package.

Every ``programs/pNN_*.py`` is a small program written against the official package. Each runs
twice against one mock server: as written, and with its import line rewritten to
``oxide_rx.compat``. Both runs must print the same thing (after masking the ids and timestamps
the mock server makes up) and end the same way (exit status; for an uncaught error, the
exception's class name).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

pytest.importorskip("openai")

# The first test waits for every program, both ways (64 interpreter starts on 2 cores).
pytestmark = pytest.mark.timeout(600)

PROGRAMS = sorted((Path(__file__).parent / "programs").glob("p[0-9][0-9]_*.py"))
RUN_TIMEOUT = 60.0
WORKERS = 4

# What the mock server makes up per request: ids, request ids, timestamps.
_MASKS = (
    (re.compile(r"\b(chatcmpl-|resp_|msg_|fc_|rs_|call_|req_)[A-Za-z0-9]{8,}"), r"\1<id>"),
    (re.compile(r"\b1[6-9]\d{8}(\.0)?\b"), "<timestamp>"),
)
_EXCEPTION_LINE = re.compile(r"^([A-Za-z_][\w.]*)(?::|$)")


def rewrite(source: str) -> str:
    """The one-line migration: the official import becomes the compat import."""
    source = re.sub(r"^from openai import", "from oxide_rx.compat import", source, flags=re.M)
    return re.sub(r"^import openai$", "import oxide_rx.compat as openai", source, flags=re.M)


def normalise(text: str) -> str:
    for pattern, replacement in _MASKS:
        text = pattern.sub(replacement, text)
    return text


def exception_class(stderr: str) -> str | None:
    """The class name of the uncaught exception a traceback ends with (module dropped)."""
    for line in reversed(stderr.strip().splitlines()):
        match = _EXCEPTION_LINE.match(line)
        if match and not line.startswith(" "):
            return match.group(1).rsplit(".", 1)[-1]
    return None


def _run(path: Path, base_url: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENAI_")}
    env.update(OPENAI_API_KEY="sk-test", OPENAI_BASE_URL=base_url, PYTHONHASHSEED="0")
    try:
        return subprocess.run([sys.executable, str(path)], capture_output=True, text=True,
                              env=env, timeout=RUN_TIMEOUT, cwd=path.parent)
    except subprocess.TimeoutExpired as exc:
        return subprocess.CompletedProcess(exc.cmd, -1, str(exc.stdout or ""),
                                           f"timed out after {RUN_TIMEOUT} s")


@pytest.fixture(scope="module")
def results(
    base_url: str, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, tuple[subprocess.CompletedProcess[str], subprocess.CompletedProcess[str]]]:
    """Every program, both ways, run in parallel (a small pool: the machine has 2 cores)."""
    compat_dir = tmp_path_factory.mktemp("compat_programs")
    jobs = []
    for program in PROGRAMS:
        swapped = compat_dir / program.name
        swapped.write_text(rewrite(program.read_text()))
        jobs.append((program.name, program, swapped))
    with ThreadPoolExecutor(WORKERS) as pool:
        futures = {name: (pool.submit(_run, official, base_url), pool.submit(_run, compat,
                                                                             base_url))
                   for name, official, compat in jobs}
        return {name: (a.result(), b.result()) for name, (a, b) in futures.items()}


def test_there_are_enough_programs() -> None:
    assert len(PROGRAMS) >= 25


def test_every_program_has_the_official_import() -> None:
    for program in PROGRAMS:
        source = program.read_text()
        assert "oxide_rx" not in source, program.name
        assert rewrite(source) != source, program.name


@pytest.mark.parametrize("program", PROGRAMS, ids=lambda p: p.stem)
def test_compat_prints_what_openai_prints(
    program: Path,
    results: dict[str, tuple[subprocess.CompletedProcess[str],
                             subprocess.CompletedProcess[str]]],
) -> None:
    official, compat = results[program.name]
    context = (f"\n--- openai stderr:\n{official.stderr[-2000:]}"
               f"\n--- compat stderr:\n{compat.stderr[-2000:]}")
    assert official.stdout.strip(), "the official run printed nothing" + context
    assert normalise(compat.stdout) == normalise(official.stdout), context
    assert compat.returncode == official.returncode, context
    if official.returncode != 0:
        assert exception_class(compat.stderr) == exception_class(official.stderr), context
