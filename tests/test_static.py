"""The package stays typed (mypy --strict, py.typed) and lint-clean (ruff)."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest
from support import ROOT


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, timeout=600
    )


@pytest.mark.timeout(600)
def test_mypy_strict_is_clean_on_the_package() -> None:
    result = _run("mypy", "--strict", "oxide_rx")
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.timeout(600)
def test_public_api_types_check_for_users() -> None:
    result = _run("mypy", "--strict", "tests/typing/public_api.py")
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_is_clean() -> None:
    if shutil.which("ruff") is None and _run("ruff", "--version").returncode != 0:
        pytest.skip("ruff is not installed (it comes with the [test] extra)")
    result = _run("ruff", "check", "oxide_rx", "tests", "examples", "benchmarks")
    assert result.returncode == 0, result.stdout + result.stderr


def test_package_ships_py_typed() -> None:
    assert (ROOT / "oxide_rx" / "py.typed").is_file()
