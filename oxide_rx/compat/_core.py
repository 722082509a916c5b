"""Where compat meets the core: the only module that reaches into oxide_rx internals.

An official request (URL, headers, JSON body, all built by the official client) is sent by the
core requester (:mod:`oxide_rx._transport.requester`: aiohttp session, retries before the
response head, deadlines, the core error tree). Streams are the core's
:class:`~oxide_rx.ChatStream` / :class:`~oxide_rx.ResponseStream` with their accumulators; the
official objects are built from each wire event's ``raw`` payload.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import msgspec

from .._client.chat import ChatCompletions
from .._client.responses import Responses
from .._core.chat import ChatCompletionAccumulator
from .._core.response_lifecycle import LifecycleCheck
from .._core.responses import ResponseAccumulator
from .._exceptions import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    OxideRxError,
    ResponseFailedError,
    StreamTruncatedError,
)
from .._stream.lifetime import StreamHandle
from .._stream.streams import ChatStream, ResponseStream
from .._transport.bodies import read_json_body
from .._transport.requester import Requester, RequestOptions
from .._transport.timeouts import Timeout
from ..events import (
    Chunk,
    ContentDelta,
    ContentDone,
    LogprobsDelta,
    RefusalDelta,
    RefusalDone,
    ToolCallDelta,
    ToolCallDone,
)
from ..types import responses as wire_responses

__all__ = [
    "APIConnectionError", "APIStatusError", "APITimeoutError", "ChatCompletionAccumulator",
    "ChatStream", "Chunk", "ContentDelta", "ContentDone", "LogprobsDelta", "OxideRxError",
    "RefusalDelta", "RefusalDone", "Reply", "Requester", "ResponseAccumulator",
    "ResponseFailedError", "ResponseStream", "Sending", "StreamHandle", "StreamTruncatedError",
    "ToolCallDelta", "ToolCallDone", "WIRE_EVENT_TYPES", "check_lifecycle", "decode_body",
    "compat_response_accumulator", "decode_response_event",
    "new_requester", "open_chat", "open_responses", "request", "timeout_of",
]

WIRE_EVENT_TYPES: tuple[type, ...] = (*wire_responses.EVENT_CLASSES, wire_responses.UnknownEvent)
"""Every Responses wire event class (each has ``.raw``, the server's payload)."""

_decode = msgspec.json.Decoder().decode
# Headers aiohttp sets itself for what it actually sends (and decompresses what it asked for).
_TRANSPORT_HEADERS = frozenset({"host", "content-length", "transfer-encoding", "connection",
                                "accept-encoding"})


def timeout_of(value: Any) -> Timeout | None:
    """The core deadlines for an official ``timeout`` (seconds, ``httpx.Timeout``, ``None``)."""
    if value is None:
        return Timeout(connect=None, headers=None, idle=None)
    if isinstance(value, (int, float)):
        return Timeout.coerce(float(value))
    read = getattr(value, "read", 600.0)
    return Timeout(connect=getattr(value, "connect", 5.0), headers=read, idle=read)


@dataclass(frozen=True, slots=True)
class Sending:
    """One official request as the core sends it."""

    method: str
    path: str
    """Relative to the requester's base URL (``/chat/completions``)."""
    headers: Mapping[str, str]
    query: Mapping[str, str]
    body: Any
    timeout: Timeout | None
    max_retries: int

    def options(self) -> RequestOptions:
        headers = {k: v for k, v in self.headers.items() if k.lower() not in _TRANSPORT_HEADERS}
        return RequestOptions(self.timeout, self.max_retries, headers, dict(self.query) or None)


@dataclass(frozen=True, slots=True)
class Reply:
    """A non-streaming answer: status, headers and the raw body."""

    status: int
    headers: Mapping[str, str]
    body: bytes


def new_requester(base_url: str) -> Requester:
    """A requester with no credentials of its own: the official headers carry them."""
    return Requester(base_url=base_url.rstrip("/"))


async def request(requester: Requester, sending: Sending) -> Reply:
    """Send a non-streaming request (core retries and errors); the raw answer."""
    options = sending.options()
    response = await requester.send(sending.method, sending.path, options, body=sending.body)
    body = await read_json_body(response, requester.effective_timeout(options),
                                requester.max_event_size)
    return Reply(response.status, dict(response.headers), body)


async def open_chat(requester: Requester, sending: Sending,
                    accumulator: ChatCompletionAccumulator) -> ChatStream:
    """``POST /chat/completions`` with ``stream: true``: a core stream, not started yet."""
    return await ChatCompletions(requester).open_stream(
        dict(sending.body), sending.options(), accumulator)


async def open_responses(requester: Requester, sending: Sending,
                         accumulator: ResponseAccumulator) -> ResponseStream:
    """``POST /responses`` (streamed), or ``GET /responses/{id}?stream=true``: a core stream.

    No resuming after a dropped connection: the official client does not (its stream ends
    with the body), and compat changes nothing but speed."""
    resource = Responses(requester)
    if sending.method == "GET":
        response_id = sending.path.rsplit("/", 1)[-1]
        query = {k: v for k, v in sending.query.items() if k not in ("stream", "starting_after")}
        after = sending.query.get("starting_after")
        options = RequestOptions(sending.timeout, sending.max_retries,
                                 sending.options().extra_headers, query or None)
        return await resource.open_retrieve_stream(
            response_id, options, accumulator,
            starting_after=None if after is None else int(after), max_resumes=0)
    return await resource.open_stream(dict(sending.body), sending.options(), accumulator,
                                      max_resumes=0)


def compat_response_accumulator() -> ResponseAccumulator:
    """The accumulator of a compat Responses stream: it accepts every event the official
    client accepts and reads to the end of the body, as the official client does."""
    return ResponseAccumulator(lenient_events=True, read_to_end=True)


def decode_response_event(raw: bytes) -> Any:
    """A Responses wire event from JSON text, leniently (``UnknownEvent`` when it does not
    match the core's schema), keeping ``raw``."""
    event = wire_responses.decode_event(raw, lenient=True)
    if type(event) is not wire_responses.UnknownEvent:
        msgspec.structs.force_setattr(event, "raw", raw)
    return event


def check_lifecycle(accumulator: ResponseAccumulator) -> None:
    """Turn the official helper's lifecycle rules on (``check_lifecycle=True``)."""
    accumulator.lifecycle = LifecycleCheck()


def decode_body(body: bytes) -> Any:
    return _decode(body)
