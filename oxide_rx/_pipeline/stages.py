"""Stages: the push-style core of the operators, callable without reactivex in between.

A stage is a sink that transforms what it receives and pushes the result into the next one
(``downstream``). The public Rx operators wrap one stage each (:func:`.sink.as_operator`), so
user-built pipelines get ordinary observables; a stream chains the same stages directly
(:mod:`.chains`), so its per-event path is plain method calls (an Rx hop per stage cost about
0.25 µs per event, a third of the stream's own overhead). Both paths run this code; neither
has rules of its own.

Rules of every stage: nothing reaches ``downstream`` after it ended (completed or failed);
``stop()`` asks the upstream to stop sending (a terminal marker arrived); an error that ends
the chain carries the partial snapshot (``APIError.partial``) once an accumulator is
involved.

What flows: *payloads* (the ``data`` of one server-sent event, or one WebSocket text frame,
as ``bytes``) -> wire objects (``raw`` set to the payload) -> helper events.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import msgspec
from msgspec.structs import force_setattr

from .._core.chat import ChatCompletionAccumulator
from .._core.responses import ResponseAccumulator
from .._exceptions import (
    DecodeError,
    OxideRxError,
    ResponseFailedError,
    SSEError,
    StreamTruncatedError,
)
from ..events import ChatEvent, Chunk, ResponseEvent
from ..sse import ServerSentEvent, SSEDecoder
from ..types import chat, responses
from .sink import Sink, nothing

__all__ = [
    "ChatAccumulateStage",
    "ChunkDecodeStage",
    "DecodeStage",
    "EventDecodeStage",
    "ParseSSEStage",
    "PayloadStage",
    "ResponsesAccumulateStage",
    "decode_stage",
    "error_from_payload",
]

Payload = bytes
"""One event's data as the server sent it."""

_DECODE_ERRORS = (msgspec.DecodeError, DecodeError)  # msgspec.ValidationError included


def _decoder_for(target: Any) -> Callable[[bytes | str], Any]:
    """One reusable msgspec decoder for a wire type (the Responses union has its own)."""
    if target is responses.ResponseStreamEvent:
        return responses.decode_event
    if target is chat.ChatCompletionChunk:
        return chat.CHUNK_DECODER.decode
    return msgspec.json.Decoder(target).decode


def error_from_payload(error: Any) -> ResponseFailedError:
    """A mid-stream ``{"error": {...}}`` payload as a typed error."""
    fields = error if isinstance(error, dict) else {}
    message = str(fields.get("message") or "An error occurred during streaming")
    return ResponseFailedError(
        message,
        body=error,
        code=_opt_str(fields.get("code")),
        type=_opt_str(fields.get("type")),
        param=_opt_str(fields.get("param")),
    )


def _opt_str(value: object) -> str | None:
    return None if value is None else str(value)


def _with_partial(error: Exception, snapshot: Callable[[], Any]) -> Exception:
    if isinstance(error, OxideRxError) and error.partial is None:
        error.partial = snapshot()
    return error


class _Stage:
    """A stage that ends once: after ``finished`` nothing more reaches ``downstream``."""

    __slots__ = ("_downstream", "finished")

    def __init__(self, downstream: Sink[Any]) -> None:
        self._downstream = downstream
        self.finished = False

    def on_error(self, error: Exception) -> None:
        if not self.finished:
            self.finished = True
            self._downstream.on_error(error)


class ParseSSEStage(_Stage):
    """``parse_sse``: network reads into server-sent events (WHATWG rules, any chunking)."""

    __slots__ = ("_decoder",)

    def __init__(self, max_event_size: int | None, downstream: Sink[ServerSentEvent]) -> None:
        super().__init__(downstream)
        self._decoder = SSEDecoder(max_event_size=max_event_size)

    def on_next(self, data: bytes) -> None:
        if self.finished:
            return
        emit = self._downstream.on_next
        try:
            events = self._decoder.feed(data)
        except SSEError as exc:
            for event in exc.events:  # complete before the error: delivered first
                emit(event)
            self.on_error(exc)
            return
        for event in events:
            emit(event)

    def on_completed(self) -> None:
        if self.finished:
            return
        for event in self._decoder.finish():
            self._downstream.on_next(event)
        self.finished = True
        self._downstream.on_completed()


class PayloadStage:
    """What users pipe into ``decode``: server-sent events, text or bytes -> payload bytes."""

    __slots__ = ("_next", "on_completed", "on_error")

    def __init__(self, downstream: Sink[Payload]) -> None:
        self._next = downstream.on_next
        self.on_error = downstream.on_error
        self.on_completed = downstream.on_completed

    def on_next(self, item: ServerSentEvent | str | bytes) -> None:
        if isinstance(item, ServerSentEvent):
            item = item.data
        self._next(item.encode() if isinstance(item, str) else item)


class DecodeStage(_Stage):
    """``decode``: each payload into a wire object (``raw`` = the payload); completes at
    ``terminator``.

    A body that ends without the terminator fails with :class:`StreamTruncatedError`; a
    Chat Completions ``{"error": {...}}`` payload with :class:`ResponseFailedError`; a payload
    that is not the expected JSON with :class:`DecodeError`.
    """

    __slots__ = ("_decode", "_next", "_stop", "_terminator")

    def __init__(
        self,
        target: Any,
        terminator: str | None,
        downstream: Sink[Any],
        stop: Callable[[], None] = nothing,
    ) -> None:
        super().__init__(downstream)
        self._decode = _decoder_for(target)
        self._terminator = None if terminator is None else terminator.encode()
        self._next = downstream.on_next
        self._stop = stop

    def on_next(self, data: Payload) -> None:
        if self.finished:
            return
        if data == self._terminator:
            self._end_at_marker()
            return
        try:
            item = self._decode(data)
        except _DECODE_ERRORS as exc:
            item = self._decode_replacing(data, exc)
            if item is None:
                return
        if type(item) is not responses.UnknownEvent:
            force_setattr(item, "raw", data)
        error = getattr(item, "error", None)
        if error is not None and getattr(item, "type", None) is None:
            # A Chat Completions `{"error": {...}}` frame; the Responses API's typed `error`
            # events carry `type` and are handled by their accumulator.
            self.on_error(error_from_payload(error))
            return
        self._next(item)

    def _end_at_marker(self) -> None:
        self.finished = True
        self._downstream.on_completed()
        self._stop()

    def _decode_replacing(self, data: Payload, error: Exception) -> Any:
        """Invalid UTF-8 is replaced by U+FFFD (as a browser's EventSource does) before the
        payload is declared bad; returns ``None`` after failing the chain."""
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            try:
                return self._decode(data.decode("utf-8", "replace"))
            except _DECODE_ERRORS as exc:
                error = exc
        if not isinstance(error, DecodeError):
            error = DecodeError(f"Invalid JSON in event: {error}", data=data)
        self.on_error(error)
        return None

    def on_completed(self) -> None:
        if self.finished:
            return
        if self._terminator is not None:
            marker = self._terminator.decode()
            self.on_error(StreamTruncatedError(f"The stream ended before {marker}."))
        else:
            self.finished = True
            self._downstream.on_completed()


_DONE = b"[DONE]"
_decode_chunk = chat.CHUNK_DECODER.decode
_decode_known_event = responses.EVENT_DECODER.decode


class ChunkDecodeStage(DecodeStage):
    """:class:`DecodeStage` for Chat Completions chunks, with the decoder and the error-frame
    check inline: this runs once per token."""

    __slots__ = ()

    def __init__(self, downstream: Sink[Any], stop: Callable[[], None] = nothing) -> None:
        super().__init__(chat.ChatCompletionChunk, _DONE.decode(), downstream, stop)

    def on_next(self, data: Payload) -> None:
        if self.finished:
            return
        if data == _DONE:
            self._end_at_marker()
            return
        try:
            chunk = _decode_chunk(data)
        except msgspec.DecodeError as exc:
            chunk = self._decode_replacing(data, exc)
            if chunk is None:
                return
        force_setattr(chunk, "raw", data)
        if chunk.error is not None:
            self.on_error(error_from_payload(chunk.error))  # a `{"error": {...}}` frame
            return
        self._next(chunk)


class EventDecodeStage(DecodeStage):
    """:class:`DecodeStage` for Responses events: known types decode in one call; unknown
    types become ``UnknownEvent`` (see :func:`~oxide_rx.types.responses.decode_event`).
    A ``[DONE]`` payload (an SSE habit some servers keep) ends the stream, as it does for the
    official client; the accumulator then says whether a terminal event had arrived."""

    __slots__ = ("lenient",)

    def __init__(self, downstream: Sink[Any], stop: Callable[[], None] = nothing, *,
                 lenient: bool = False) -> None:
        super().__init__(responses.ResponseStreamEvent, None, downstream, stop)
        self.lenient = lenient
        """A known event type with bad fields passes as ``UnknownEvent`` (see
        :func:`~oxide_rx.types.responses.decode_event`) instead of failing the stream."""

    def on_next(self, data: Payload) -> None:
        if self.finished:
            return
        try:
            event: Any = _decode_known_event(data)
        except msgspec.DecodeError:
            if data == _DONE:
                self._end_at_marker()
                return
            try:
                event = responses.decode_event(data, lenient=self.lenient)
            except DecodeError as exc:
                event = self._decode_replacing(data, exc)
                if event is None:
                    return
            if type(event) is responses.UnknownEvent:
                self._next(event)
                return
        force_setattr(event, "raw", data)
        self._next(event)


def decode_stage(
    target: Any, terminator: str | None, downstream: Sink[Any],
    stop: Callable[[], None] = nothing,
) -> DecodeStage:
    """The decode stage for ``target``: a specialised one for the two API wire types."""
    if target is chat.ChatCompletionChunk and terminator == _DONE.decode():
        return ChunkDecodeStage(downstream, stop)
    if target is responses.ResponseStreamEvent and terminator is None:
        return EventDecodeStage(downstream, stop)
    return DecodeStage(target, terminator, downstream, stop)


class ChatAccumulateStage:
    """``accumulate_chat``: chunks into helper events (rules in :mod:`oxide_rx._core.chat`).

    Each chunk is emitted as a :class:`~oxide_rx.Chunk` event before its helper events while
    :attr:`wire` is true (a stream turns it off while no subscriber can receive one).
    ``[DONE]`` ends the stream. A body that ends without it still counts as complete when
    every choice reported a ``finish_reason`` (only the trailing usage chunk can be missing);
    otherwise the error is :class:`StreamTruncatedError` carrying the partial completion.
    """

    __slots__ = ("_downstream", "_next", "_state", "finished", "wire")

    def __init__(
        self, state: ChatCompletionAccumulator, downstream: Sink[ChatEvent], *, wire: bool = True
    ) -> None:
        self._state = state
        self._downstream = downstream
        self._next = downstream.on_next
        self.finished = False
        self.wire = wire

    def on_next(self, chunk: chat.ChatCompletionChunk) -> None:
        if self.finished:
            return
        try:
            events = self._state.handle_chunk(chunk)
        except Exception as exc:
            self.on_error(exc)
            return
        emit = self._next
        if self.wire:
            emit(Chunk(chunk))
        for event in events:
            emit(event)

    def on_error(self, error: Exception) -> None:
        if self.finished:
            return
        if isinstance(error, StreamTruncatedError) and self._state.all_finished:
            self.on_completed()
            return
        self.finished = True
        self._downstream.on_error(_with_partial(error, self._state.completion))

    def on_completed(self) -> None:
        if self.finished:
            return
        for event in self._state.finish():
            self._next(event)
        self.finished = True
        self._downstream.on_completed()


class ResponsesAccumulateStage:
    """``accumulate_responses``: wire events into themselves plus helper events.

    Each wire event is emitted before its helper events while :attr:`wire` is true. A
    terminal event completes the stream; ``error`` / ``response.failed`` fail it with
    :class:`ResponseFailedError` after the events before it were delivered; EOF before a
    terminal event is :class:`StreamTruncatedError`. Errors carry the partial response.
    """

    __slots__ = ("_downstream", "_next", "_state", "_stop", "finished", "wire")

    def __init__(
        self,
        state: ResponseAccumulator,
        downstream: Sink[ResponseEvent],
        stop: Callable[[], None] = nothing,
        *,
        wire: bool = True,
    ) -> None:
        self._state = state
        self._downstream = downstream
        self._next = downstream.on_next
        self._stop = stop
        self.finished = False
        self.wire = wire

    def on_next(self, event: responses.ResponseStreamEvent | responses.UnknownEvent) -> None:
        if self.finished:
            return
        state = self._state
        try:
            helpers = state.handle_event(event)
        except Exception as exc:
            self.on_error(exc)
            return
        if helpers is None:
            return  # a replay of an event already delivered (resume)
        emit = self._next
        if self.wire:
            emit(event)
        for helper in helpers:
            emit(helper)
        if state.terminal:
            self.finished = True
            self._stop()
            if state.failure is not None:
                self._downstream.on_error(_with_partial(state.failure, state.response))
            else:
                self._downstream.on_completed()

    def on_error(self, error: Exception) -> None:
        if not self.finished:
            self.finished = True
            self._downstream.on_error(_with_partial(error, self._state.response))

    def on_completed(self) -> None:
        if not self.finished:
            self.on_error(StreamTruncatedError("The stream ended before a terminal event."))
