"""The official resources whose ``stream()`` helpers run on the core's events.

Each ``stream()`` *is* the official method (same signature, same argument checks, same request:
``super().stream(...)``); only the stream it opens differs: the returned manager is the official
manager class, whose stream maps the core accumulator's events to the official ones
(:mod:`._chat_stream`, :mod:`._responses_stream`). Everything else on these resources is
inherited unchanged.
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

# The official managers keep their arguments in private (name-mangled) attributes; the
# managers below are the same classes with another stream behind ``with``.
_CHAT = "_ChatCompletionStreamManager__"
_ACHAT = "_AsyncChatCompletionStreamManager__"
_RESP = "_ResponseStreamManager__"
_ARESP = "_AsyncResponseStreamManager__"


class _ChatManager(ChatCompletionStreamManager[Any]):
    def __init__(self, official: Any, runner: Any) -> None:  # noqa: D107
        vars(self).update(vars(official))
        self._runner = runner

    def __enter__(self) -> Any:
        raw = getattr(self, _CHAT + "api_request")()
        stream = CompatChatStream(raw, getattr(self, _CHAT + "response_format"),
                                  getattr(self, _CHAT + "input_tools"), self._runner)
        setattr(self, _CHAT + "stream", stream)
        return stream


class _AsyncChatManager(AsyncChatCompletionStreamManager[Any]):
    def __init__(self, official: Any) -> None:  # noqa: D107
        vars(self).update(vars(official))

    async def __aenter__(self) -> Any:
        raw = await getattr(self, _ACHAT + "api_request")
        stream = AsyncCompatChatStream(raw, getattr(self, _ACHAT + "response_format"),
                                       getattr(self, _ACHAT + "input_tools"))
        setattr(self, _ACHAT + "stream", stream)
        return stream


class _ResponseManager(ResponseStreamManager[Any]):
    def __init__(self, official: Any, runner: Any) -> None:  # noqa: D107
        vars(self).update(vars(official))
        self._runner = runner

    def __enter__(self) -> Any:
        raw = getattr(self, _RESP + "api_request")()
        stream = CompatResponseStream(raw, getattr(self, _RESP + "text_format"),
                                      getattr(self, _RESP + "input_tools"),
                                      getattr(self, _RESP + "starting_after"), self._runner)
        setattr(self, _RESP + "stream", stream)
        return stream


class _AsyncResponseManager(AsyncResponseStreamManager[Any]):
    def __init__(self, official: Any) -> None:  # noqa: D107
        vars(self).update(vars(official))

    async def __aenter__(self) -> Any:
        raw = await getattr(self, _ARESP + "api_request")
        stream = AsyncCompatResponseStream(raw, getattr(self, _ARESP + "text_format"),
                                           getattr(self, _ARESP + "input_tools"),
                                           getattr(self, _ARESP + "starting_after"))
        setattr(self, _ARESP + "stream", stream)
        return stream


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
    def completions(self) -> Completions:  # type: ignore[override]
        return Completions(self._client)


class AsyncChat(_AsyncChat):
    """``client.chat`` of ``AsyncOpenAI``."""

    @cached_property
    def completions(self) -> AsyncCompletions:  # type: ignore[override]
        return AsyncCompletions(self._client)


class Responses(_Responses):
    """``client.responses``: the official resource; ``stream()`` on the core's events."""

    if not TYPE_CHECKING:

        @wraps(_Responses.stream)
        def stream(self, *args: Any, **kwargs: Any) -> Any:
            return _ResponseManager(super().stream(*args, **kwargs), self._client._runner)


class AsyncResponses(_AsyncResponses):
    """``client.responses`` of ``AsyncOpenAI``."""

    if not TYPE_CHECKING:

        @wraps(_AsyncResponses.stream)
        def stream(self, *args: Any, **kwargs: Any) -> Any:
            return _AsyncResponseManager(super().stream(*args, **kwargs))

