"""Where compat meets the core: the only module that reaches into oxide_rx internals.

An official request (URL, headers, JSON body, all built by the official client) is sent by the
core requester (:mod:`oxide_rx._transport.requester`: aiohttp session, retries before the
response head, deadlines, the core error tree). Streams are the core's
:class:`~oxide_rx.ChatStream` / :class:`~oxide_rx.ResponseStream` with their accumulators, set
up the way the official client behaves (the accumulator options named below).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, cast

import msgspec

from .. import Timeout
from .._client.chat import ChatCompletions
from .._client.responses import Responses
from .._core.chat import ChatCompletionAccumulator
from .._core.response_lifecycle import LifecycleCheck
from .._core.responses import ResponseAccumulator
from .._core.text import TextBuffer
from .._pipeline.sink import Sink
from .._stream.fanout import TypedCallback
from .._stream.lifetime import StreamHandle
from .._transport.bodies import read_json_body
from .._transport.requester import Requester, RequestOptions
from .._transport.websocket import open_websocket
from .._transport.websocket_link import WebSocketLink
from ..types import responses as wire_responses

__all__ = ["ARGUMENTS_DELTA", "TEXT_DELTA", "WIRE_EVENT_TYPES", "Requester", "Sending",
           "StreamHandle", "accumulate_chat", "accumulate_responses", "decode_body",
           "decode_response_event", "lenient_accumulator", "listen", "new_requester", "open_chat",
           "open_link", "open_responses", "request", "text_of", "timeout_of"]

WIRE_EVENT_TYPES: tuple[type, ...] = (*wire_responses.EVENT_CLASSES, wire_responses.UnknownEvent)
"""Every Responses wire event class (each has ``.raw``, the server's payload)."""
TEXT_DELTA = wire_responses.OutputTextDelta
ARGUMENTS_DELTA = wire_responses.FunctionCallArgumentsDelta
"""The two delta event classes, as the core decodes them when every field is well-typed."""

decode_body = msgspec.json.Decoder().decode
# Headers aiohttp sets itself for what it sends (and it decompresses what it asked for).
_TRANSPORT_HEADERS = frozenset({"host", "content-length", "transfer-encoding", "connection",
                                "accept-encoding"})


def timeout_of(value: Any) -> Timeout:
    """The core deadlines for an official ``timeout`` (seconds, ``httpx.Timeout``, ``None``)."""
    if value is None:
        return Timeout(connect=None, headers=None, idle=None)
    if isinstance(value, (int, float)):
        return Timeout.coerce(float(value))
    read = getattr(value, "read", 600.0)
    return Timeout(connect=getattr(value, "connect", 5.0), headers=read, idle=read)


@dataclass(frozen=True, slots=True)
class Sending:
    """One official request as the core sends it (``path`` is relative to the base URL)."""

    method: str
    path: str
    headers: Mapping[str, str]
    query: Mapping[str, str]
    body: Any
    timeout: Timeout
    max_retries: int

    def options(self, query: Mapping[str, str] | None = None) -> RequestOptions:
        headers = {k: v for k, v in self.headers.items() if k.lower() not in _TRANSPORT_HEADERS}
        query = self.query if query is None else query
        return RequestOptions(self.timeout, self.max_retries, headers, dict(query) or None)


def new_requester(base_url: str) -> Requester:
    """A requester with no credentials of its own: the official headers carry them."""
    return Requester(base_url=base_url.rstrip("/"))


async def request(requester: Requester, sending: Sending) -> tuple[int, dict[str, str], bytes]:
    """Send a non-streaming request (core retries and errors): status, headers, raw body."""
    options = sending.options()
    response = await requester.send(sending.method, sending.path, options, body=sending.body)
    body = await read_json_body(response, requester.effective_timeout(options),
                                requester.max_event_size)
    return response.status, dict(response.headers), body


class _ChunksOnly(ChatCompletionAccumulator):
    """A raw stream's: the chunks pass as they are, nothing is accumulated (the official raw
    stream keeps no state; the core's snapshots would cost ~1 µs per chunk for nobody)."""

    def handle_chunk(self, chunk: Any) -> list[Any]:
        return []


async def open_chat(requester: Requester, sending: Sending) -> StreamHandle[Any]:
    """``POST /chat/completions`` with ``stream: true``: a core stream, not started yet, that
    accumulates nothing unless :func:`accumulate_chat` is called before it starts."""
    return await ChatCompletions(requester).open_stream(
        dict(sending.body), sending.options(), _ChunksOnly())


def accumulate_chat(core: StreamHandle[Any]) -> ChatCompletionAccumulator:
    """Give a chat stream, before it starts, the accumulator a ``.stream()`` helper maps."""
    accumulator = ChatCompletionAccumulator(  # the official helper's order and merging
        content_done_first=True, chunks_only=True, finish_unfinished=False, official_merge=True)
    cast(Any, core).accumulator = accumulator
    return accumulator


def lenient_accumulator(check_lifecycle: bool = True) -> ResponseAccumulator:
    """The official client's reading of a Responses stream: it accepts every event the
    official client accepts (``lenient_events``) and reads to the end of the body
    (``read_to_end``); with the official helper's lifecycle rules if ``check_lifecycle``."""
    return ResponseAccumulator(lenient_events=True, read_to_end=True,
                               check_lifecycle=check_lifecycle)


class _EventsOnly(ResponseAccumulator):
    """A raw ``POST /responses`` stream's: the events pass as they are (see
    :class:`_ChunksOnly`); it reads to the end of the body, as the official raw stream does."""

    def __init__(self) -> None:
        super().__init__(lenient_events=True, read_to_end=True)

    def handle_event(self, event: Any) -> list[Any]:
        return []


async def open_responses(requester: Requester, sending: Sending) -> StreamHandle[Any]:
    """``POST /responses`` (streamed) or ``GET /responses/{id}?stream=true``: a core stream.

    A ``POST`` stream accumulates nothing unless :func:`accumulate_responses` is called before
    it starts; a ``GET`` one reads as :func:`lenient_accumulator`. No resuming after a dropped
    connection (``max_resumes=0``): the official client does not, and compat changes only
    speed.
    """
    resource = Responses(requester)
    if sending.method == "GET":
        accumulator = lenient_accumulator(check_lifecycle=False)
        query = {k: v for k, v in sending.query.items() if k not in ("stream", "starting_after")}
        after = sending.query.get("starting_after")
        return await resource.open_retrieve_stream(
            sending.path.rsplit("/", 1)[-1], sending.options(query), accumulator,
            starting_after=None if after is None else int(after), max_resumes=0)
    return await resource.open_stream(dict(sending.body), sending.options(), _EventsOnly(),
                                      max_resumes=0)


def accumulate_responses(core: StreamHandle[Any]) -> ResponseAccumulator:
    """Give a Responses stream, before it starts, the accumulator a ``.stream()`` helper maps,
    with the official helper's lifecycle rules (as ``check_lifecycle=True``)."""
    accumulator: ResponseAccumulator = cast(Any, core).accumulator
    if type(accumulator) is _EventsOnly:
        accumulator = cast(Any, core).accumulator = lenient_accumulator(check_lifecycle=False)
    accumulator.lifecycle = LifecycleCheck()
    return accumulator


def listen(core: StreamHandle[Any], classes: tuple[type, ...], sink: Sink[Any]) -> None:
    """Deliver ``core``'s events of ``classes`` to ``sink`` (and its end), straight from the
    fan-out: no Rx observer between, and no call at all for the other events."""
    core._attach(TypedCallback(classes, sink.on_next, ends=sink))


def text_of(event: Any) -> tuple[TextBuffer | None, int]:
    """A core delta event's text buffer and the length its snapshot reads (``None``: the
    event holds its snapshot itself, as one built by hand does)."""
    return getattr(event, "_buffer", None), getattr(event, "_length", 0)


def decode_response_event(raw: bytes) -> Any:
    """A Responses wire event from JSON text, leniently, keeping ``raw``."""
    event = wire_responses.decode_event(raw, lenient=True)
    if type(event) is not wire_responses.UnknownEvent:
        msgspec.structs.force_setattr(event, "raw", raw)
    return event


async def open_link(requester: Requester, query: Mapping[str, str], headers: Mapping[str, str],
                    timeout: Timeout, on_frame: Callable[[bytes], None],
                    on_close: Callable[[int], None]) -> WebSocketLink:
    """The core handshake to ``{base}/responses`` (the requester's pool and proxies, no retry:
    the official connection retries nothing itself) and a link reading its frames."""
    ws = await open_websocket(requester, timeout, extra_headers=headers, extra_query=query,
                              max_retries=0)
    return WebSocketLink(ws, generation=1, opened_at=0.0,
                         on_frame=lambda _link, frame: on_frame(frame),
                         on_close=lambda _link, code: on_close(code))
