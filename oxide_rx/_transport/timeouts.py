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
    - ``total``: a deadline for a whole non-streaming exchange; streams have none by default;
    - ``first_event``: the longest wait, once a stream starts reading, for its first output
      (text, refusal, reasoning, tool arguments: lifecycle events such as
      ``response.created`` do not count). Until then ``idle`` does not apply, after it only
      ``idle`` does: a reasoning model may think for minutes before its first token, while a
      connection that stalls once tokens flow is noticed after ``idle``. ``None``: ``idle``
      applies from the start.

    >>> Timeout(idle=30.0, first_event=900.0)
    Timeout(connect=5.0, headers=600.0, idle=30.0, total=None, first_event=900.0)
    """

    connect: float | None = 5.0
    headers: float | None = 600.0
    idle: float | None = 600.0
    total: float | None = None
    first_event: float | None = None

    @classmethod
    def coerce(cls, value: Timeout | float | None) -> Timeout:
        """A float means the same deadline for headers and idle (the official SDK's read)."""
        if isinstance(value, Timeout):
            return value
        if value is None:
            return cls()
        return cls(headers=float(value), idle=float(value))
