"""``AsyncOpenAI`` and ``OpenAI``: the official clients' constructors, options and resources.

Both wrap one core :class:`oxide_rx.OpenAI` (one aiohttp session). The synchronous client runs
it on a private event-loop thread (:mod:`._loop`).

>>> client = AsyncOpenAI(api_key="sk-test", base_url="http://127.0.0.1:8765/v1")
>>> client.with_options(timeout=20.0, max_retries=0).max_retries
0
"""

from __future__ import annotations

import asyncio
import os
import weakref
from collections.abc import AsyncIterator, Callable, Mapping
from types import TracebackType
from typing import Any

from ._base import NOT_GIVEN, NotGiven, Settings, core_timeout
from ._chat import AsyncChat, Chat
from ._core import CoreClient
from ._errors import OpenAIError
from ._loop import LoopThread, loop_thread
from ._resources import AsyncEmbeddings, AsyncModels, Embeddings, Models
from ._responses import AsyncResponses, Responses
from ._unsupported import NotSupportedError, refuse

__all__ = ["AsyncOpenAI", "OpenAI"]

DEFAULT_BASE_URL = "https://api.openai.com/v1"
DEFAULT_MAX_RETRIES = 2
_NOT_SUPPORTED_OPTIONS = ("http_client", "workload_identity", "provider", "data_residency")


def _resolve(api_key: str | Callable[[], str] | None, organization: str | None,
             project: str | None, base_url: Any, extra: Mapping[str, Any]) -> dict[str, Any]:
    for name in _NOT_SUPPORTED_OPTIONS:
        if extra.get(name) is not None:
            raise NotSupportedError(f"oxide_rx.compat does not support the {name}= option")
    if callable(api_key):
        api_key = api_key()
    api_key = api_key or os.environ.get("OPENAI_API_KEY")
    if not api_key:
        raise OpenAIError(
            "Missing credentials. Please pass an `api_key`, `workload_identity`, "
            "`admin_api_key`, or set the `OPENAI_API_KEY` or `OPENAI_ADMIN_KEY` environment "
            "variable."
        )
    if base_url is None or isinstance(base_url, NotGiven):
        base_url = os.environ.get("OPENAI_BASE_URL") or DEFAULT_BASE_URL
    return {
        "api_key": api_key,
        "organization": organization or os.environ.get("OPENAI_ORG_ID"),
        "project": project or os.environ.get("OPENAI_PROJECT_ID"),
        "base_url": str(base_url),
    }


class _AutoClose:
    """Closes the session when the event loop that uses it shuts down.

    ``asyncio.run`` closes every async generator still open on its loop before it returns;
    one parked generator per loop turns that into "close the session", so a client that was
    never closed does not leave an unclosed session behind.
    """

    def __init__(self, core: CoreClient) -> None:
        self.core = core
        self.armed: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Any] = (
            weakref.WeakKeyDictionary())

    async def arm(self) -> None:
        loop = asyncio.get_running_loop()
        if loop not in self.armed:
            closer = self._park()
            self.armed[loop] = closer
            await closer.__anext__()

    async def _park(self) -> AsyncIterator[None]:
        try:
            yield
        finally:
            await self.core.aclose()


class _ClientBase:
    """Options shared by both clients; resources are attached by the subclasses."""

    _settings: Settings

    def __init__(
        self,
        *,
        api_key: str | Callable[[], str] | None = None,
        organization: str | None = None,
        project: str | None = None,
        base_url: Any = None,
        timeout: Any = NOT_GIVEN,
        max_retries: int = DEFAULT_MAX_RETRIES,
        default_headers: Mapping[str, str] | None = None,
        default_query: Mapping[str, object] | None = None,
        webhook_secret: str | None = None,
        **options: Any,
    ) -> None:
        config = _resolve(api_key, organization, project, base_url, options)
        core = CoreClient(
            **config,
            timeout=core_timeout(timeout),
            max_retries=max_retries,
            default_headers=dict(default_headers or {}),
            default_query={k: str(v) for k, v in (default_query or {}).items()},
        )
        self.webhook_secret = webhook_secret or os.environ.get("OPENAI_WEBHOOK_SECRET")
        self._init(Settings(core), _AutoClose(core))

    def _init(self, settings: Settings, lifetime: _AutoClose) -> None:
        self._settings = settings
        self._lifetime = lifetime

    # -- the official client's attributes ----------------------------------------------------

    @property
    def api_key(self) -> str:
        return self._settings.core.api_key or ""

    @property
    def organization(self) -> str | None:
        return self._settings.core.organization

    @property
    def project(self) -> str | None:
        return self._settings.core.project

    @property
    def base_url(self) -> str:
        return self._settings.core.base_url + "/"

    @property
    def max_retries(self) -> int:
        retries = self._settings.max_retries
        return self._settings.core.max_retries if retries is None else retries

    @property
    def timeout(self) -> Any:
        return self._settings.timeout or self._settings.core.timeout

    def _copy_settings(
        self,
        *,
        api_key: str | None = None,
        organization: str | None = None,
        project: str | None = None,
        base_url: Any = None,
        timeout: Any = NOT_GIVEN,
        max_retries: Any = NOT_GIVEN,
        default_headers: Mapping[str, str] | None = None,
        set_default_headers: Mapping[str, str] | None = None,
        default_query: Mapping[str, object] | None = None,
        set_default_query: Mapping[str, object] | None = None,
        **options: Any,
    ) -> tuple[Settings, _AutoClose]:
        if default_headers is not None and set_default_headers is not None:
            raise ValueError("The `default_headers` and `set_default_headers` arguments are "
                             "mutually exclusive")
        if default_query is not None and set_default_query is not None:
            raise ValueError("The `default_query` and `set_default_query` arguments are "
                             "mutually exclusive")
        old = self._settings
        core, lifetime = old.core, self._lifetime
        if api_key or organization or project or base_url is not None or any(
                options.get(name) is not None for name in _NOT_SUPPORTED_OPTIONS):
            config = _resolve(api_key or core.api_key, organization or core.organization,
                              project or core.project, base_url or core.base_url, options)
            core = CoreClient(**config, timeout=core.timeout, max_retries=core.max_retries,
                              default_headers=core.default_headers,
                              default_query=core.default_query)
            lifetime = _AutoClose(core)
        headers = dict(set_default_headers) if set_default_headers is not None else {
            **old.headers, **(default_headers or {})}
        query_source = set_default_query if set_default_query is not None else {
            **old.query, **(default_query or {})}
        settings = Settings(
            core,
            timeout=old.timeout if isinstance(timeout, NotGiven) else core_timeout(timeout),
            max_retries=old.max_retries if isinstance(max_retries, NotGiven) else max_retries,
            headers=headers,
            query={k: str(v) for k, v in query_source.items()},
        )
        return settings, lifetime

    def __getattr__(self, name: str) -> Any:
        raise refuse(f"client.{name}", name)


class AsyncOpenAI(_ClientBase):
    """The official ``AsyncOpenAI`` surface over oxide_rx's core.

    >>> client = AsyncOpenAI()                                        # doctest: +SKIP
    >>> completion = await client.chat.completions.create(            # doctest: +SKIP
    ...     model="gpt-4o-mini", messages=[{"role": "user", "content": "Hi"}])
    """

    def _init(self, settings: Settings, lifetime: _AutoClose) -> None:
        super()._init(settings, lifetime)
        settings.before = lifetime.arm
        self.chat = AsyncChat(settings)
        self.responses = AsyncResponses(settings)
        self.models = AsyncModels(settings)
        self.embeddings = AsyncEmbeddings(settings)

    def with_options(self, **options: Any) -> AsyncOpenAI:
        """A client with some options changed, sharing this one's connection pool."""
        settings, lifetime = self._copy_settings(**options)
        copy = object.__new__(AsyncOpenAI)
        copy.webhook_secret = self.webhook_secret
        copy._init(settings, lifetime)
        return copy

    copy = with_options

    async def close(self) -> None:
        """Close the connection pool."""
        await self._settings.core.aclose()

    async def __aenter__(self) -> AsyncOpenAI:
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self.close()


class OpenAI(_ClientBase):
    """The official synchronous ``OpenAI`` surface: the async core on a private loop thread.

    >>> client = OpenAI()                                             # doctest: +SKIP
    >>> for chunk in client.chat.completions.create(                  # doctest: +SKIP
    ...         model="gpt-4o-mini", messages=[...], stream=True):
    ...     print(chunk.choices[0].delta.content or "", end="")
    """

    def _init(self, settings: Settings, lifetime: _AutoClose) -> None:
        super()._init(settings, lifetime)
        runner: LoopThread = loop_thread()
        self._runner = runner
        core = settings.core
        runner.at_exit(core.aclose)
        self.chat = Chat(settings, runner)
        self.responses = Responses(settings, runner)
        self.models = Models(settings, runner)
        self.embeddings = Embeddings(settings, runner)

    def with_options(self, **options: Any) -> OpenAI:
        """A client with some options changed, sharing this one's connection pool."""
        settings, lifetime = self._copy_settings(**options)
        copy = object.__new__(OpenAI)
        copy.webhook_secret = self.webhook_secret
        copy._init(settings, lifetime)
        return copy

    copy = with_options

    def close(self) -> None:
        """Close the connection pool."""
        core = self._settings.core
        self._runner.forget(core.aclose)
        self._runner.run(core.aclose())

    def __enter__(self) -> OpenAI:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()
