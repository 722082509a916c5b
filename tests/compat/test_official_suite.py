"""The official ``openai`` package's own tests for its streaming and parse helpers, on compat.

The installed version's source distribution is fetched at test time (``pip download
openai==<version> --no-deps --no-binary :all:``, cached under ``~/.cache/oxide_rx``; nothing of
it is committed) and its ``tests/lib/chat/`` files and the non-WebSocket files of
``tests/lib/responses/`` run twice, with their assertions unchanged: once as shipped (the
official client), once with ``official/swap_plugin.py`` pointing their clients at
``oxide_rx.compat``. Every test that passes with the official client must pass with compat.
(Some of their tests fail with the official client too: snapshot files the sdist does not ship,
tests for providers; they are not counted.) The WebSocket files are not run here: compat's
``responses.connect()`` is compared with the official one in
``tests/websocket/test_compat_connect.py``.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

openai = pytest.importorskip("openai")

HERE = Path(__file__).parent
CACHE = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "oxide_rx"
FETCH_TIMEOUT = 180.0
RUN_TIMEOUT = 600.0
_RESULT = re.compile(r"^(PASSED|FAILED|ERROR) (.+?)( - .*)?$")


def _source() -> Path:
    """The unpacked sdist of the installed ``openai`` (fetched once, then cached)."""
    version = openai.__version__
    root = CACHE / f"openai-{version}"
    if (root / "tests" / "lib").is_dir():
        return root
    CACHE.mkdir(parents=True, exist_ok=True)
    archive = CACHE / f"openai-{version}.tar.gz"
    if not archive.exists():
        try:
            subprocess.run(
                [sys.executable, "-m", "pip", "download", f"openai=={version}", "--no-deps",
                 "--no-binary", ":all:", "-d", str(CACHE), "--quiet"],
                check=True, capture_output=True, timeout=FETCH_TIMEOUT)
        except (subprocess.SubprocessError, OSError) as exc:
            pytest.skip(f"cannot fetch the openai {version} source distribution: {exc}")
    if not archive.exists():
        pytest.skip(f"pip download gave no {archive.name}")
    with tarfile.open(archive) as tar:
        members = [m for m in tar.getmembers()
                   if m.name.startswith(f"openai-{version}/tests/")
                   or m.name == f"openai-{version}/pyproject.toml"]
        tar.extractall(CACHE, members=members, filter="data")
    return root


def _files(root: Path) -> list[str]:
    responses = sorted(p for p in (root / "tests/lib/responses").glob("test_*.py")
                       if "websocket" not in p.name)
    return ["tests/lib/chat", *(str(p.relative_to(root)) for p in responses)]


def _run(root: Path, *, swapped: bool) -> dict[str, tuple[str, str]]:
    """``{test id: (PASSED | FAILED | ERROR, why)}`` of one run of the official files."""
    for module in ("inline_snapshot", "rich"):  # what their tests import besides openai
        pytest.importorskip(module)
    plugins = ["-p", "swap_plugin"] if swapped else []
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(HERE / "official"), os.environ.get("PYTHONPATH", "")])}
    env.pop("OPENAI_API_KEY", None)
    env.pop("OPENAI_BASE_URL", None)
    command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "no:oxide_rx",
               "-o", "addopts=", "-o", "timeout=60", "-q", "-rA", *plugins, *_files(root)]
    done = subprocess.run(command, cwd=root, env=env, capture_output=True, text=True,
                          timeout=RUN_TIMEOUT)
    results = {}
    for line in done.stdout.splitlines():
        match = _RESULT.match(line)
        if match:
            results[match.group(2)] = (match.group(1), match.group(3) or "")
    if not results:
        pytest.fail(f"the official tests did not run:\n{done.stdout[-3000:]}\n"
                    f"{done.stderr[-3000:]}")
    return results


def test_official_helper_tests_pass_on_compat() -> None:
    root = _source()
    official = _run(root, swapped=False)
    compat = _run(root, swapped=True)
    passing = sorted(test for test, (outcome, _) in official.items() if outcome == "PASSED")
    assert passing, "no official test passes with the official client"
    outcomes = {test: compat.get(test, ("MISSING", " - did not run")) for test in passing}
    broken = [test + why for test, (outcome, why) in outcomes.items() if outcome != "PASSED"]
    print(f"\nofficial helper tests on compat: {len(passing) - len(broken)} passed "
          f"of the {len(passing)} the official client passes")
    assert not broken, f"{len(broken)} official tests fail on compat:\n" + "\n".join(broken)
