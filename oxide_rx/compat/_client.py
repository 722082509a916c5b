"""``AsyncOpenAI`` and ``OpenAI``: the official clients, sending through oxide_rx's core.

They *are* the official classes (subclasses): every resource, signature, overload, default,
environment variable, ``with_raw_response`` / ``with_streaming_response``, ``copy()`` and
``TypeError`` for an unknown argument is the official one. One method changes, ``request``:
the request the official client built goes out through the core requester (aiohttp, core
retries and deadlines) instead of httpx, and a stream is the core's stream with the official
objects built from each event's raw payload. The synchronous client runs the core on a private
event-loop thread (:mod:`._loop`).

>>> client = AsyncOpenAI(api_key="sk-test", base_url="http://127.0.0.1:8765/v1")
>>> isinstance(client, openai.AsyncOpenAI), client.with_options(max_retries=0).max_retries
(True, 0)
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from functools import wraps
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeVar, cast

import httpx2
import openai
from openai._base_client import AsyncHttpxClientWrapper, SyncHttpxClientWrapper
from openai._compat import cached_property, model_copy
from openai._models import FinalRequestOptions
from openai._streaming import extract_stream_chunk_type

from . import _core
from ._errors import NotSupportedError, official_error
from ._loop import LoopThread, loop_thread
from ._resources import AsyncChat, AsyncResponses, Chat, Responses
from ._streams import AsyncStream, Stream, open_core_stream

__all__ = ["AsyncOpenAI", "OpenAI"]

_T = TypeVar("_T")
log = logging.getLogger("openai._base_client")  # the official client's debug log lines


def _refuse_http_client(http_client: object, own: tuple[type, ...]) -> None:
    # ``copy()`` hands a client's own default httpx client to the copy: that one is fine,
    # requests never use it. A user's httpx client cannot carry aiohttp's requests.
    if http_client is not None and not isinstance(http_client, own):
        raise NotSupportedError(
            "oxide_rx.compat sends requests with aiohttp: the http_client= option is not "
            "supported (use timeout=, max_retries=, default_headers= instead)")


class _AutoClose:
    """Closes the core session when the event loop that used it shuts down.

    ``asyncio.run`` closes every async generator still open on its loop before it returns;
    one parked generator per loop turns that into "close the session", so an ``AsyncOpenAI``
    never closed leaves no unclosed session behind (the official client warns of none either).
    """

    def __init__(self, close: Callable[[], Awaitable[None]]) -> None:
        self.close = close
        self.armed: weakref.WeakSet[asyncio.AbstractEventLoop] = weakref.WeakSet()

    async def arm(self) -> None:
        loop = asyncio.get_running_loop()
        if loop not in self.armed:
            self.armed.add(loop)
            parked = self._park()
            self._parked = parked
            await parked.__anext__()

    async def _park(self) -> AsyncIterator[None]:
        try:
            yield
        finally:
            await self.close()


class _Core:
    """What both clients add to the official one: the core requester and the send path."""

    _requester_cache: _core.Requester | None = None
    _requester_url: str = ""

    @property
    def _requester(self) -> _core.Requester:
        base = str(cast(Any, self).base_url)
        if self._requester_cache is None or base != self._requester_url:
            self._requester_cache = _core.new_requester(base)
            self._requester_url = base
        return self._requester_cache

    def _sending(self, options: FinalRequestOptions) -> tuple[httpx2.Request, _core.Sending]:
        client = cast(Any, self)
        request: httpx2.Request = client._build_request(options)
        content_type = request.headers.get("content-type", "")
        if content_type.startswith("multipart/"):
            raise NotSupportedError("oxide_rx.compat does not send multipart (file) uploads")
        base = str(client.base_url).rstrip("/")
        url = str(request.url.copy_with(query=None))
        if not url.startswith(base):
            raise NotSupportedError(f"oxide_rx.compat only sends requests under {base}")
        content = request.read()
        timeout = options.timeout if not isinstance(options.timeout, openai.NotGiven) \
            else client.timeout
        sending = _core.Sending(
            method=request.method,
            path=url[len(base):],
            headers=dict(request.headers),
            query=dict(request.url.params),
            body=_core.decode_body(content) if content else None,
            timeout=_core.timeout_of(timeout),
            max_retries=options.get_max_retries(client.max_retries),
        )
        log.debug("Sending HTTP Request: %s %s", request.method, request.url)
        return request, sending

    async def _send(self, options: FinalRequestOptions, stream: bool,
                    stream_cls: type[Any] | None) -> tuple[httpx2.Request, Any]:
        """The reply (non-streaming) or the compat stream, official errors raised."""
        request, sending = self._sending(options)
        closer = vars(self).get("_closer")
        if closer is not None:
            await closer.arm()
        try:
            if stream:
                item_type = extract_stream_chunk_type(stream_cls) if stream_cls else object
                return request, await open_core_stream(self._requester, sending, request,
                                                       item_type)
            reply = await _core.request(self._requester, sending)
        except _core.OxideRxError as exc:
            raise official_error(self, exc, request) from None
        log.debug("HTTP Response: %s %s %i", request.method, request.url, reply.status)
        log.debug("request_id: %s", reply.headers.get("x-request-id"))
        return request, httpx2.Response(reply.status, headers=reply.headers,
                                        content=reply.body, request=request)

    async def _aclose_core(self) -> None:
        if self._requester_cache is not None:
            await self._requester_cache.aclose()


class AsyncOpenAI(_Core, openai.AsyncOpenAI):
    """The official ``AsyncOpenAI``, on oxide_rx's core.

    >>> client = AsyncOpenAI()                                        # doctest: +SKIP
    >>> stream = await client.chat.completions.create(                # doctest: +SKIP
    ...     model="gpt-4o-mini", messages=[{"role": "user", "content": "Hi"}], stream=True)
    >>> async for chunk in stream:                                    # doctest: +SKIP
    ...     print(chunk.choices[0].delta.content or "", end="")
    """

    if not TYPE_CHECKING:  # type checkers (and inspect.signature) see the official one

        @wraps(openai.AsyncOpenAI.__init__)
        def __init__(self, **options: Any) -> None:
            _refuse_http_client(options.get("http_client"), (AsyncHttpxClientWrapper,))
            super().__init__(**options)
            self._closer = _AutoClose(self._aclose_core)

    @cached_property
    def chat(self) -> AsyncChat:  # type: ignore[override]
        return AsyncChat(self)

    @cached_property
    def responses(self) -> AsyncResponses:  # type: ignore[override]
        return AsyncResponses(self)

    async def request(  # type: ignore[override]
        self,
        cast_to: type[_T],
        options: FinalRequestOptions,
        *,
        stream: bool = False,
        stream_cls: type[Any] | None = None,
    ) -> Any:
        cast_to = self._maybe_override_cast_to(cast_to, options)
        options = await self._prepare_options(model_copy(options))
        if options.idempotency_key is None and options.method.lower() != "get":
            options.idempotency_key = self._idempotency_key()
        _, result = await self._send(options, stream, stream_cls)
        if stream:
            return AsyncStream(result)
        return await self._process_response(cast_to=cast_to, options=options, response=result,
                                            stream=False, stream_cls=stream_cls)

    async def close(self) -> None:
        """Close the connection pool."""
        await self._aclose_core()
        await super().close()


class OpenAI(_Core, openai.OpenAI):
    """The official synchronous ``OpenAI``: the async core on a private loop thread, so it
    works from any thread, including one of an application that runs its own asyncio loop.

    >>> client = OpenAI()                                             # doctest: +SKIP
    >>> for chunk in client.chat.completions.create(                  # doctest: +SKIP
    ...         model="gpt-4o-mini", messages=[...], stream=True):
    ...     print(chunk.choices[0].delta.content or "", end="")
    """

    _runner: LoopThread

    if not TYPE_CHECKING:  # type checkers (and inspect.signature) see the official one

        @wraps(openai.OpenAI.__init__)
        def __init__(self, **options: Any) -> None:
            _refuse_http_client(options.get("http_client"), (SyncHttpxClientWrapper,))
            super().__init__(**options)
            self._runner = loop_thread()
            self._runner.at_exit(self._aclose_core)

    @cached_property
    def chat(self) -> Chat:  # type: ignore[override]
        return Chat(self)

    @cached_property
    def responses(self) -> Responses:  # type: ignore[override]
        return Responses(self)

    def request(  # type: ignore[override]
        self,
        cast_to: type[_T],
        options: FinalRequestOptions,
        *,
        stream: bool = False,
        stream_cls: type[Any] | None = None,
    ) -> Any:
        cast_to = self._maybe_override_cast_to(cast_to, options)
        options = self._prepare_options(model_copy(options))
        if options.idempotency_key is None and options.method.lower() != "get":
            options.idempotency_key = self._idempotency_key()
        _, result = self._runner.run(self._send(options, stream, stream_cls))
        if stream:
            return Stream(result, self._runner)
        return self._process_response(cast_to=cast_to, options=options, response=result,
                                      stream=False, stream_cls=stream_cls)

    def close(self) -> None:
        """Close the connection pool."""
        self._runner.forget(self._aclose_core)
        self._runner.run(self._aclose_core())
        super().close()
