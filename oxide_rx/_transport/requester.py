"""The requester: one HTTP exchange with the API, and the configuration every request shares.

Resources (chat, responses, the WebSocket session) receive a :class:`Requester`, never the
client: it owns the ``aiohttp.ClientSession``, the credentials and headers, retries
(:mod:`.retry`), deadlines (:class:`.timeouts.Timeout`) and the mapping of failures to typed
errors (:mod:`.errors`), proxies (:mod:`.proxies`). Each retry is logged at DEBUG on the
``oxide_rx`` logger (method, URL without query or credentials, delay, retry number, error
type: never headers), and the final error's ``retries`` says how many. Redirects are never
followed: a 3xx is an error, so credentials never reach another host. Configuration that
cannot work (:mod:`.validation`) is refused when the requester is built.
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

from .._exceptions import APIError, ConfigurationError
from .._version import __version__
from .bodies import expect_event_stream, read_json_body, read_status_error
from .errors import answered, connection_error, safe_cause
from .proxies import ProxySettings
from .retry import MAX_RETRY_AFTER, backoff_delay, retry_after, should_retry
from .sse_feed import SSEFeed
from .timeouts import Timeout
from .validation import (
    check_api_key,
    check_base_url,
    check_credentials,
    check_headers,
    check_text,
    masked_url,
)

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
    every pooled connection. Requests go through ``proxy`` if given, else through the
    environment's ``HTTPS_PROXY`` / ``HTTP_PROXY`` / ``ALL_PROXY`` minus ``NO_PROXY``
    (unless ``trust_env`` is false), read when the requester is built.
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
    proxy: str | None = field(default=None, repr=False)
    trust_env: bool = True
    _session: aiohttp.ClientSession | None = field(default=None, repr=False)
    _proxies: ProxySettings = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.base_url = check_base_url(self.base_url)
        check_api_key(self.api_key)
        for setting, value in (("organization", self.organization), ("project", self.project)):
            if value is not None:
                check_text(value, setting)
        check_headers(self.default_headers, "default_headers")
        for name, value in self.default_query.items():
            check_text(f"{name}{value}", "default_query")
        check_credentials(self.base_url, self.headers(stream=False))
        self._proxies = ProxySettings.configure(self.proxy, self.trust_env)

    def proxy_for(self, url: str) -> str | None:
        """The proxy a request to ``url`` goes through (``None``: direct). It may carry
        credentials (``http://user:pass@proxy:3128``): never log it.

        >>> Requester("https://api.openai.com/v1", proxy="http://proxy:3128").proxy_for(
        ...     "wss://api.openai.com/v1/responses")
        'http://proxy:3128'
        """
        return self._proxies.proxy_for(url)

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
            check_headers(extra, "extra_headers")
            headers.update(extra)
            check_credentials(self.base_url, extra)
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
        url = f"{self.base_url}{path}"
        response = await send(
            self.session,
            method,
            url,
            headers=self.headers(stream=stream, extra=options.extra_headers),
            body=None if body is None else _encode(body),
            params=params,
            timeout=self.effective_timeout(options),
            max_retries=max_retries,
            proxy=self.proxy_for(url),
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
    proxy: str | None = None,
) -> aiohttp.ClientResponse:
    """Send a request and return the 2xx response with its headers read (body unread).

    Raises :class:`APIStatusError` subclasses, :class:`APITimeoutError` or
    :class:`APIConnectionError` once retries are spent; ``error.retries`` says how many.
    Redirects are not followed (a 3xx is an :class:`APIStatusError`), so the credentials in
    ``headers`` never reach another host.

    Only a request the server has not answered is retried: a connection that failed, closed
    or timed out before any response. Once the server answered, with a head or with bytes
    that do not parse (aiohttp cannot tell a bad head from a good head followed by a broken
    body in the same read), the generation may have started and is never sent again.
    """
    client_timeout = aiohttp.ClientTimeout(
        total=None, sock_connect=timeout.connect, connect=None, sock_read=None
    )
    retries = 0
    while True:
        cause: BaseException | None = None
        refused: str | None = None  # why aiohttp would not send it: a configuration error
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
                    proxy=proxy,
                )
        except aiohttp.InvalidURL:
            refused = f"Invalid URL: {_loggable(url)}"
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            error: APIError = connection_error(exc)
            cause = safe_cause(exc)
            retry = not answered(exc)
            if isinstance(exc, aiohttp.ClientHttpProxyError):
                retry = should_retry(exc.status, exc.headers or {})
            delay = backoff_delay(retries)
        except ValueError:
            refused = "aiohttp refused to send the request (a header or URL it cannot encode)"
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
        if refused is not None:
            # Raised here, outside the except block: aiohttp's exception (which may quote a
            # URL with its credentials, or a header) must not ride along as __context__.
            raise ConfigurationError(refused)
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
    return masked_url(URL(url).with_query(None))
