"""The client: configuration, one aiohttp session, and the plumbing every request shares."""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from types import TracebackType
from typing import Any

import aiohttp
import msgspec

from ._transport.http import Timeout, read_json_body, send
from ._version import __version__
from .sse import DEFAULT_MAX_EVENT_SIZE

__all__ = ["DEFAULT_BASE_URL", "OpenAI"]

log = logging.getLogger("oxide_rx")

DEFAULT_BASE_URL = "https://api.openai.com/v1"
DEFAULT_MAX_RETRIES = 2

_encode = msgspec.json.Encoder().encode


class OpenAI:
    """An asyncio OpenAI client whose streams are reactive.

    Owns one ``aiohttp.ClientSession`` (created on first use, on the running loop); close it
    with ``async with client:`` or ``await client.aclose()``.

    >>> async with ox.OpenAI.from_env() as client:                          # doctest: +SKIP
    ...     stream = await client.chat.completions.create_stream(
    ...         model="gpt-4o-mini", messages=[{"role": "user", "content": "Hi"}])
    ...     print((await stream.final_completion()).choices[0].message.content)
    """

    def __init__(
        self,
        *,
        api_key: str | None = None,
        base_url: str | None = None,
        organization: str | None = None,
        project: str | None = None,
        timeout: Timeout | float | None = None,
        max_retries: int = DEFAULT_MAX_RETRIES,
        default_headers: Mapping[str, str] | None = None,
        default_query: Mapping[str, str] | None = None,
        max_event_size: int | None = DEFAULT_MAX_EVENT_SIZE,
        max_connections: int = 0,
    ) -> None:
        if max_retries < 0:
            raise ValueError(f"max_retries must be >= 0, not {max_retries}")
        self._api_key = api_key
        self.base_url = (base_url or DEFAULT_BASE_URL).rstrip("/")
        self.organization = organization
        self.project = project
        self.timeout = Timeout.coerce(timeout)
        self.max_retries = max_retries
        self.default_headers = dict(default_headers or {})
        self.default_query = dict(default_query or {})
        self.max_event_size = max_event_size
        self.max_connections = max_connections
        self._session: aiohttp.ClientSession | None = None

        from ._chat import Chat
        from ._responses import Responses

        self.chat = Chat(self)
        self.responses = Responses(self)

    @classmethod
    def from_env(cls, **overrides: Any) -> OpenAI:
        """A client configured from ``OPENAI_API_KEY``, ``OPENAI_BASE_URL``,
        ``OPENAI_ORG_ID`` and ``OPENAI_PROJECT_ID``; keyword arguments win."""
        env: dict[str, Any] = {
            "api_key": os.environ.get("OPENAI_API_KEY"),
            "base_url": os.environ.get("OPENAI_BASE_URL"),
            "organization": os.environ.get("OPENAI_ORG_ID"),
            "project": os.environ.get("OPENAI_PROJECT_ID"),
        }
        env.update(overrides)
        return cls(**env)

    @property
    def api_key(self) -> str | None:
        return self._api_key

    def __repr__(self) -> str:
        key = "set" if self._api_key else "unset"
        return f"OpenAI(base_url={self.base_url!r}, api_key=<{key}>)"

    async def __aenter__(self) -> OpenAI:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the session and every pooled connection."""
        session, self._session = self._session, None
        if session is not None:
            await session.close()

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

    def _headers(self, *, stream: bool, extra: Mapping[str, str] | None) -> dict[str, str]:
        headers = {
            "Content-Type": "application/json",
            "Accept": "text/event-stream" if stream else "application/json",
            "User-Agent": f"oxide_rx/{__version__}",
        }
        if self._api_key:
            headers["Authorization"] = f"Bearer {self._api_key}"
        if self.organization:
            headers["OpenAI-Organization"] = self.organization
        if self.project:
            headers["OpenAI-Project"] = self.project
        headers.update(self.default_headers)
        if extra:
            headers.update(extra)
        return headers

    async def _send(
        self,
        method: str,
        path: str,
        *,
        body: Mapping[str, Any] | None = None,
        stream: bool = False,
        query: Mapping[str, str] | None = None,
        timeout: Timeout | float | None = None,
        max_retries: int | None = None,
        extra_headers: Mapping[str, str] | None = None,
    ) -> tuple[aiohttp.ClientResponse, Timeout]:
        """Send a request and return the 2xx response with headers read (retries included)."""
        effective = self.timeout if timeout is None else Timeout.coerce(timeout)
        params = {**self.default_query, **(query or {})} or None
        response = await send(
            self.session,
            method,
            f"{self.base_url}{path}",
            headers=self._headers(stream=stream, extra=extra_headers),
            body=None if body is None else _encode(body),
            params=params,
            timeout=effective,
            max_retries=self.max_retries if max_retries is None else max_retries,
        )
        log.debug("%s %s -> %d", method, path, response.status)
        return response, effective

    async def _request_json(self, method: str, path: str, **kwargs: Any) -> bytes:
        """A non-streaming call: the raw JSON body of the 2xx response."""
        response, timeout = await self._send(method, path, **kwargs)
        return await read_json_body(response, timeout, self.max_event_size)


def split_request_options(params: dict[str, Any]) -> dict[str, Any]:
    """Pop the per-request options (not API parameters) out of ``params``; merge ``extra_body``."""
    options = {
        "timeout": params.pop("timeout", None),
        "max_retries": params.pop("max_retries", None),
        "extra_headers": params.pop("extra_headers", None),
        "query": params.pop("extra_query", None),
    }
    params.update(params.pop("extra_body", None) or {})
    return options
