"""Deadlines of one request."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Timeout"]


@dataclass(frozen=True, slots=True)
class Timeout:
    """Deadlines for one request, in seconds (``None`` = no deadline).

    - ``connect``: to open the TCP/TLS connection;
    - ``headers``: from sending the request to having the response headers;
    - ``idle``: the longest gap between two *events* of a stream (keep-alive comments do not
      count as progress), and between two reads of a non-streaming body;
    - ``total``: a deadline for a whole non-streaming exchange; streams have none by default.

    >>> Timeout(idle=30.0)
    Timeout(connect=5.0, headers=600.0, idle=30.0, total=None)
    """

    connect: float | None = 5.0
    headers: float | None = 600.0
    idle: float | None = 600.0
    total: float | None = None

    @classmethod
    def coerce(cls, value: Timeout | float | None) -> Timeout:
        """A float means the same deadline for headers and idle (the official SDK's read)."""
        if isinstance(value, Timeout):
            return value
        if value is None:
            return cls()
        return cls(headers=float(value), idle=float(value))
