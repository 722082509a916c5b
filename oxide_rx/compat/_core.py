"""Where the compat layer meets the core: the only module that reaches into oxide_rx internals.

Requests go through ``oxide_rx.OpenAI._send`` / ``_request_json``; streams are the core's
:class:`~oxide_rx.ChatStream` / :class:`~oxide_rx.ResponseStream` with their accumulators and
pipelines, opened through ``open_stream`` / ``open_retrieve_stream``. The one addition is a
*raw tap* (their ``wire_tap``): the official objects keep every key the API sent
(``"logprobs": null`` ...), which the wire Structs drop, so each stream's pipeline records the
``data`` of the server-sent event being processed. The event that event causes reaches the
compat layer synchronously, while the tap still holds its payload.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import msgspec

from .._chat_state import ChatCompletionAccumulator
from .._client import OpenAI as CoreClient
from .._client import split_request_options
from .._responses_state import ResponseAccumulator
from .._stream import ChatStream, ResponseStream
from ..sse import ServerSentEvent

__all__ = ["CoreClient", "RawTap", "decode_json", "open_chat", "open_responses",
           "request_json", "split_request_options", "wire_to_builtins"]

decode_json = msgspec.json.Decoder().decode


class RawTap:
    """Holds the ``data`` of the server-sent event the pipeline is processing right now."""

    __slots__ = ("data",)

    def __init__(self) -> None:
        self.data = "{}"

    def __call__(self, event: ServerSentEvent) -> None:
        self.data = event.data

    def decoded(self) -> Any:
        return decode_json(self.data)


async def request_json(client: CoreClient, method: str, path: str, body: Any = None,
                       options: Mapping[str, Any] | None = None) -> Any:
    """A non-streaming call: the decoded JSON body (plain dicts and lists)."""
    raw = await client._request_json(method, path, body=body, **(options or {}))
    return decode_json(raw)


async def open_chat(
    client: CoreClient, body: dict[str, Any], options: Mapping[str, Any]
) -> tuple[ChatStream, RawTap]:
    """``POST /chat/completions`` with ``stream: true``: a core stream, not started yet."""
    tap = RawTap()
    stream = await client.chat.completions.open_stream(
        body, dict(options), ChatCompletionAccumulator(), wire_tap=tap
    )
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
    tap = RawTap()
    if response_id is None:
        assert body is not None
        stream = await client.responses.open_stream(
            body, dict(options), ResponseAccumulator(), wire_tap=tap
        )
    else:
        stream = await client.responses.open_retrieve_stream(
            response_id, dict(options), ResponseAccumulator(),
            starting_after=starting_after, wire_tap=tap,
        )
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
