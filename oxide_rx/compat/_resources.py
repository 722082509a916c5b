"""``client.models`` and ``client.embeddings``: plain JSON calls.

>>> page = await client.models.list()                      # doctest: +SKIP
>>> [model.id for model in page]                           # doctest: +SKIP
"""

from __future__ import annotations

import array
import base64
from collections.abc import AsyncIterator, Generator, Mapping
from typing import Any

from ._base import NotGiven, Settings
from ._core import request_json
from ._loop import LoopThread
from ._models import construct
from ._unsupported import refuse

__all__ = ["AsyncEmbeddings", "AsyncModels", "Embeddings", "Models"]


class _Api:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    async def _json(self, method: str, path: str, params: Mapping[str, Any]) -> Any:
        body, options = self.settings.split(params)
        request = self.settings.request(method, path)
        return await self.settings.call(
            request_json(self.settings.core, method, path, body if method == "POST" else None,
                         options), request)

    async def list_models(self, params: Mapping[str, Any], page: str) -> Any:
        return construct(page, await self._json("GET", "/models", params))

    async def retrieve_model(self, model: str, params: Mapping[str, Any]) -> Any:
        return construct("Model", await self._json("GET", f"/models/{model}", params))

    async def embed(self, params: Mapping[str, Any]) -> Any:
        given = params.get("encoding_format")
        asked = given is not None and not isinstance(given, NotGiven)
        # Like the official client: ask for base64 (a quarter of the bytes) unless the caller
        # chose a format, and hand back floats.
        data = await self._json("POST", "/embeddings",
                                params if asked else {**params, "encoding_format": "base64"})
        if not asked:
            if not data.get("data"):
                raise ValueError("No embedding data received")
            for item in data["data"]:
                if isinstance(item.get("embedding"), str):
                    item["embedding"] = array.array(
                        "f", base64.b64decode(item["embedding"])).tolist()
        return construct("CreateEmbeddingResponse", data)


class _AsyncModelList:
    """``await client.models.list()`` gives the page; ``async for`` gives the models."""

    def __init__(self, api: _Api, params: Mapping[str, Any]) -> None:
        self._api = api
        self._params = params

    def __await__(self) -> Generator[Any, None, Any]:
        return self._api.list_models(self._params, "AsyncPage").__await__()

    async def __aiter__(self) -> AsyncIterator[Any]:
        page = await self._api.list_models(self._params, "AsyncPage")
        for model in page.data or []:
            yield model


class AsyncModels:
    """``client.models`` of :class:`AsyncOpenAI`."""

    def __init__(self, settings: Settings) -> None:
        self._api = _Api(settings)

    def list(self, **params: Any) -> _AsyncModelList:
        return _AsyncModelList(self._api, params)

    async def retrieve(self, model: str, **params: Any) -> Any:
        return await self._api.retrieve_model(model, params)

    def __getattr__(self, name: str) -> Any:
        raise refuse(f"client.models.{name}", name)


class AsyncEmbeddings:
    """``client.embeddings`` of :class:`AsyncOpenAI`."""

    def __init__(self, settings: Settings) -> None:
        self._api = _Api(settings)

    async def create(self, **params: Any) -> Any:
        return await self._api.embed(params)

    def __getattr__(self, name: str) -> Any:
        raise refuse(f"client.embeddings.{name}", name)


class Models:
    """``client.models`` of the synchronous :class:`OpenAI`."""

    def __init__(self, settings: Settings, runner: LoopThread) -> None:
        self._api = _Api(settings)
        self._runner = runner

    def list(self, **params: Any) -> Any:
        return self._runner.run(self._api.list_models(params, "SyncPage"))

    def retrieve(self, model: str, **params: Any) -> Any:
        return self._runner.run(self._api.retrieve_model(model, params))

    def __getattr__(self, name: str) -> Any:
        raise refuse(f"client.models.{name}", name)


class Embeddings:
    """``client.embeddings`` of the synchronous :class:`OpenAI`."""

    def __init__(self, settings: Settings, runner: LoopThread) -> None:
        self._api = _Api(settings)
        self._runner = runner

    def create(self, **params: Any) -> Any:
        return self._runner.run(self._api.embed(params))

    def __getattr__(self, name: str) -> Any:
        raise refuse(f"client.embeddings.{name}", name)
