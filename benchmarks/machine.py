"""Facts about the machine and software a run measured, stored with every result.

>>> sorted(machine_facts())[:3]
['cores', 'cores_usable', 'cpu']
"""

from __future__ import annotations

import importlib.metadata
import os
import platform
import resource
import subprocess
from pathlib import Path
from typing import Any

__all__ = ["load_average", "machine_facts"]

PACKAGES = ("oxide_rx", "aiohttp", "msgspec", "reactivex", "jiter", "openai", "httpx2",
            "pydantic", "matplotlib")


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _memory_gib() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 2**20, 1)
    except OSError:
        pass
    return None


def _version(name: str) -> str | None:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


def _git(*args: str) -> str | None:
    root = Path(__file__).resolve().parent.parent
    try:
        out = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True,
                             timeout=10, check=True)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip()


def load_average() -> list[float]:
    """1, 5 and 15 minute load averages (a noisy machine shows here)."""
    return [round(v, 2) for v in os.getloadavg()]


def machine_facts() -> dict[str, Any]:
    """CPU, cores, memory, OS, Python, package versions and the git commit measured."""
    status = _git("status", "--porcelain", "--untracked-files=no")
    return {
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "cores_usable": len(os.sched_getaffinity(0)),
        "memory_gib": _memory_gib(),
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "packages": {name: _version(name) for name in PACKAGES},
        "git_commit": _git("rev-parse", "--short", "HEAD"),
        "git_dirty": bool(status) if status is not None else None,
        "fd_limit": resource.getrlimit(resource.RLIMIT_NOFILE)[0],
        "load_average_start": load_average(),
    }
