"""Shared test helpers: where ../shared lives, and skipping cleanly when it does not.

(A plain module, not conftest.py: tests/compat has a conftest of its own, and two modules
named ``conftest`` cannot both be imported by name.)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import oxide_rx as ox

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
CONFORMANCE = SHARED / "conformance" / "sse"
CORPUS = SHARED / "corpus" / "openai"

needs_shared = pytest.mark.skipif(
    not CORPUS.is_dir() or not CONFORMANCE.is_dir(),
    reason=f"../shared not found at {SHARED}: the conformance cases and recorded corpus live there",
)


def corpus_files(prefix: str) -> list[Path]:
    """Recorded streams whose names start with ``prefix`` (empty when ../shared is absent)."""
    if not CORPUS.is_dir():
        return []
    return sorted(CORPUS.glob(f"{prefix}*.sse"))


def read_frames(path: Path) -> list[bytes]:
    """The ``data:`` payloads of a recorded chat stream, up to ``[DONE]`` (simple framing)."""
    payloads = []
    for block in path.read_bytes().replace(b"\r\n", b"\n").split(b"\n\n"):
        lines = [line[5:].removeprefix(b" ") for line in block.split(b"\n")
                 if line.startswith(b"data:")]
        if not lines:
            continue
        data = b"\n".join(lines)
        if data == b"[DONE]":
            break
        payloads.append(data)
    return payloads


def chat_events(acc: Any, chunk: Any) -> list[Any]:
    """What a stream emits for one chunk: the ``Chunk`` wire event, then the helper events."""
    return [ox.Chunk(chunk), *acc.handle_chunk(chunk)]


def response_events(acc: Any, event: Any) -> list[Any]:
    """What a stream emits for one Responses wire event: itself, then the helper events
    (nothing for a replay the accumulator drops)."""
    helpers = acc.handle_event(event)
    return [] if helpers is None else [event, *helpers]
