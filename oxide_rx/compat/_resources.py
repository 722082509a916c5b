"""The official resources whose ``stream()`` helpers run on the core's events.

Each ``stream()`` *is* the official method (``super().stream(...)``: same signature, checks and
request); only the stream behind its manager differs (:mod:`._chat_stream`,
:mod:`._responses_stream`). Everything else on these resources is inherited unchanged.
"""

from __future__ import annotations

from functools import wraps
from typing import TYPE_CHECKING, Any

from openai._compat import cached_property
from openai.lib.streaming.chat import AsyncChatCompletionStreamManager, ChatCompletionStreamManager
from openai.lib.streaming.responses import AsyncResponseStreamManager, ResponseStreamManager
from openai.resources.chat import AsyncChat as _AsyncChat
from openai.resources.chat import AsyncCompletions as _AsyncCompletions
from openai.resources.chat import Chat as _Chat
from openai.resources.chat import Completions as _Completions
from openai.resources.responses import AsyncResponses as _AsyncResponses
from openai.resources.responses import Responses as _Responses

from ._chat_stream import AsyncCompatChatStream, CompatChatStream
from ._responses_stream import AsyncCompatResponseStream, CompatResponseStream

__all__ = ["AsyncChat", "AsyncCompletions", "AsyncResponses", "Chat", "Completions",
           "Responses"]


class _Adopted:
    """A manager that takes over an official one's arguments (kept in its private,
    name-mangled attributes) and opens another stream class behind ``with``."""

    _prefix = ""

    def __init__(self, official: Any, runner: Any = None) -> None:
        vars(self).update(vars(official))
        self._runner = runner

    def _arg(self, name: str) -> Any:
        return getattr(self, self._prefix + name)

    def _opened(self, stream: Any) -> Any:
        setattr(self, self._prefix + "stream", stream)  # what the official __exit__ closes
        return stream


class _ChatManager(_Adopted, ChatCompletionStreamManager[Any]):
    _prefix = "_ChatCompletionStreamManager__"

    def __enter__(self) -> Any:
        return self._opened(CompatChatStream(
            self._arg("api_request")(), self._arg("response_format"), self._arg("input_tools"),
            self._runner))


class _AsyncChatManager(_Adopted, AsyncChatCompletionStreamManager[Any]):
    _prefix = "_AsyncChatCompletionStreamManager__"

    async def __aenter__(self) -> Any:
        return self._opened(AsyncCompatChatStream(
            await self._arg("api_request"), self._arg("response_format"),
            self._arg("input_tools")))


class _ResponseManager(_Adopted, ResponseStreamManager[Any]):
    _prefix = "_ResponseStreamManager__"

    def __enter__(self) -> Any:
        return self._opened(CompatResponseStream(
            self._arg("api_request")(), self._arg("text_format"), self._arg("input_tools"),
            self._arg("starting_after"), self._runner))


class _AsyncResponseManager(_Adopted, AsyncResponseStreamManager[Any]):
    _prefix = "_AsyncResponseStreamManager__"

    async def __aenter__(self) -> Any:
        return self._opened(AsyncCompatResponseStream(
            await self._arg("api_request"), self._arg("text_format"),
            self._arg("input_tools"), self._arg("starting_after")))


class Completions(_Completions):
    """``client.chat.completions``: the official resource; ``stream()`` on the core's events."""

    if not TYPE_CHECKING:  # type checkers (and inspect.signature) see the official signature

        @wraps(_Completions.stream)
        def stream(self, *args: Any, **kwargs: Any) -> Any:
            return _ChatManager(super().stream(*args, **kwargs), self._client._runner)


class AsyncCompletions(_AsyncCompletions):
    """``client.chat.completions`` of ``AsyncOpenAI``."""

    if not TYPE_CHECKING:

        @wraps(_AsyncCompletions.stream)
        def stream(self, *args: Any, **kwargs: Any) -> Any:
            return _AsyncChatManager(super().stream(*args, **kwargs))


class Chat(_Chat):
    """``client.chat``."""

    @cached_property
    def completions(self) -> Completions:
        return Completions(self._client)


class AsyncChat(_AsyncChat):
    """``client.chat`` of ``AsyncOpenAI``."""

    @cached_property
    def completions(self) -> AsyncCompletions:
        return AsyncCompletions(self._client)


class Responses(_Responses):
    """``client.responses``: the official resource; ``stream()`` on the core's events."""

    if not TYPE_CHECKING:

        @wraps(_Responses.stream)
        def stream(self, *args: Any, **kwargs: Any) -> Any:
            return _ResponseManager(super().stream(*args, **kwargs), self._client._runner)

        @wraps(_Responses.connect)
        def connect(self, *args: Any, **kwargs: Any) -> Any:
            from ._websocket import ConnectionManager  # needs websockets, as officially

            manager = super().connect(*args, **kwargs)
            manager.__class__ = ConnectionManager  # the official one, on the core's socket
            return manager


class AsyncResponses(_AsyncResponses):
    """``client.responses`` of ``AsyncOpenAI``."""

    if not TYPE_CHECKING:

        @wraps(_AsyncResponses.stream)
        def stream(self, *args: Any, **kwargs: Any) -> Any:
            return _AsyncResponseManager(super().stream(*args, **kwargs))

        @wraps(_AsyncResponses.connect)
        def connect(self, *args: Any, **kwargs: Any) -> Any:
            from ._websocket import AsyncConnectionManager

            manager = super().connect(*args, **kwargs)
            manager.__class__ = AsyncConnectionManager
            return manager
