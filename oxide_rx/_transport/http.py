"""One HTTP exchange with the API: retries before the first byte, deadlines, typed errors.

Retry policy (same promises as the official SDKs, see ../shared/reference/reliability.md §1.1):

- only before a response is handed to the caller: a stream that has started is never re-sent;
- statuses 408, 409, 429 and >= 500, and connection errors / timeouts;
- ``x-should-retry: true|false`` overrides the status rule;
- the server's ``retry-after-ms`` / ``retry-after`` (seconds or HTTP date) is honoured when
  0 < delay <= ``MAX_RETRY_AFTER``; a longer requested delay means "do not retry";
- otherwise exponential backoff with jitter: ``min(0.5 * 2**n, 8) * (1 - 0.25 * random())``;
- an error response is released before sleeping, so a retry never holds two connections;
- redirects are never followed: a 3xx is an error, so credentials never reach another host.

Each retry is logged at DEBUG on the ``oxide_rx`` logger (method, URL without query, delay,
retry number, error type: never headers), and the final error's ``retries`` says how many.
"""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import logging
import math
import random
import time
from collections.abc import Mapping
from dataclasses import dataclass

import aiohttp
from yarl import URL

from .._exceptions import APIError, APIStatusError, DecodeError
from .errors import connection_error, safe_cause, status_error

__all__ = [
    "MAX_RETRY_AFTER",
    "RETRY_STATUSES",
    "Timeout",
    "backoff_delay",
    "expect_event_stream",
    "read_json_body",
    "retry_after",
    "send",
]

log = logging.getLogger("oxide_rx")

RETRY_STATUSES = frozenset({408, 409, 429})
MAX_RETRY_AFTER = 60.0
MAX_BACKOFF = 8.0
ERROR_BODY_LIMIT = 64 * 1024


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


def _should_retry(status: int, headers: Mapping[str, str]) -> bool:
    override = headers.get("x-should-retry")
    if override == "true":
        return True
    if override == "false":
        return False
    return status in RETRY_STATUSES or status >= 500


def backoff_delay(retries_taken: int) -> float:
    """Exponential backoff with jitter, capped at ``MAX_BACKOFF`` seconds."""
    return min(0.5 * 2.0 ** min(retries_taken, 64), MAX_BACKOFF) * (1.0 - 0.25 * random.random())


async def send(
    session: aiohttp.ClientSession,
    method: str,
    url: str,
    *,
    headers: dict[str, str],
    body: bytes | None,
    params: dict[str, str] | None,
    timeout: Timeout,
    max_retries: int,
) -> aiohttp.ClientResponse:
    """Send a request and return the 2xx response with its headers read (body unread).

    Raises :class:`APIStatusError` subclasses, :class:`APITimeoutError` or
    :class:`APIConnectionError` once retries are spent; ``error.retries`` says how many.
    Redirects are not followed (a 3xx is an :class:`APIStatusError`), so the credentials in
    ``headers`` never reach another host.
    """
    client_timeout = aiohttp.ClientTimeout(
        total=None, sock_connect=timeout.connect, connect=None, sock_read=None
    )
    retries = 0
    while True:
        cause: BaseException | None = None
        try:
            async with asyncio.timeout(timeout.headers):
                response = await session.request(
                    method,
                    url,
                    data=body,
                    headers=headers,
                    params=params,
                    timeout=client_timeout,
                    allow_redirects=False,
                )
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            error: APIError = connection_error(exc)
            cause = safe_cause(exc)
            retry = True
            delay = backoff_delay(retries)
        else:
            if response.status < 300:
                return response
            retry = _should_retry(response.status, response.headers)
            requested = retry_after(response.headers)
            # Read (bounded) and release the error response now: a retry must not hold
            # two connections, and nothing may stay open while we sleep.
            error = await _read_status_error(response, timeout)
            if requested is not None and requested > MAX_RETRY_AFTER:
                retry = False  # waiting minutes silently is worse than failing now
            delay = requested if requested is not None and requested > 0 else backoff_delay(retries)
        if not retry or retries >= max_retries:
            error.retries = retries
            raise error from cause
        retries += 1
        log.debug(
            "retrying %s %s in %.3fs (retry %d of %d) after %s",
            method, _loggable(url), delay, retries, max_retries, type(error).__name__,
        )
        await asyncio.sleep(delay)


def _loggable(url: str) -> str:
    """The URL without credentials or query (either could carry a secret)."""
    return str(URL(url).with_user(None).with_query(None))


async def _read_head(response: aiohttp.ClientResponse, timeout: Timeout) -> bytes:
    """Up to ``ERROR_BODY_LIMIT`` bytes of a body that is only read to explain an error.

    Reads until the body ends or the limit is reached (one ``read`` may return a first TCP
    segment only); a body that stalls or breaks gives what had arrived.
    """
    parts: list[bytes] = []
    size = 0
    with contextlib.suppress(TimeoutError, aiohttp.ClientError, OSError):
        async with asyncio.timeout(timeout.idle):
            while size < ERROR_BODY_LIMIT:
                data = await response.content.read(ERROR_BODY_LIMIT - size)
                if not data:
                    break
                parts.append(data)
                size += len(data)
    return b"".join(parts)


async def _read_status_error(
    response: aiohttp.ClientResponse, timeout: Timeout
) -> APIStatusError:
    """Read a bounded amount of an error body, release the connection, build the error."""
    try:
        body = await _read_head(response, timeout)
    finally:
        response.release()
    return status_error(
        response.status, body, response.headers.get("x-request-id"), response.headers
    )


async def read_json_body(
    response: aiohttp.ClientResponse, timeout: Timeout, max_size: int | None = None
) -> bytes:
    """The whole body of a non-streaming response, within the idle/total deadlines.

    The body is read incrementally (a gzip body is inflated read by read) and refused once it
    passes ``max_size`` bytes, so a hostile body cannot take unbounded memory. A body that
    cannot be JSON (an HTML page from a proxy, ...) is a :class:`DecodeError` naming its
    content type.
    """
    parts: list[bytes] = []
    size = 0
    complete = False
    try:
        async with asyncio.timeout(timeout.total):
            while True:
                async with asyncio.timeout(timeout.idle):
                    data = await response.content.readany()
                if not data:
                    break
                size += len(data)
                if max_size is not None and size > max_size:
                    raise APIError(
                        f"The response body is larger than the limit of {max_size} bytes "
                        "(max_event_size)"
                    )
                parts.append(data)
        complete = True
    except (TimeoutError, aiohttp.ClientError, OSError) as exc:
        raise connection_error(exc, mid_body=True) from safe_cause(exc)
    finally:
        if complete:
            response.release()
        else:
            response.close()
    body = b"".join(parts)
    if body.lstrip()[:1] not in (b"{", b"["):
        raise DecodeError(
            f"Expected a JSON response, got {response.content_type!r} (HTTP {response.status})",
            data=body[:ERROR_BODY_LIMIT],
        )
    return body


async def expect_event_stream(response: aiohttp.ClientResponse, timeout: Timeout) -> None:
    """Fail clearly when a stream request got something other than ``text/event-stream``.

    A JSON body with an ``error`` object becomes the matching API error; anything else
    (an HTML page from a proxy, ...) is a :class:`DecodeError` naming the content type and
    showing a short excerpt of the body.
    """
    if response.content_type == "text/event-stream":
        return
    try:
        body = await _read_head(response, timeout)
    finally:
        response.close()
    if response.content_type == "application/json" and b'"error"' in body:
        raise status_error(
            response.status, body, response.headers.get("x-request-id"), response.headers
        )
    raise DecodeError(
        f"Expected a text/event-stream response, got {response.content_type!r} "
        f"(HTTP {response.status})",
        data=body,
    )
