"""Reading response bodies that are not event streams: error bodies, JSON bodies, and the
check that a stream request really got ``text/event-stream``."""

from __future__ import annotations

import asyncio
import contextlib

import aiohttp

from .._exceptions import APIError, APIStatusError, DecodeError
from .errors import connection_error, safe_cause, status_error
from .reads import ending_with_connection
from .timeouts import Timeout

__all__ = [
    "ERROR_BODY_LIMIT",
    "ERROR_BODY_SECONDS",
    "expect_event_stream",
    "read_json_body",
    "read_status_error",
]

ERROR_BODY_LIMIT = 64 * 1024
ERROR_BODY_SECONDS = 10.0
"""The longest wait for an error body (or ``idle``, if shorter): it only explains an error
(and may delay a retry), so a stalled one is not waited on for the stream's idle timeout."""


async def _read_head(response: aiohttp.ClientResponse, timeout: Timeout) -> bytes:
    """Up to ``ERROR_BODY_LIMIT`` bytes of a body that is only read to explain an error.

    Reads until the body ends or the limit is reached (one ``read`` may return a first TCP
    segment only); a body that stalls (:data:`ERROR_BODY_SECONDS`) or breaks gives what had
    arrived.
    """
    parts: list[bytes] = []
    size = 0
    deadline = min(timeout.idle or ERROR_BODY_SECONDS, ERROR_BODY_SECONDS)
    with (contextlib.suppress(TimeoutError, aiohttp.ClientError, OSError),
          ending_with_connection(response)):
        async with asyncio.timeout(deadline):
            while size < ERROR_BODY_LIMIT:
                data = await response.content.read(ERROR_BODY_LIMIT - size)
                if not data:
                    break
                parts.append(data)
                size += len(data)
    return b"".join(parts)


async def read_status_error(
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
        with ending_with_connection(response):
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
