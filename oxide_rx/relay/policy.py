"""What a relay's generations are allowed: which APIs, how long things may take."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = ["Api", "RelayPolicy"]

Api = Literal["chat", "responses"]
"""The upstream API a generation streams from."""


@dataclass(frozen=True)
class RelayPolicy:
    """How long things may take, and when generations stop on their own.

    >>> RelayPolicy(unwatched_timeout=30).retention
    600.0
    """

    unwatched_timeout: float = 60.0
    """Seconds a running generation may go without any viewer before it is stopped."""
    retention: float = 600.0
    """Seconds an ended generation stays readable (resume, late joiners, non-streaming)."""
    keepalive: float = 15.0
    """Seconds between keep-alive comments to an idle viewer (and the log's blocking read)."""
    tick: float = 1.0
    """Seconds between checks that idle viewers are still connected."""
    max_viewer_lag: int = 10_000
    """Frames a viewer may fall behind the live tail before it is cut off (it resumes by id)."""
    write_timeout: float = 30.0
    """Seconds one write to a viewer may take before the viewer is dropped."""
    stop_timeout: float = 10.0
    """Seconds :meth:`Relay.stop` waits for the generation's last entry."""
    start_timeout: float = 600.0
    """Seconds a request that joins a generation waits for its first event (the owner may
    still be waiting for the upstream's response headers)."""
