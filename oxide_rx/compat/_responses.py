"""``client.responses``: ``create`` (streamed or not), ``stream``, ``parse``, ``retrieve``,
``cancel``.

>>> response = await client.responses.create(model="gpt-5.4-mini", input="Hi")  # doctest: +SKIP
>>> response.output_text                                                       # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ._base import Settings
from ._core import open_responses, request_json
from ._errors import Request
from ._loop import LoopThread
from ._models import construct
from ._parsing import is_format_type, request_tools, text_format_param
from ._responses_events import HelperEventConverter, RawEventConverter, parse_response
from ._streams import AsyncStream, AsyncStreamManager, Converter, Stream, StreamManager
from ._unsupported import refuse
from ._websocket import AsyncResponsesConnectionManager
from ._websocket_sync import ResponsesConnectionManager

__all__ = ["AsyncResponses", "Responses"]


class _Api:
    """Everything up to the point where a stream gets its sync or async face."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    async def _json(self, method: str, path: str, body: Any, options: dict[str, Any]) -> Any:
        request = self.settings.request(method, path)
        return await self.settings.call(
            request_json(self.settings.core, method, path, body, options), request)

    async def create(self, params: Mapping[str, Any]) -> Any:
        body, options = self.settings.split(params)
        if body.get("stream"):
            return await self._open(body, options, helper=False)
        body.pop("stream", None)
        return construct("Response", await self._json("POST", "/responses", body, options))

    async def parse(self, params: Mapping[str, Any]) -> Any:
        body, options = self.settings.split(params)
        text_format, tools = _prepare(body)
        data = await self._json("POST", "/responses", body, options)
        return parse_response(data, text_format, tools)

    async def stream(self, params: Mapping[str, Any]) -> tuple[Any, Converter, Request]:
        body, options = self.settings.split(params)
        response_id = body.pop("response_id", None)
        starting_after = body.pop("starting_after", None)
        text_format, tools = _prepare(body)
        if response_id is not None:
            return await self._open(None, options, helper=True, text_format=text_format,
                                    tools=tools, response_id=response_id,
                                    starting_after=starting_after)
        body["stream"] = True
        return await self._open(body, options, helper=True, text_format=text_format,
                                tools=tools)

    async def retrieve(self, response_id: str, params: Mapping[str, Any]) -> Any:
        body, options = self.settings.split(params)
        if body.pop("stream", False):
            return await self._open(None, options, helper=False, response_id=response_id,
                                    starting_after=body.pop("starting_after", None))
        if body:
            options["query"] = {**(options.get("query") or {}),
                                **{k: _query_value(v) for k, v in body.items()}}
        path = f"/responses/{response_id}"
        return construct("Response", await self._json("GET", path, None, options))

    async def cancel(self, response_id: str, params: Mapping[str, Any]) -> Any:
        _, options = self.settings.split(params)
        path = f"/responses/{response_id}/cancel"
        return construct("Response", await self._json("POST", path, None, options))

    async def _open(self, body: dict[str, Any] | None, options: dict[str, Any], *, helper: bool,
                    text_format: Any = None, tools: list[Any] | None = None,
                    response_id: str | None = None,
                    starting_after: int | None = None) -> tuple[Any, Converter, Request]:
        if response_id is None:
            request = self.settings.request("POST", "/responses")
        else:
            request = self.settings.request("GET", f"/responses/{response_id}")
        core, tap = await self.settings.call(
            open_responses(self.settings.core, options, body=body, response_id=response_id,
                           starting_after=starting_after),
            request)
        converter: Converter = RawEventConverter(tap)
        if helper:
            converter = HelperEventConverter(tap, text_format, tools or [])
        return core, converter, request


def _query_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return ",".join(str(v) for v in value)
    return str(value)


def _prepare(body: dict[str, Any]) -> tuple[Any, list[Any]]:
    """Turn a ``text_format`` type into the ``text.format`` JSON schema; tools into data."""
    text_format = body.pop("text_format", None)
    if is_format_type(text_format):
        body["text"] = {**(body.get("text") or {}), **text_format_param(text_format)}
    else:
        text_format = None
    tools = list(body.get("tools") or [])
    if tools:
        body["tools"] = request_tools(tools)
    return text_format, tools


# -- async face ----------------------------------------------------------------------------


class AsyncResponseStream(AsyncStream[Any]):
    """The stream of ``responses.stream()``."""

    _converter: HelperEventConverter

    async def get_final_response(self) -> Any:
        """Run to the end; the ``ParsedResponse`` of ``response.completed``."""
        await self.until_done()
        if self._converter.final is None:
            raise RuntimeError("Didn't receive a `response.completed` event.")
        return self._converter.final

    async def until_done(self) -> AsyncResponseStream:
        async for _ in self:
            pass
        return self


class AsyncResponseStreamManager(AsyncStreamManager[AsyncResponseStream]):
    """``async with client.responses.stream(...) as stream:`` (closes on exit)."""

    def __init__(self, api: _Api, params: dict[str, Any]) -> None:
        async def open_stream() -> AsyncResponseStream:
            return AsyncResponseStream(*await api.stream(params))

        super().__init__(open_stream)


class AsyncResponses:
    """``client.responses`` of :class:`AsyncOpenAI`."""

    def __init__(self, settings: Settings) -> None:
        self._api = _Api(settings)

    async def create(self, **params: Any) -> Any:
        """A ``Response``, or with ``stream=True`` an ``AsyncStream`` of typed events."""
        result = await self._api.create(params)
        if isinstance(result, tuple):
            core, converter, request = result
            return AsyncStream(core, converter, request)
        return result

    async def parse(self, **params: Any) -> Any:
        """A ``ParsedResponse``: ``output_parsed`` is a ``text_format`` instance."""
        return await self._api.parse(params)

    def stream(self, **params: Any) -> AsyncResponseStreamManager:
        return AsyncResponseStreamManager(self._api, params)

    async def retrieve(self, response_id: str, **params: Any) -> Any:
        result = await self._api.retrieve(response_id, params)
        if isinstance(result, tuple):
            core, converter, request = result
            return AsyncStream(core, converter, request)
        return result

    async def cancel(self, response_id: str, **params: Any) -> Any:
        return await self._api.cancel(response_id, params)

    def connect(self, **options: Any) -> AsyncResponsesConnectionManager:
        """The WebSocket mode: ``async with client.responses.connect() as connection:``."""
        return AsyncResponsesConnectionManager(self._api.settings, **options)

    def __getattr__(self, name: str) -> Any:
        raise refuse(f"client.responses.{name}", name)


# -- sync face -----------------------------------------------------------------------------


class ResponseStream(Stream[Any]):
    """The blocking stream of ``responses.stream()``."""

    _converter: HelperEventConverter

    def get_final_response(self) -> Any:
        self.until_done()
        if self._converter.final is None:
            raise RuntimeError("Didn't receive a `response.completed` event.")
        return self._converter.final

    def until_done(self) -> ResponseStream:
        for _ in self:
            pass
        return self


class ResponseStreamManager(StreamManager[ResponseStream]):
    """``with client.responses.stream(...) as stream:`` (closes on exit)."""

    def __init__(self, api: _Api, params: dict[str, Any], runner: LoopThread) -> None:
        super().__init__(lambda: ResponseStream(*runner.run(api.stream(params)), runner))


class Responses:
    """``client.responses`` of the synchronous :class:`OpenAI`."""

    def __init__(self, settings: Settings, runner: LoopThread) -> None:
        self._api = _Api(settings)
        self._runner = runner

    def create(self, **params: Any) -> Any:
        result = self._runner.run(self._api.create(params))
        if isinstance(result, tuple):
            core, converter, request = result
            return Stream(core, converter, request, self._runner)
        return result

    def parse(self, **params: Any) -> Any:
        return self._runner.run(self._api.parse(params))

    def stream(self, **params: Any) -> ResponseStreamManager:
        return ResponseStreamManager(self._api, params, self._runner)

    def retrieve(self, response_id: str, **params: Any) -> Any:
        result = self._runner.run(self._api.retrieve(response_id, params))
        if isinstance(result, tuple):
            core, converter, request = result
            return Stream(core, converter, request, self._runner)
        return result

    def cancel(self, response_id: str, **params: Any) -> Any:
        return self._runner.run(self._api.cancel(response_id, params))

    def connect(self, **options: Any) -> ResponsesConnectionManager:
        """The WebSocket mode: ``with client.responses.connect() as connection:``."""
        return ResponsesConnectionManager(self._api.settings, self._runner, **options)

    def __getattr__(self, name: str) -> Any:
        raise refuse(f"client.responses.{name}", name)
