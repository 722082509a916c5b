"""Every error oxide_rx raises, in one tree rooted at :class:`OxideRxError`.

Messages name the problem and show at most a short excerpt of the offending payload; they
never contain request headers, so the API key cannot leak through an error.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = [
    "APIConnectionError",
    "APIError",
    "APIStatusError",
    "APITimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "ConfigurationError",
    "ConflictError",
    "DecodeError",
    "InternalServerError",
    "NotFoundError",
    "OxideRxError",
    "PermissionDeniedError",
    "RateLimitError",
    "ResponseFailedError",
    "SSEError",
    "StreamTruncatedError",
    "UnprocessableEntityError",
    "excerpt",
    "status_error_class",
]

EXCERPT_LIMIT = 120


def excerpt(data: str | bytes, limit: int = EXCERPT_LIMIT) -> str:
    """A short, printable excerpt of a payload for an error message.

    >>> excerpt("x" * 500, 8)
    "'xxxxxxxx'... (500 chars)"
    """
    if isinstance(data, bytes):
        data = data.decode("utf-8", "replace")
    if len(data) <= limit:
        return repr(data)
    return f"{data[:limit]!r}... ({len(data)} chars)"


class OxideRxError(Exception):
    """Base of everything oxide_rx raises.

    ``partial`` is what a stream had accumulated when this error ended it (a
    ``ChatCompletion`` or ``Response`` snapshot), else ``None``.
    """

    partial: Any = None


class ConfigurationError(OxideRxError, ValueError):
    """The client's configuration cannot work: a base URL without ``http(s)://``, a key or
    header with a line break, credentials both in the URL and as a key, no key at all from
    :meth:`~oxide_rx.OpenAI.from_env`. Raised when the client is built (or, for per-request
    options, before the request is sent); the message never shows the offending secret.

    It is also a ``ValueError``, which is what bad arguments were before it existed.
    """


class SSEError(OxideRxError):
    """The byte stream is not acceptable server-sent events (an event or line too large, ...).

    ``events`` holds what the same network read completed before the error (a decoder's
    caller delivers them first, then fails).
    """

    events: list[Any]

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.events = []


class DecodeError(OxideRxError):
    """A payload that is not the JSON it should be. ``data`` keeps a short excerpt."""

    def __init__(self, message: str, *, data: str | bytes | None = None) -> None:
        self.data = excerpt(data) if data is not None else None
        super().__init__(message if data is None else f"{message}: {self.data}")


class APIError(OxideRxError):
    """The API said no, or the exchange broke.

    ``body`` is the parsed error object when the server sent one; ``retries`` is how many
    times the request was retried before this error; ``partial`` is what a stream had
    accumulated when it failed (a ``ChatCompletion`` or ``Response`` snapshot), if anything.
    """

    def __init__(
        self,
        message: str,
        *,
        body: Any = None,
        code: str | None = None,
        type: str | None = None,
        param: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.body = body
        self.code = code
        self.type = type
        self.param = param
        self.retries = 0


_CREDENTIAL_HEADERS = frozenset({"authorization", "proxy-authorization", "api-key", "x-api-key",
                                 "cookie", "set-cookie"})


class APIStatusError(APIError):
    """An HTTP error status (after retries). ``status_code``, ``request_id``, ``body``, and
    the response ``headers`` (lower-cased names: ``retry-after``, rate-limit headers ...;
    credential-like headers are left out even if a server echoes them)."""

    status_code: int

    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        request_id: str | None = None,
        body: Any = None,
        code: str | None = None,
        type: str | None = None,
        param: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message, body=body, code=code, type=type, param=param)
        self.status_code = status_code
        self.request_id = request_id
        self.headers: dict[str, str] = {
            name.lower(): value
            for name, value in (headers or {}).items()
            if name.lower() not in _CREDENTIAL_HEADERS
        }


class BadRequestError(APIStatusError):
    """HTTP 400."""


class AuthenticationError(APIStatusError):
    """HTTP 401."""


class PermissionDeniedError(APIStatusError):
    """HTTP 403."""


class NotFoundError(APIStatusError):
    """HTTP 404."""


class ConflictError(APIStatusError):
    """HTTP 409."""


class UnprocessableEntityError(APIStatusError):
    """HTTP 422."""


class RateLimitError(APIStatusError):
    """HTTP 429."""


class InternalServerError(APIStatusError):
    """HTTP >= 500."""


_STATUS_CLASSES: dict[int, type[APIStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    422: UnprocessableEntityError,
    429: RateLimitError,
}


def status_error_class(status: int) -> type[APIStatusError]:
    """The :class:`APIStatusError` subclass for an HTTP status."""
    if status >= 500:
        return InternalServerError
    return _STATUS_CLASSES.get(status, APIStatusError)


class APIConnectionError(APIError):
    """Connecting failed, or the connection broke mid-exchange."""

    def __init__(self, message: str = "Connection error.") -> None:
        super().__init__(message)


class APITimeoutError(APIConnectionError):
    """A connect, response-header or idle-between-events deadline passed."""

    def __init__(self, message: str = "Request timed out.") -> None:
        super().__init__(message)


class StreamTruncatedError(APIConnectionError):
    """The body ended before its terminal marker. ``partial`` keeps what arrived."""


class ResponseFailedError(APIError):
    """The stream reported failure: an ``error`` event, ``response.failed``, or an
    ``{"error": ...}`` payload. ``code`` and ``message`` come from the server."""
