"""One HTTP exchange with the API: retries before the first byte, deadlines, typed errors.

Retry policy (same promises as the official SDKs, see ../shared/reference/reliability.md §1.1):

- only before a response is handed to the caller: a stream that has started is never re-sent;
- statuses 408, 409, 429 and >= 500, and connection errors / timeouts;
- ``x-should-retry: true|false`` overrides the status rule;
- the server's ``retry-after-ms`` / ``retry-after`` (seconds or HTTP date) is honoured when
  0 < delay <= ``MAX_RETRY_AFTER``; a longer requested delay means "do not retry";
- otherwise exponential backoff with jitter: ``min(0.5 * 2**n, 8) * (1 - 0.25 * random())``;
- an error response is released before sleeping, so a retry never holds two connections.
"""

from __future__ import annotations

import asyncio
import email.utils
import logging
import random
import time
from dataclasses import dataclass

import aiohttp
from multidict import CIMultiDictProxy

from .._exceptions import APIError, APIStatusError, DecodeError
from .errors import connection_error, status_error

__all__ = [
    "MAX_RETRY_AFTER",
    "RETRY_STATUSES",
    "Timeout",
    "backoff_delay",
    "expect_event_stream",
    "read_json_body",
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


def _retry_after(headers: CIMultiDictProxy[str]) -> float | None:
    """The delay the server asks for, in seconds, if it asks for one."""
    raw_ms = headers.get("retry-after-ms")
    if raw_ms is not None:
        try:
            return float(raw_ms) / 1000.0
        except ValueError:
            pass
    raw = headers.get("retry-after")
    if raw is None:
        return None
    try:
        return float(raw)
    except ValueError:
        parsed = email.utils.parsedate_to_datetime(raw) if raw.strip() else None
        return None if parsed is None else parsed.timestamp() - time.time()


def _should_retry(status: int, headers: CIMultiDictProxy[str]) -> bool:
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
    """
    client_timeout = aiohttp.ClientTimeout(
        total=None, sock_connect=timeout.connect, connect=None, sock_read=None
    )
    retries = 0
    while True:
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
            delay = backoff_delay(retries)
            cause: BaseException = exc
        else:
            if response.status < 300:
                return response
            retry = _should_retry(response.status, response.headers)
            error = await _read_status_error(response, timeout)
            requested = _retry_after(response.headers)
            if requested is not None and requested > MAX_RETRY_AFTER:
                retry = False  # waiting minutes silently is worse than failing now
            delay = requested if requested is not None and requested > 0 else backoff_delay(retries)
            cause = error
            if not retry:
                error.retries = retries
                raise error
        if retries >= max_retries:
            error.retries = retries
            if error is cause:
                raise error
            raise error from cause
        retries += 1
        log.debug(
            "retrying %s %s in %.2fs (retry %d of %d) after %s",
            method, url, delay, retries, max_retries, type(error).__name__,
        )
        await asyncio.sleep(delay)


async def _read_status_error(
    response: aiohttp.ClientResponse, timeout: Timeout
) -> APIStatusError:
    """Read a bounded amount of an error body, release the connection, build the error."""
    try:
        async with asyncio.timeout(timeout.idle):
            body = await response.content.read(ERROR_BODY_LIMIT)
    except (TimeoutError, aiohttp.ClientError, OSError):
        body = b""
    finally:
        response.release()
    return status_error(response.status, body, response.headers.get("x-request-id"))


async def read_json_body(response: aiohttp.ClientResponse, timeout: Timeout) -> bytes:
    """The whole body of a non-streaming response, within the idle/total deadlines."""
    try:
        async with asyncio.timeout(timeout.total if timeout.total is not None else timeout.idle):
            return await response.read()
    except (TimeoutError, aiohttp.ClientError, OSError) as exc:
        raise connection_error(exc) from exc
    finally:
        response.release()


async def expect_event_stream(response: aiohttp.ClientResponse, timeout: Timeout) -> None:
    """Fail clearly when a stream request got something other than ``text/event-stream``.

    A JSON body with an ``error`` object becomes the matching API error; anything else
    (an HTML page from a proxy, ...) is a :class:`DecodeError` naming the content type.
    """
    if response.content_type == "text/event-stream":
        return
    try:
        async with asyncio.timeout(timeout.idle):
            body = await response.content.read(ERROR_BODY_LIMIT)
    except (TimeoutError, aiohttp.ClientError, OSError):
        body = b""
    finally:
        response.close()
    if response.content_type == "application/json" and b'"error"' in body:
        raise status_error(response.status, body, response.headers.get("x-request-id"))
    raise DecodeError(
        f"Expected a text/event-stream response, got {response.content_type!r} "
        f"(HTTP {response.status})",
        data=body,
    )
