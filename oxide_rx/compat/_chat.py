"""``client.chat.completions``: ``create`` (streamed or not), ``stream`` and ``parse``.

>>> completion = await client.chat.completions.create(   # doctest: +SKIP
...     model="gpt-4o-mini", messages=[{"role": "user", "content": "Hi"}])
>>> completion.choices[0].message.content                # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ._base import Settings
from ._chat_events import ChatEventConverter, ChunkConverter, parse_chat_completion
from ._core import open_chat, request_json
from ._errors import Request
from ._loop import LoopThread
from ._models import construct
from ._parsing import is_format_type, request_tools, response_format_param, validate_tools
from ._streams import AsyncStream, AsyncStreamManager, Converter, Stream, StreamManager
from ._unsupported import refuse

__all__ = ["AsyncChat", "AsyncCompletions", "Chat", "Completions"]

_PATH = "/chat/completions"


class _Api:
    """Everything up to the point where a stream gets its sync or async face."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    async def create(self, params: Mapping[str, Any]) -> Any:
        body, options = self.settings.split(params)
        request = self.settings.request("POST", _PATH)
        if body.get("stream"):
            return await self._open(body, options, request, helper=False)
        body.pop("stream", None)
        data = await self.settings.call(
            request_json(self.settings.core, "POST", _PATH, body, options), request)
        return construct("ChatCompletion", data)

    async def parse(self, params: Mapping[str, Any]) -> Any:
        body, options = self.settings.split(params)
        request = self.settings.request("POST", _PATH)
        response_format, tools = _prepare(body)
        validate_tools(tools)
        data = await self.settings.call(
            request_json(self.settings.core, "POST", _PATH, body, options), request)
        return parse_chat_completion(data, response_format, tools)

    async def stream(self, params: Mapping[str, Any]) -> tuple[Any, Converter, Request]:
        body, options = self.settings.split(params)
        request = self.settings.request("POST", _PATH)
        response_format, tools = _prepare(body)
        body["stream"] = True
        return await self._open(body, options, request, helper=True,
                                response_format=response_format, tools=tools)

    async def _open(self, body: dict[str, Any], options: dict[str, Any], request: Request, *,
                    helper: bool, response_format: Any = None,
                    tools: list[Any] | None = None) -> tuple[Any, Converter, Request]:
        core, tap = await self.settings.call(open_chat(self.settings.core, body, options),
                                             request)
        converter: Converter = ChunkConverter(tap)
        if helper:
            converter = ChatEventConverter(tap, core.accumulator, response_format, tools or [])
        return core, converter, request


def _prepare(body: dict[str, Any]) -> tuple[Any, list[Any]]:
    """Turn a ``response_format`` type into its JSON schema and tools into plain data."""
    response_format = body.get("response_format")
    if is_format_type(response_format):
        body["response_format"] = response_format_param(response_format)
    else:
        response_format = None
    tools = list(body.get("tools") or [])
    if tools:
        body["tools"] = request_tools(tools)
    return response_format, tools


# -- async face ----------------------------------------------------------------------------


class AsyncChatCompletionStream(AsyncStream[Any]):
    """The stream of ``chat.completions.stream()``: official helper events, in order."""

    _converter: ChatEventConverter

    async def get_final_completion(self) -> Any:
        """Run to the end; the accumulated ``ParsedChatCompletion``."""
        await self.until_done()
        return self._converter.final_completion()

    async def until_done(self) -> AsyncChatCompletionStream:
        async for _ in self:
            pass
        return self

    @property
    def current_completion_snapshot(self) -> Any:
        return self._converter.current_snapshot()


class AsyncChatCompletionStreamManager(AsyncStreamManager[AsyncChatCompletionStream]):
    """``async with client.chat.completions.stream(...) as stream:`` (closes on exit)."""

    def __init__(self, api: _Api, params: dict[str, Any]) -> None:
        async def open_stream() -> AsyncChatCompletionStream:
            return AsyncChatCompletionStream(*await api.stream(params))

        super().__init__(open_stream)


class AsyncCompletions:
    """``client.chat.completions`` of :class:`AsyncOpenAI`."""

    def __init__(self, settings: Settings) -> None:
        self._api = _Api(settings)

    async def create(self, **params: Any) -> Any:
        """A ``ChatCompletion``, or with ``stream=True`` an ``AsyncStream`` of chunks."""
        result = await self._api.create(params)
        if isinstance(result, tuple):
            core, converter, request = result
            return AsyncStream(core, converter, request)
        return result

    async def parse(self, **params: Any) -> Any:
        """A ``ParsedChatCompletion``: ``message.parsed`` is a ``response_format`` instance."""
        return await self._api.parse(params)

    def stream(self, **params: Any) -> AsyncChatCompletionStreamManager:
        """A stream of helper events (``content.delta``, ...) in an ``async with`` block."""
        return AsyncChatCompletionStreamManager(self._api, params)

    def __getattr__(self, name: str) -> Any:
        raise refuse(f"client.chat.completions.{name}", name)


class AsyncChat:
    """``client.chat``."""

    def __init__(self, settings: Settings) -> None:
        self.completions = AsyncCompletions(settings)


# -- sync face -----------------------------------------------------------------------------


class ChatCompletionStream(Stream[Any]):
    """The blocking stream of ``chat.completions.stream()``."""

    _converter: ChatEventConverter

    def get_final_completion(self) -> Any:
        self.until_done()
        return self._converter.final_completion()

    def until_done(self) -> ChatCompletionStream:
        for _ in self:
            pass
        return self

    @property
    def current_completion_snapshot(self) -> Any:
        return self._converter.current_snapshot()


class ChatCompletionStreamManager(StreamManager[ChatCompletionStream]):
    """``with client.chat.completions.stream(...) as stream:`` (closes on exit)."""

    def __init__(self, api: _Api, params: dict[str, Any], runner: LoopThread) -> None:
        super().__init__(lambda: ChatCompletionStream(*runner.run(api.stream(params)), runner))


class Completions:
    """``client.chat.completions`` of the synchronous :class:`OpenAI`."""

    def __init__(self, settings: Settings, runner: LoopThread) -> None:
        self._api = _Api(settings)
        self._runner = runner

    def create(self, **params: Any) -> Any:
        """A ``ChatCompletion``, or with ``stream=True`` a ``Stream`` of chunks."""
        result = self._runner.run(self._api.create(params))
        if isinstance(result, tuple):
            core, converter, request = result
            return Stream(core, converter, request, self._runner)
        return result

    def parse(self, **params: Any) -> Any:
        return self._runner.run(self._api.parse(params))

    def stream(self, **params: Any) -> ChatCompletionStreamManager:
        return ChatCompletionStreamManager(self._api, params, self._runner)

    def __getattr__(self, name: str) -> Any:
        raise refuse(f"client.chat.completions.{name}", name)


class Chat:
    """``client.chat``."""

    def __init__(self, settings: Settings, runner: LoopThread) -> None:
        self.completions = Completions(settings, runner)
