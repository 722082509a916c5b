"""``parse_sse`` and ``decode``: bytes -> server-sent events -> typed wire objects."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import msgspec
from reactivex import Observable, abc
from reactivex.disposable import SingleAssignmentDisposable

from .._exceptions import DecodeError, OxideRxError, ResponseFailedError, StreamTruncatedError
from ..sse import DEFAULT_MAX_EVENT_SIZE, ServerSentEvent, SSEDecoder

_T = TypeVar("_T")

DONE_MARKER = "[DONE]"


def parse_sse_impl(max_event_size: int | None = DEFAULT_MAX_EVENT_SIZE) -> Callable[
    [Observable[bytes]], Observable[ServerSentEvent]
]:
    def operator(source: Observable[bytes]) -> Observable[ServerSentEvent]:
        def subscribe(
            observer: abc.ObserverBase[ServerSentEvent],
            scheduler: abc.SchedulerBase | None = None,
        ) -> abc.DisposableBase:
            decoder = SSEDecoder(max_event_size=max_event_size)

            def emit(events: list[ServerSentEvent]) -> None:
                for event in events:
                    observer.on_next(event)

            def on_next(data: bytes) -> None:
                try:
                    events = decoder.feed(data)
                except OxideRxError as exc:
                    observer.on_error(exc)
                    return
                emit(events)

            def on_completed() -> None:
                emit(decoder.finish())
                observer.on_completed()

            return source.subscribe(on_next, observer.on_error, on_completed, scheduler=scheduler)

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


def decode_impl(
    target: type[_T] | Any, *, terminator: str | None = DONE_MARKER
) -> Callable[[Observable[ServerSentEvent]], Observable[_T]]:
    def operator(source: Observable[ServerSentEvent]) -> Observable[_T]:
        def subscribe(
            observer: abc.ObserverBase[_T], scheduler: abc.SchedulerBase | None = None
        ) -> abc.DisposableBase:
            decode = _decoder_for(target)
            upstream = SingleAssignmentDisposable()
            finished = False

            def on_next(event: ServerSentEvent) -> None:
                nonlocal finished
                if finished:
                    return
                data = event.data
                if terminator is not None and data == terminator:
                    finished = True
                    observer.on_completed()
                    upstream.dispose()
                    return
                try:
                    item = decode(data)
                except (msgspec.DecodeError, msgspec.ValidationError) as exc:
                    finished = True
                    observer.on_error(DecodeError(f"Invalid JSON in event: {exc}", data=data))
                    return
                except OxideRxError as exc:
                    finished = True
                    observer.on_error(exc)
                    return
                error = getattr(item, "error", None)
                if error is not None and getattr(item, "type", None) is None:
                    # A Chat Completions `{"error": {...}}` frame; the Responses API's typed
                    # `error` events carry `type` and are handled by their accumulator.
                    finished = True
                    observer.on_error(error_from_payload(error))
                    return
                observer.on_next(item)

            def on_completed() -> None:
                if finished:
                    return
                if terminator is not None:
                    observer.on_error(
                        StreamTruncatedError(f"The stream ended before {terminator}.")
                    )
                else:
                    observer.on_completed()

            upstream.disposable = source.subscribe(
                on_next, observer.on_error, on_completed, scheduler=scheduler
            )
            return upstream

        return Observable(subscribe)

    return operator
