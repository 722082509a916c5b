"""What every compat resource shares: request options, sentinels, timeouts, error translation.

A compat client wraps one core client (one aiohttp session). ``with_options(...)`` makes a
client that shares it and only changes what is sent: timeout, retries, headers, query.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TypeVar

from ._core import CoreClient, CoreTimeout, split_request_options
from ._errors import Request, translate

__all__ = ["NOT_GIVEN", "NotGiven", "Omit", "Settings", "Timeout", "core_timeout", "omit"]

_T = TypeVar("_T")


class NotGiven:
    """The official "argument not given" sentinel: parameters equal to it are not sent."""

    def __bool__(self) -> bool:
        return False

    def __repr__(self) -> str:
        return "NOT_GIVEN"


class Omit(NotGiven):
    """The official ``omit`` sentinel (same meaning as :data:`NOT_GIVEN` here)."""

    def __repr__(self) -> str:
        return "omit"


NOT_GIVEN = NotGiven()
omit = Omit()


class Timeout:
    """Deadlines in seconds, shaped like ``httpx.Timeout`` (what ``openai.Timeout`` is).

    ``connect`` opens the connection; ``read`` is the longest wait for the response headers
    and between two reads (two events of a stream). ``write`` and ``pool`` are accepted and
    not used.

    >>> Timeout(20.0, connect=5.0).read
    20.0
    """

    def __init__(self, timeout: float | None = None, *, connect: float | None = None,
                 read: float | None = None, write: float | None = None,
                 pool: float | None = None) -> None:
        self.connect = timeout if connect is None else connect
        self.read = timeout if read is None else read
        self.write = timeout if write is None else write
        self.pool = timeout if pool is None else pool

    def __repr__(self) -> str:
        return (f"Timeout(connect={self.connect}, read={self.read}, write={self.write}, "
                f"pool={self.pool})")


def core_timeout(value: Any) -> CoreTimeout | None:
    """The core :class:`~oxide_rx.Timeout` for an official ``timeout`` (float or object).

    ``None`` means no deadline at all, as in the official client; ``NOT_GIVEN`` (the
    argument left out) returns ``None`` here: keep whatever applies already.
    """
    if isinstance(value, NotGiven):
        return None
    if value is None:
        return CoreTimeout(connect=None, headers=None, idle=None)
    if isinstance(value, CoreTimeout):
        return value
    if isinstance(value, (int, float)):
        return CoreTimeout.coerce(float(value))
    connect = getattr(value, "connect", 5.0)
    read = getattr(value, "read", 600.0)
    return CoreTimeout(connect=connect, headers=read, idle=read)


def _given(params: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in params.items() if not isinstance(v, NotGiven)}


class Settings:
    """Per-client request options over a shared core client."""

    def __init__(self, core: CoreClient, *, timeout: CoreTimeout | None = None,
                 max_retries: int | None = None, headers: Mapping[str, str] | None = None,
                 query: Mapping[str, str] | None = None) -> None:
        self.core = core
        self.timeout = timeout
        self.max_retries = max_retries
        self.headers = dict(headers or {})
        self.query = dict(query or {})
        self.before: Callable[[], Awaitable[None]] | None = None
        """Awaited before each request (the async client arms its session closer there)."""

    def request(self, method: str, path: str) -> Request:
        return Request(method, f"{self.core.base_url}{path}")

    def split(self, params: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
        """``(body, options)``: API parameters, and the request options for the core."""
        body = _given(params)
        explicit_timeout = "timeout" in body
        options = split_request_options(body)
        timeout = core_timeout(options.pop("timeout")) if explicit_timeout else None
        options["timeout"] = timeout if timeout is not None else self.timeout
        options["max_retries"] = self.max_retries
        extra_headers = {k: v for k, v in (options.get("extra_headers") or {}).items()
                         if not isinstance(v, NotGiven)}
        options["extra_headers"] = {**self.headers, **extra_headers} or None
        options["query"] = {**self.query, **(options.get("query") or {})} or None
        return body, options

    async def call(self, awaitable: Awaitable[_T], request: Request) -> _T:
        """Await a core call; its errors come out as the official exceptions."""
        try:
            if self.before is not None:
                await self.before()
            return await awaitable
        except Exception as exc:
            raise translate(exc, request) from exc
