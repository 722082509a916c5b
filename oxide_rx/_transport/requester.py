"""The requester: one HTTP exchange with the API, and the configuration every request shares.

Resources (chat, responses, the WebSocket session) receive a :class:`Requester`, never the
client: it owns the ``aiohttp.ClientSession``, the credentials and headers, retries
(:mod:`.retry`), deadlines (:class:`.timeouts.Timeout`) and the mapping of failures to typed
errors (:mod:`.errors`). Each retry is logged at DEBUG on the ``oxide_rx`` logger (method, URL
without query or credentials, delay, retry number, error type: never headers), and the final
error's ``retries`` says how many. Redirects are never followed: a 3xx is an error, so
credentials never reach another host.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import msgspec
from yarl import URL

from .._exceptions import APIError
from .._version import __version__
from .bodies import expect_event_stream, read_json_body, read_status_error
from .errors import connection_error, safe_cause
from .retry import MAX_RETRY_AFTER, backoff_delay, retry_after, should_retry
from .sse_feed import SSEFeed
from .timeouts import Timeout

__all__ = ["RequestOptions", "Requester", "send"]

log = logging.getLogger("oxide_rx")

_encode = msgspec.json.Encoder().encode


@dataclass(frozen=True, slots=True)
class RequestOptions:
    """Per-request options (not API parameters): what overrides the client's settings."""

    timeout: Timeout | float | None = None
    max_retries: int | None = None
    extra_headers: Mapping[str, str] | None = None
    extra_query: Mapping[str, str] | None = None

    def with_query(self, query: Mapping[str, str]) -> RequestOptions:
        """These options with ``query`` added to the extra query parameters."""
        return RequestOptions(self.timeout, self.max_retries, self.extra_headers,
                              {**(self.extra_query or {}), **query})


@dataclass(slots=True)
class Requester:
    """Everything a request needs: where, who, how long, how often, and the session.

    The session is created on first use, on the running loop; :meth:`aclose` closes it and
    every pooled connection.
    """

    base_url: str
    api_key: str | None = field(default=None, repr=False)
    organization: str | None = None
    project: str | None = None
    timeout: Timeout = field(default_factory=Timeout)
    max_retries: int = 2
    default_headers: dict[str, str] = field(default_factory=dict)
    default_query: dict[str, str] = field(default_factory=dict)
    max_event_size: int | None = None
    max_connections: int = 0
    _session: aiohttp.ClientSession | None = field(default=None, repr=False)

    @property
    def session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(limit=self.max_connections)
            # No total timeout: a session's default (300 s) would kill long streams.
            self._session = aiohttp.ClientSession(
                connector=connector,
                timeout=aiohttp.ClientTimeout(total=None),
                json_serialize=lambda obj: _encode(obj).decode(),
            )
        return self._session

    async def aclose(self) -> None:
        session, self._session = self._session, None
        if session is not None:
            await session.close()

    def headers(self, *, stream: bool, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        """The request headers: content negotiation, credentials, defaults, then ``extra``."""
        headers = {
            "Content-Type": "application/json",
            "Accept": "text/event-stream" if stream else "application/json",
            "User-Agent": f"oxide_rx/{__version__}",
        }
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        if self.organization:
            headers["OpenAI-Organization"] = self.organization
        if self.project:
            headers["OpenAI-Project"] = self.project
        headers.update(self.default_headers)
        if extra:
            headers.update(extra)
        return headers

    def effective_timeout(self, options: RequestOptions) -> Timeout:
        return self.timeout if options.timeout is None else Timeout.coerce(options.timeout)

    async def send(
        self,
        method: str,
        path: str,
        options: RequestOptions,
        *,
        body: Mapping[str, Any] | None = None,
        stream: bool = False,
    ) -> aiohttp.ClientResponse:
        """Send a request; the 2xx response with its headers read (retries included)."""
        params = {**self.default_query, **(options.extra_query or {})} or None
        max_retries = self.max_retries if options.max_retries is None else options.max_retries
        response = await send(
            self.session,
            method,
            f"{self.base_url}{path}",
            headers=self.headers(stream=stream, extra=options.extra_headers),
            body=None if body is None else _encode(body),
            params=params,
            timeout=self.effective_timeout(options),
            max_retries=max_retries,
        )
        log.debug("%s %s -> %d", method, path, response.status)
        return response

    async def request_json(
        self,
        method: str,
        path: str,
        options: RequestOptions,
        *,
        body: Mapping[str, Any] | None = None,
    ) -> bytes:
        """A non-streaming call: the raw JSON body of the 2xx response."""
        response = await self.send(method, path, options, body=body)
        return await read_json_body(response, self.effective_timeout(options),
                                    self.max_event_size)

    async def open_sse(
        self,
        method: str,
        path: str,
        options: RequestOptions,
        *,
        body: Mapping[str, Any] | None = None,
    ) -> SSEFeed:
        """A streaming call: the feed of its server-sent events, once the headers are in."""
        response = await self.send(method, path, options, body=body, stream=True)
        await expect_event_stream(response, self.effective_timeout(options))
        return SSEFeed(response, self.max_event_size)


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
            retry = should_retry(response.status, response.headers)
            requested = retry_after(response.headers)
            # Read (bounded) and release the error response now: a retry must not hold
            # two connections, and nothing may stay open while we sleep.
            error = await read_status_error(response, timeout)
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
