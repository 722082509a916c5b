"""The types of tools, tool runs, item streams and partial values, as users see them
(mypy --strict on tests/typing/tools_api.py)."""

from __future__ import annotations

import subprocess
import sys

import pytest
from support import ROOT


@pytest.mark.timeout(600)
def test_tools_runs_and_item_streams_type_check_for_users() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "tests/typing/tools_api.py"],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
