"""The official resources whose ``stream()`` helpers and ``responses.connect()`` run on the core.

Each method *is* the official one (``super()``: same signature, checks and request); the
manager it returns only changes class, so that entering it opens compat's helper stream over
the core's events (:mod:`._chat_stream`, :mod:`._responses_stream`) or its socket
(:mod:`._websocket`).
"""

from __future__ import annotations

from functools import wraps
from typing import TYPE_CHECKING, Any

from openai._compat import cached_property
from openai.lib.streaming.chat import AsyncChatCompletionStreamManager, ChatCompletionStreamManager
from openai.lib.streaming.responses import AsyncResponseStreamManager, ResponseStreamManager
from openai.resources import chat, responses

from ._chat_stream import AsyncCompatChatStream, CompatChatStream
from ._responses_stream import AsyncCompatResponseStream, CompatResponseStream

__all__ = ["AsyncChat", "AsyncResponses", "Chat", "Responses"]

_CHAT = ("response_format", "input_tools")
_RESPONSES = ("text_format", "input_tools", "starting_after")


def _private(manager: Any, name: str) -> str:
    """The name of the official manager's private attribute ``name`` (name-mangled)."""
    return f"_{type(manager).__mro__[1].__name__}__{name}"


def _opened(manager: Any, cls: type, request: Any, names: tuple[str, ...]) -> Any:
    stream = cls(request, *(getattr(manager, _private(manager, name)) for name in names))
    setattr(manager, _private(manager, "stream"), stream)  # what the official exit closes
    return stream


def _request(manager: Any) -> Any:
    return getattr(manager, _private(manager, "api_request"))


class _ChatManager(ChatCompletionStreamManager[Any]):
    def __enter__(self) -> Any:
        return _opened(self, CompatChatStream, _request(self)(), _CHAT)


class _AsyncChatManager(AsyncChatCompletionStreamManager[Any]):
    async def __aenter__(self) -> Any:
        return _opened(self, AsyncCompatChatStream, await _request(self), _CHAT)


class _ResponseManager(ResponseStreamManager[Any]):
    def __enter__(self) -> Any:
        return _opened(self, CompatResponseStream, _request(self)(), _RESPONSES)


class _AsyncResponseManager(AsyncResponseStreamManager[Any]):
    async def __aenter__(self) -> Any:
        return _opened(self, AsyncCompatResponseStream, await _request(self), _RESPONSES)


def _as(manager: Any, cls: type) -> Any:
    manager.__class__ = cls  # the official manager, entered the compat way
    return manager


def _connect(manager: Any, name: str) -> Any:
    from . import _websocket  # it needs websockets (openai[realtime]), as the official does

    return _as(manager, getattr(_websocket, name))


class Completions(chat.Completions):
    """``client.chat.completions``: the official resource; ``stream()`` on the core's events."""

    if not TYPE_CHECKING:  # type checkers (and inspect.signature) see the official signature

        @wraps(chat.Completions.stream)
        def stream(self, *args: Any, **kwargs: Any) -> Any:
            return _as(super().stream(*args, **kwargs), _ChatManager)


class AsyncCompletions(chat.AsyncCompletions):
    """``client.chat.completions`` of ``AsyncOpenAI``."""

    if not TYPE_CHECKING:

        @wraps(chat.AsyncCompletions.stream)
        def stream(self, *args: Any, **kwargs: Any) -> Any:
            return _as(super().stream(*args, **kwargs), _AsyncChatManager)


class Chat(chat.Chat):
    """``client.chat``."""

    @cached_property
    def completions(self) -> Completions:
        return Completions(self._client)


class AsyncChat(chat.AsyncChat):
    """``client.chat`` of ``AsyncOpenAI``."""

    @cached_property
    def completions(self) -> AsyncCompletions:
        return AsyncCompletions(self._client)


class Responses(responses.Responses):
    """``client.responses``: the official resource; ``stream()`` and ``connect()`` on the
    core."""

    if not TYPE_CHECKING:

        @wraps(responses.Responses.stream)
        def stream(self, *args: Any, **kwargs: Any) -> Any:
            return _as(super().stream(*args, **kwargs), _ResponseManager)

        @wraps(responses.Responses.connect)
        def connect(self, *args: Any, **kwargs: Any) -> Any:
            return _connect(super().connect(*args, **kwargs), "ConnectionManager")


class AsyncResponses(responses.AsyncResponses):
    """``client.responses`` of ``AsyncOpenAI``."""

    if not TYPE_CHECKING:

        @wraps(responses.AsyncResponses.stream)
        def stream(self, *args: Any, **kwargs: Any) -> Any:
            return _as(super().stream(*args, **kwargs), _AsyncResponseManager)

        @wraps(responses.AsyncResponses.connect)
        def connect(self, *args: Any, **kwargs: Any) -> Any:
            return _connect(super().connect(*args, **kwargs), "AsyncConnectionManager")
