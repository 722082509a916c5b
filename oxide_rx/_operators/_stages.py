"""Stages: the push-style core of the operators, callable without reactivex in between.

A stage is an observer that transforms what it receives and pushes the result into the next
one (``downstream``). The public Rx operators wrap one stage each (:func:`as_operator`), so
user-built pipelines get ordinary observables; a stream chains the same stages directly, so
its per-event path is plain method calls (an Rx hop per stage cost about 0.25 µs per event,
a third of the stream's own overhead). Both paths run this code; neither has its own rules.

Rules of every stage: nothing reaches ``downstream`` after it ended (completed or failed);
``stop()`` asks the upstream to stop sending (a terminal marker arrived).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol, TypeVar

import msgspec
from reactivex import Observable, abc
from reactivex.disposable import SingleAssignmentDisposable

from .._chat_state import ChatCompletionAccumulator
from .._exceptions import (
    APIError,
    DecodeError,
    OxideRxError,
    ResponseFailedError,
    StreamTruncatedError,
)
from .._responses_state import ResponseAccumulator
from ..sse import ServerSentEvent, SSEDecoder

__all__ = [
    "ChatAccumulateStage",
    "DecodeStage",
    "ParseSSEStage",
    "ResponsesAccumulateStage",
    "Sink",
    "TapStage",
    "as_operator",
]

_In = TypeVar("_In")
_Out = TypeVar("_Out")


class Sink(Protocol):
    """What a stage pushes into: an observer without reactivex's wrapper."""

    def on_next(self, value: Any, /) -> None: ...
    def on_error(self, error: Exception, /) -> None: ...
    def on_completed(self) -> None: ...


def _nothing() -> None:
    return None


def as_operator(
    make_stage: Callable[[Sink, Callable[[], None]], Sink],
) -> Callable[[Observable[Any]], Observable[Any]]:
    """An Rx operator running one stage per subscription."""

    def operator(source: Observable[Any]) -> Observable[Any]:
        def subscribe(
            observer: abc.ObserverBase[Any], scheduler: abc.SchedulerBase | None = None
        ) -> abc.DisposableBase:
            upstream = SingleAssignmentDisposable()
            stage = make_stage(observer, upstream.dispose)
            upstream.disposable = source.subscribe(
                stage.on_next, stage.on_error, stage.on_completed, scheduler=scheduler
            )
            return upstream

        return Observable(subscribe)

    return operator


def _decoder_for(target: Any) -> Callable[[str], Any]:
    """One reusable msgspec decoder for a wire type (the Responses union has its own)."""
    from ..types import responses

    if target is responses.ResponseStreamEvent:
        return responses.decode_event
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
    if isinstance(error, APIError) and error.partial is None:
        error.partial = snapshot()
    return error


class ParseSSEStage:
    """``parse_sse``: network reads into server-sent events (WHATWG rules, any chunking)."""

    __slots__ = ("_decoder", "_downstream", "finished")

    def __init__(self, max_event_size: int | None, downstream: Sink) -> None:
        self._decoder = SSEDecoder(max_event_size=max_event_size)
        self._downstream = downstream
        self.finished = False

    def on_next(self, data: bytes) -> None:
        if self.finished:
            return
        try:
            events = self._decoder.feed(data)
        except OxideRxError as exc:
            self.on_error(exc)
            return
        emit = self._downstream.on_next
        for event in events:
            emit(event)

    def on_error(self, error: Exception) -> None:
        if not self.finished:
            self.finished = True
            self._downstream.on_error(error)

    def on_completed(self) -> None:
        if self.finished:
            return
        for event in self._decoder.finish():
            self._downstream.on_next(event)
        self.finished = True
        self._downstream.on_completed()


class TapStage:
    """Shows each server-sent event to ``tap`` before passing it on (compat keeps raw JSON)."""

    __slots__ = ("_next", "_tap", "on_completed", "on_error")

    def __init__(self, tap: Callable[[ServerSentEvent], None], downstream: Sink) -> None:
        self._tap = tap
        self._next = downstream.on_next
        self.on_error = downstream.on_error
        self.on_completed = downstream.on_completed

    def on_next(self, event: ServerSentEvent) -> None:
        self._tap(event)
        self._next(event)


class DecodeStage:
    """``decode``: each event's data into a wire object; completes at ``terminator``.

    A body that ends without the terminator fails with :class:`StreamTruncatedError`; a
    Chat Completions ``{"error": {...}}`` payload with :class:`ResponseFailedError`.
    """

    __slots__ = ("_decode", "_downstream", "_next", "_stop", "_terminator", "finished")

    def __init__(
        self,
        target: Any,
        terminator: str | None,
        downstream: Sink,
        stop: Callable[[], None] = _nothing,
    ) -> None:
        self._decode = _decoder_for(target)
        self._terminator = terminator
        self._downstream = downstream
        self._next = downstream.on_next
        self._stop = stop
        self.finished = False

    def on_next(self, event: ServerSentEvent) -> None:
        if self.finished:
            return
        data = event.data
        if data == self._terminator:
            self.finished = True
            self._downstream.on_completed()
            self._stop()
            return
        try:
            item = self._decode(data)
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            self.on_error(DecodeError(f"Invalid JSON in event: {exc}", data=data))
            return
        except OxideRxError as exc:
            self.on_error(exc)
            return
        error = getattr(item, "error", None)
        if error is not None and getattr(item, "type", None) is None:
            # A Chat Completions `{"error": {...}}` frame; the Responses API's typed `error`
            # events carry `type` and are handled by their accumulator.
            self.on_error(error_from_payload(error))
            return
        self._next(item)

    def on_error(self, error: Exception) -> None:
        if not self.finished:
            self.finished = True
            self._downstream.on_error(error)

    def on_completed(self) -> None:
        if self.finished:
            return
        if self._terminator is not None:
            self.on_error(StreamTruncatedError(f"The stream ended before {self._terminator}."))
        else:
            self.finished = True
            self._downstream.on_completed()


class ChatAccumulateStage:
    """``accumulate_chat``: chunks into helper events (rules in ``_chat_state``).

    ``[DONE]`` ends the stream. A body that ends without it still counts as complete when
    every choice reported a ``finish_reason`` (only the trailing usage chunk can be missing);
    otherwise the error is :class:`StreamTruncatedError` carrying the partial completion.
    """

    __slots__ = ("_downstream", "_next", "_state", "finished")

    def __init__(self, state: ChatCompletionAccumulator, downstream: Sink) -> None:
        self._state = state
        self._downstream = downstream
        self._next = downstream.on_next
        self.finished = False

    def on_next(self, chunk: Any) -> None:
        if self.finished:
            return
        try:
            events = self._state.handle_chunk(chunk)
        except Exception as exc:
            self.on_error(exc)
            return
        emit = self._next
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

    A terminal event completes the stream; ``error`` / ``response.failed`` fail it with
    :class:`ResponseFailedError` after the events before it were delivered; EOF before a
    terminal event is :class:`StreamTruncatedError`. Errors carry the partial response.
    """

    __slots__ = ("_downstream", "_next", "_state", "_stop", "finished")

    def __init__(
        self,
        state: ResponseAccumulator,
        downstream: Sink,
        stop: Callable[[], None] = _nothing,
    ) -> None:
        self._state = state
        self._downstream = downstream
        self._next = downstream.on_next
        self._stop = stop
        self.finished = False

    def on_next(self, event: Any) -> None:
        if self.finished:
            return
        state = self._state
        try:
            items = state.handle_event(event)
        except Exception as exc:
            self.on_error(exc)
            return
        emit = self._next
        for item in items:
            emit(item)
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
            error = StreamTruncatedError("The stream ended before a terminal event.")
            self.on_error(error)
