"""``AsyncOpenAI`` and ``OpenAI``: the official clients, sending through oxide_rx's core.

They *are* the official classes (subclasses): every resource, signature, overload, default,
environment variable, ``with_raw_response`` / ``with_streaming_response``, ``copy()`` and
``TypeError`` for an unknown argument is the official one. One method changes, ``request``:
the request the official client built (URL, headers, body) is sent by the core requester
(aiohttp, core retries and deadlines) instead of httpx; a non-streaming answer goes back to the
official response handling; a stream is the core's, with official objects built from each
event's raw payload. The synchronous client runs the core on a private loop thread.

>>> import openai
>>> issubclass(AsyncOpenAI, openai.AsyncOpenAI) and issubclass(OpenAI, openai.OpenAI)
True
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable
from functools import wraps
from typing import TYPE_CHECKING, Any, cast

import httpx2
import openai
from openai._base_client import AsyncHttpxClientWrapper, SyncHttpxClientWrapper
from openai._compat import cached_property, model_copy
from openai._models import FinalRequestOptions
from openai._streaming import extract_stream_chunk_type

import oxide_rx as ox

from . import _core
from ._errors import NotSupportedError, official_error
from ._loop import LoopThread, loop_thread
from ._resources import AsyncChat, AsyncResponses, Chat, Responses
from ._streams import AsyncStream, Stream, open_core_stream

__all__ = ["AsyncOpenAI", "OpenAI"]

log = logging.getLogger("openai._base_client")  # the official client's debug lines


def _refuse_http_client(options: dict[str, Any], own: type) -> None:
    # ``copy()`` hands a client's own default httpx client to the copy: that one is fine
    # (never used). A user's httpx client cannot carry aiohttp's requests.
    if options.get("http_client") is not None and not isinstance(options["http_client"], own):
        raise NotSupportedError("oxide_rx.compat sends with aiohttp: http_client= is not "
                                "supported (use timeout=, max_retries=, default_headers=)")


class _AutoClose:
    """Closes the core session when the event loop that used it shuts down: ``asyncio.run``
    closes the async generators still open on its loop, and one is parked per loop. So an
    ``AsyncOpenAI`` never closed leaves no unclosed-session warning (the official one none)."""

    def __init__(self, close: Callable[[], Awaitable[None]]) -> None:
        self.close = close
        self.loops: weakref.WeakSet[asyncio.AbstractEventLoop] = weakref.WeakSet()
        self.parked: list[AsyncIterator[None]] = []

    async def arm(self) -> None:
        loop = asyncio.get_running_loop()
        if loop not in self.loops:
            self.loops.add(loop)
            self.parked = [self._park()]
            await self.parked[0].__anext__()

    async def _park(self) -> AsyncIterator[None]:
        try:
            yield
        finally:
            await self.close()


class _Core:
    """What both clients add to the official one: the core requester and the send path."""

    _requester_cache: tuple[str, _core.Requester] | None = None

    def _requester(self) -> _core.Requester:
        base = str(cast(Any, self).base_url)
        if self._requester_cache is None or self._requester_cache[0] != base:
            self._requester_cache = (base, _core.new_requester(base))
        return self._requester_cache[1]

    async def _send(self, options: FinalRequestOptions, stream: bool,
                    stream_cls: type[Any] | None) -> Any:
        """The reply (an ``httpx2.Response``) or the opened core stream; official errors."""
        client = cast(Any, self)
        request: httpx2.Request = client._build_request(options)
        if request.headers.get("content-type", "").startswith("multipart/"):
            raise NotSupportedError("oxide_rx.compat does not send multipart (file) uploads")
        base, url = str(client.base_url).rstrip("/"), str(request.url.copy_with(query=None))
        if not url.startswith(base):
            raise NotSupportedError(f"oxide_rx.compat only sends requests under {base}")
        content = request.read()
        timeout = client.timeout if isinstance(options.timeout, openai.NotGiven) \
            else options.timeout
        sending = _core.Sending(
            request.method, url[len(base):], dict(request.headers), dict(request.url.params),
            _core.decode_body(content) if content else None, _core.timeout_of(timeout),
            options.get_max_retries(client.max_retries))
        if (closer := vars(self).get("_closer")) is not None:
            await closer.arm()
        log.debug("Sending HTTP Request: %s %s", request.method, request.url)
        try:
            if stream:
                item_type = extract_stream_chunk_type(stream_cls) if stream_cls else object
                return await open_core_stream(self._requester(), sending, request, item_type)
            status, headers, body = await _core.request(self._requester(), sending)
        except ox.OxideRxError as exc:
            raise official_error(self, exc, request) from None
        log.debug("HTTP Response: %s %s %i", request.method, request.url, status)
        log.debug("request_id: %s", headers.get("x-request-id"))
        return httpx2.Response(status, headers=headers, content=body, request=request)

    def _ready(self, options: FinalRequestOptions) -> FinalRequestOptions:
        options = model_copy(options)
        if options.idempotency_key is None and options.method.lower() != "get":
            options.idempotency_key = cast(Any, self)._idempotency_key()
        return options

    async def _aclose_core(self) -> None:
        if self._requester_cache is not None:
            await self._requester_cache[1].aclose()


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
            _refuse_http_client(options, AsyncHttpxClientWrapper)
            super().__init__(**options)
            self._closer = _AutoClose(self._aclose_core)

    @cached_property
    def chat(self) -> AsyncChat:
        return AsyncChat(self)

    @cached_property
    def responses(self) -> AsyncResponses:
        return AsyncResponses(self)

    async def request(self, cast_to: Any, options: FinalRequestOptions, *, stream: bool = False,
                      stream_cls: type[Any] | None = None) -> Any:
        cast_to = self._maybe_override_cast_to(cast_to, options)
        options = self._ready(await self._prepare_options(options))
        result = await self._send(options, stream, stream_cls)
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
    works from any thread, one of an application that runs its own asyncio loop included.

    >>> client = OpenAI()                                             # doctest: +SKIP
    >>> for chunk in client.chat.completions.create(                  # doctest: +SKIP
    ...         model="gpt-4o-mini", messages=[...], stream=True):
    ...     print(chunk.choices[0].delta.content or "", end="")
    """

    _runner: LoopThread

    if not TYPE_CHECKING:

        @wraps(openai.OpenAI.__init__)
        def __init__(self, **options: Any) -> None:
            _refuse_http_client(options, SyncHttpxClientWrapper)
            super().__init__(**options)
            self._runner = loop_thread()
            self._runner.closers.append(self._aclose_core)

    @cached_property
    def chat(self) -> Chat:
        return Chat(self)

    @cached_property
    def responses(self) -> Responses:
        return Responses(self)

    def request(self, cast_to: Any, options: FinalRequestOptions, *, stream: bool = False,
                stream_cls: type[Any] | None = None) -> Any:
        cast_to = self._maybe_override_cast_to(cast_to, options)
        options = self._ready(self._prepare_options(options))
        result = self._runner.run(self._send(options, stream, stream_cls))
        if stream:
            return Stream(result)
        return self._process_response(cast_to=cast_to, options=options, response=result,
                                      stream=False, stream_cls=stream_cls)

    def close(self) -> None:
        """Close the connection pool."""
        if self._aclose_core in self._runner.closers:
            self._runner.closers.remove(self._aclose_core)
        self._runner.run(self._aclose_core())
        super().close()
