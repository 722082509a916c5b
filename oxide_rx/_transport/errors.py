"""Map transport failures and HTTP error responses to oxide_rx's typed errors.

Nothing here copies request headers into a message: the API key cannot leak through an error.
aiohttp's ``ClientResponseError`` keeps the request's headers (``request_info``) and shows them
in its ``repr``, so it is never chained as a cause (:func:`safe_cause`).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Mapping
from typing import Any

import aiohttp
import msgspec

from .._exceptions import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    StreamTruncatedError,
    excerpt,
    status_error_class,
)

__all__ = ["answered", "connection_error", "safe_cause", "status_error"]


def connection_error(exc: BaseException, *, mid_body: bool = False) -> APIConnectionError:
    """A typed error for a transport failure (the caller chains :func:`safe_cause`).

    ``mid_body`` says the response headers had arrived: a disconnect is then a truncated
    stream, while before the headers it is a plain connection error (and retryable).
    """
    if isinstance(exc, APIConnectionError):
        return exc
    if isinstance(exc, (asyncio.TimeoutError, aiohttp.ServerTimeoutError)):
        detail = str(exc) or type(exc).__name__
        return APITimeoutError(f"Request timed out: {detail}")
    if isinstance(exc, aiohttp.ClientPayloadError) or (
        mid_body and isinstance(exc, aiohttp.ClientResponseError)
    ):
        return StreamTruncatedError(f"The connection broke mid-body: {_reason(exc)}")
    if isinstance(exc, aiohttp.ServerDisconnectedError):
        if mid_body:
            return StreamTruncatedError("The server closed the connection mid-body.")
        return APIConnectionError("The server closed the connection before responding.")
    if isinstance(exc, aiohttp.ClientHttpProxyError):
        return APIConnectionError(f"The proxy refused the request: HTTP {exc.status} "
                                  f"{exc.message}".rstrip())
    if isinstance(exc, aiohttp.ClientResponseError):
        # The server answered with something aiohttp's HTTP parser rejects. Chunked framing
        # exists only after a head: then the head and a broken body came in one read.
        reason = _reason(exc)
        if "chunk" in reason.lower():
            return StreamTruncatedError(f"The response body broke in its first read: {reason}")
        return APIConnectionError(f"The server's response is not valid HTTP: {reason}")
    return APIConnectionError(f"Connection error: {type(exc).__name__}: {exc}")


def answered(exc: BaseException) -> bool:
    """Whether a failure while waiting for the response head means the server answered.

    aiohttp raises ``ClientResponseError`` (or a payload error) from the request when the
    bytes the server sent do not parse, and that includes a valid head followed, in the same
    network read, by a broken body: the generation had started, so it must not be re-sent.
    A proxy's refusal is not the server's answer.
    """
    if isinstance(exc, aiohttp.ClientHttpProxyError):
        return False
    return isinstance(exc, (aiohttp.ClientResponseError, aiohttp.ClientPayloadError))


_STATUS_PREFIX = re.compile(r"^\d{3}, message[:=]\s*")


def _reason(exc: BaseException) -> str:
    """aiohttp's explanation without its ``400, message=`` prefix or the request URL."""
    message = getattr(exc, "message", None)
    text = str(message) if message else str(exc)
    return _STATUS_PREFIX.sub("", text).strip().strip("'\"") or type(exc).__name__


def safe_cause(exc: BaseException) -> BaseException | None:
    """``exc`` if it can be chained as a cause without exposing request headers, else None."""
    return None if isinstance(exc, aiohttp.ClientResponseError) else exc


def status_error(
    status: int, body: bytes, request_id: str | None, headers: Mapping[str, str] | None = None
) -> APIStatusError:
    """The :class:`APIStatusError` subclass for an HTTP error status and its body.

    ``{"error": {"message", "type", "param", "code"}}`` bodies give the message and fields;
    anything else is kept as a short excerpt.
    """
    parsed: Any = None
    try:
        parsed = msgspec.json.decode(body) if body else None
    except msgspec.DecodeError:
        parsed = None
    error = parsed.get("error") if isinstance(parsed, dict) else None
    if isinstance(error, dict):
        message = str(error.get("message") or f"HTTP {status}")
        fields = {k: _str_or_none(error.get(k)) for k in ("code", "type", "param")}
        body_obj: Any = error
    else:
        message = f"HTTP {status}" + (f": {excerpt(body)}" if body else "")
        fields = {"code": None, "type": None, "param": None}
        body_obj = parsed if parsed is not None else (excerpt(body) if body else None)
    if 300 <= status < 400:
        message += " (redirects are not followed)"
    cls = status_error_class(status)
    return cls(
        f"Error code: {status} - {message}",
        status_code=status,
        request_id=request_id,
        headers=headers,
        body=body_obj,
        **fields,
    )


def _str_or_none(value: object) -> str | None:
    return None if value is None else str(value)
