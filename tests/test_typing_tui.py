"""The types of smooth, metrics and the plain iterators, as users see them (mypy --strict)."""

from __future__ import annotations

import subprocess
import sys

import pytest
from support import ROOT


@pytest.mark.timeout(600)
def test_smooth_metrics_and_iterators_type_check_for_users() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "tests/typing/tui_api.py"],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
