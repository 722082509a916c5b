"""Relay one paid generation to many viewers: browsers, ``useChat`` front ends, official SDKs.
"""

from __future__ import annotations

from .log import (
    Entry,
    GenerationLog,
    GenerationNotFound,
    InvalidEventId,
    LogLimits,
    MemoryLog,
    RelayError,
    RelayLimitError,
)
from .relay import Relay, RelayPolicy, Started

__all__ = [
    "Entry",
    "GenerationLog",
    "GenerationNotFound",
    "InvalidEventId",
    "LogLimits",
    "MemoryLog",
    "Relay",
    "RelayError",
    "RelayLimitError",
    "RelayPolicy",
    "Started",
]
