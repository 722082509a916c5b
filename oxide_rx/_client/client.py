"""The client: configuration, one aiohttp session, and the resources."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import aiohttp

from .._exceptions import ConfigurationError
from .._resource import AsyncResource
from .._transport.requester import Requester
from .._transport.timeouts import Timeout
from .._transport.validation import masked_url
from ..sse import DEFAULT_MAX_EVENT_SIZE
from .chat import Chat
from .responses import Responses

__all__ = ["DEFAULT_BASE_URL", "DEFAULT_MAX_RETRIES", "OpenAI"]

DEFAULT_BASE_URL = "https://api.openai.com/v1"
DEFAULT_MAX_RETRIES = 2


class OpenAI(AsyncResource):
    """An asyncio OpenAI client whose streams are reactive.

    Owns one ``aiohttp.ClientSession`` (created on first use, on the running loop); close it
    with ``async with client:`` or ``await client.aclose()``.

    Requests go through ``proxy`` when given; otherwise, as with the official client, through
    ``HTTPS_PROXY`` / ``HTTP_PROXY`` / ``ALL_PROXY`` from the environment, bypassed for
    ``NO_PROXY`` hosts (``trust_env=False`` ignores the environment). Settings that cannot
    work (a base URL without ``http(s)://``, a line break in the key or a header, a key
    together with ``user:password@`` in the URL) raise :class:`~oxide_rx.ConfigurationError`
    here, not at the first request.

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
        proxy: str | None = None,
        trust_env: bool = True,
    ) -> None:
        if max_retries < 0:
            raise ConfigurationError(f"max_retries must be >= 0, not {max_retries}")
        self._requester = Requester(
            base_url=base_url or DEFAULT_BASE_URL,
            api_key=api_key,
            organization=organization,
            project=project,
            timeout=Timeout.coerce(timeout),
            max_retries=max_retries,
            default_headers=dict(default_headers or {}),
            default_query=dict(default_query or {}),
            max_event_size=max_event_size,
            max_connections=max_connections,
            proxy=proxy,
            trust_env=trust_env,
        )
        self.chat = Chat(self._requester)
        self.responses = Responses(self._requester)

    @classmethod
    def from_env(cls, **overrides: Any) -> OpenAI:
        """A client configured from ``OPENAI_API_KEY``, ``OPENAI_BASE_URL``,
        ``OPENAI_ORG_ID``, ``OPENAI_PROJECT_ID`` and the proxy variables; keyword arguments
        win. Without a key (from the environment or ``api_key=``) it raises
        :class:`~oxide_rx.ConfigurationError`, as the official client does; a server that
        needs no key takes an explicit ``api_key=None``.

        >>> client = ox.OpenAI.from_env()  # doctest: +SKIP
        """
        env: dict[str, Any] = {
            "api_key": os.environ.get("OPENAI_API_KEY") or None,
            "base_url": os.environ.get("OPENAI_BASE_URL") or None,
            "organization": os.environ.get("OPENAI_ORG_ID") or None,
            "project": os.environ.get("OPENAI_PROJECT_ID") or None,
        }
        env.update(overrides)
        if env["api_key"] is None and "api_key" not in overrides:
            raise ConfigurationError(
                "No API key: set the OPENAI_API_KEY environment variable or pass api_key= "
                "(api_key=None for a server that needs none)"
            )
        return cls(**env)

    @property
    def api_key(self) -> str | None:
        return self._requester.api_key

    @property
    def base_url(self) -> str:
        return self._requester.base_url

    @property
    def organization(self) -> str | None:
        return self._requester.organization

    @property
    def project(self) -> str | None:
        return self._requester.project

    @property
    def timeout(self) -> Timeout:
        return self._requester.timeout

    @property
    def max_retries(self) -> int:
        return self._requester.max_retries

    @property
    def default_headers(self) -> dict[str, str]:
        return self._requester.default_headers

    @property
    def default_query(self) -> dict[str, str]:
        return self._requester.default_query

    @property
    def max_event_size(self) -> int | None:
        return self._requester.max_event_size

    @property
    def proxy(self) -> str | None:
        """The explicit ``proxy=`` (the environment's proxies: :meth:`proxy_for`)."""
        return self._requester.proxy

    def proxy_for(self, url: str) -> str | None:
        """The proxy a request to ``url`` goes through, or ``None`` for a direct connection.

        >>> ox.OpenAI(api_key="k", proxy="http://proxy:3128").proxy_for(
        ...     "https://api.openai.com/v1/responses")
        'http://proxy:3128'
        """
        return self._requester.proxy_for(url)

    @property
    def session(self) -> aiohttp.ClientSession:
        """The session every request of this client goes through (created on first use)."""
        return self._requester.session

    def __repr__(self) -> str:
        key = "set" if self.api_key else "unset"
        return f"OpenAI(base_url={masked_url(self.base_url)!r}, api_key=<{key}>)"


    async def aclose(self) -> None:
        """Close the session and every pooled connection."""
        await self._requester.aclose()
