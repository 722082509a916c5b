"""Where the compat layer meets the core: the only module that reaches into oxide_rx internals.

Requests go through the client's requester; streams are the core's
:class:`~oxide_rx.ChatStream` / :class:`~oxide_rx.ResponseStream` with their accumulators and
pipelines, opened through ``open_stream`` / ``open_retrieve_stream``. The official objects
keep every key the API sent (``"logprobs": null`` ...), which the wire Structs drop, so a
:class:`RawTap` subscribed first to each stream's wire events holds the payload (``raw``) of
the event being processed: the helper events it causes reach the compat layer right after,
while the tap still holds it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import msgspec

from .._client.client import OpenAI as CoreClient
from .._client.options import split_request_options as _split_options
from .._core.chat import ChatCompletionAccumulator
from .._core.responses import ResponseAccumulator
from .._core.schema import response_format_param, strict_schema, text_format_param
from .._exceptions import ResponseFailedError
from .._stream.inbox import Inbox, observe
from .._stream.lifetime import StreamHandle
from .._stream.streams import ChatStream, ResponseStream
from .._transport.requester import RequestOptions
from .._transport.timeouts import Timeout as CoreTimeout
from ..events import Chunk
from ..types import responses as rt

__all__ = ["ChatCompletionAccumulator", "ChatStream", "CoreClient", "CoreTimeout", "Inbox",
           "RawTap", "ResponseFailedError", "ResponseStream", "StreamHandle", "decode_json",
           "observe", "open_chat", "open_responses", "request_json", "response_format_param",
           "split_request_options", "strict_schema", "text_format_param", "wire_to_builtins"]

decode_json = msgspec.json.Decoder().decode


class RawTap:
    """Holds the payload of the wire event the stream is processing right now."""

    __slots__ = ("data",)

    def __init__(self) -> None:
        self.data = "{}"

    def __call__(self, event: Any) -> None:
        raw = event.raw
        self.data = raw.decode("utf-8", "replace") if raw is not None else "{}"

    def decoded(self) -> Any:
        return decode_json(self.data)


def split_request_options(params: dict[str, Any]) -> dict[str, Any]:
    """The core's per-request options, as a dict compat can adjust."""
    options = _split_options(params)
    return {"timeout": options.timeout, "max_retries": options.max_retries,
            "extra_headers": options.extra_headers, "query": options.extra_query}


def _options(options: Mapping[str, Any] | None) -> RequestOptions:
    options = options or {}
    return RequestOptions(options.get("timeout"), options.get("max_retries"),
                          options.get("extra_headers"), options.get("query"))


async def request_json(client: CoreClient, method: str, path: str, body: Any = None,
                       options: Mapping[str, Any] | None = None) -> Any:
    """A non-streaming call: the decoded JSON body (plain dicts and lists)."""
    raw = await client._requester.request_json(method, path, _options(options), body=body)
    return decode_json(raw)


async def open_chat(
    client: CoreClient, body: dict[str, Any], options: Mapping[str, Any]
) -> tuple[ChatStream, RawTap]:
    """``POST /chat/completions`` with ``stream: true``: a core stream, not started yet."""
    stream = await client.chat.completions.open_stream(
        body, _options(options), ChatCompletionAccumulator()
    )
    tap = RawTap()
    stream.on(Chunk, tap)
    return stream, tap


async def open_responses(
    client: CoreClient,
    options: Mapping[str, Any],
    *,
    body: dict[str, Any] | None = None,
    response_id: str | None = None,
    starting_after: int | None = None,
) -> tuple[ResponseStream, RawTap]:
    """``POST /responses`` (``body``) or ``GET /responses/{id}?stream=true`` (``response_id``).

    A background response resumes after a dropped connection, as the core's streams do.
    """
    if response_id is None:
        assert body is not None
        stream = await client.responses.open_stream(
            body, _options(options), ResponseAccumulator()
        )
    else:
        stream = await client.responses.open_retrieve_stream(
            response_id, _options(options), ResponseAccumulator(),
            starting_after=starting_after,
        )
    tap = RawTap()
    stream.on((*rt.EVENT_CLASSES, rt.UnknownEvent), tap)
    return stream, tap


# -- wire Structs to API-shaped data --------------------------------------------------------

# Fields the accumulators add to wire Structs that the API never sends.
_NOT_WIRE = frozenset({"parsed", "parsed_arguments"})


def wire_to_builtins(obj: Any) -> Any:
    """API-shaped data from a wire Struct: keys as the API names them, ``None`` fields left out.

    >>> from oxide_rx.types.chat import ChatCompletionMessage
    >>> wire_to_builtins(ChatCompletionMessage(role="assistant", content="Hi"))
    {'role': 'assistant', 'content': 'Hi'}
    """
    if isinstance(obj, msgspec.Struct):
        cls = type(obj)
        out: dict[str, Any] = {}
        config = cls.__struct_config__
        if config.tag_field is not None:
            out[config.tag_field] = config.tag
        for name, key in zip(cls.__struct_fields__, cls.__struct_encode_fields__, strict=True):
            value = getattr(obj, name)
            if value is not None and name not in _NOT_WIRE:
                out[key] = wire_to_builtins(value)
        return out
    if isinstance(obj, list):
        return [wire_to_builtins(item) for item in obj]
    if isinstance(obj, dict):
        return {key: wire_to_builtins(item) for key, item in obj.items()}
    return obj
