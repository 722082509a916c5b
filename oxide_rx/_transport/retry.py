"""When to retry a request, and how long to wait first.

Retry policy (same promises as the official SDKs, see ../shared/reference/reliability.md §1.1):

- only before a response is handed to the caller: a stream that has started is never re-sent;
- statuses 408, 409, 429 and >= 500, and connection errors / timeouts;
- ``x-should-retry: true|false`` overrides the status rule;
- the server's ``retry-after-ms`` / ``retry-after`` (seconds or HTTP date) is honoured when
  0 < delay <= ``MAX_RETRY_AFTER``; a longer requested delay means "do not retry";
- otherwise exponential backoff with jitter: ``min(0.5 * 2**n, 8) * (1 - 0.25 * random())``.
"""

from __future__ import annotations

import email.utils
import math
import random
import time
from collections.abc import Mapping

__all__ = ["MAX_RETRY_AFTER", "RETRY_STATUSES", "backoff_delay", "retry_after", "should_retry"]

RETRY_STATUSES = frozenset({408, 409, 429})
MAX_RETRY_AFTER = 60.0
MAX_BACKOFF = 8.0


def _seconds(raw: str) -> float | None:
    """A finite number of seconds, or None for anything else (``nan``, ``inf``, text)."""
    try:
        value = float(raw)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def retry_after(headers: Mapping[str, str]) -> float | None:
    """The delay the server asks for, in seconds, if it asks for one it can mean.

    ``retry-after-ms`` (float milliseconds) wins over ``retry-after`` (float seconds or an
    HTTP date); a value that does not parse is ignored (backoff applies) rather than raised.

    >>> retry_after({"retry-after-ms": "50"}), retry_after({"retry-after": "2"})
    (0.05, 2.0)
    >>> retry_after({"retry-after": "soon"}) is None
    True
    """
    raw_ms = headers.get("retry-after-ms")
    if raw_ms is not None:
        millis = _seconds(raw_ms)
        if millis is not None:
            return millis / 1000.0
    raw = headers.get("retry-after")
    if raw is None:
        return None
    seconds = _seconds(raw)
    if seconds is not None:
        return seconds
    parsed = email.utils.parsedate_tz(raw)
    if parsed is None:
        return None
    try:
        return email.utils.mktime_tz(parsed) - time.time()
    except (OverflowError, ValueError):
        return None


def should_retry(status: int, headers: Mapping[str, str]) -> bool:
    override = headers.get("x-should-retry")
    if override == "true":
        return True
    if override == "false":
        return False
    return status in RETRY_STATUSES or status >= 500


def backoff_delay(retries_taken: int) -> float:
    """Exponential backoff with jitter, capped at ``MAX_BACKOFF`` seconds."""
    return min(0.5 * 2.0 ** min(retries_taken, 64), MAX_BACKOFF) * (1.0 - 0.25 * random.random())
