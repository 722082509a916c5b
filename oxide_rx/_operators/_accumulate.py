"""``accumulate_chat`` and ``accumulate_responses``: wire objects -> helper events.

Both are thin Rx shells over the sans-IO accumulators; all rules live in ``_chat_state`` and
``_responses_state``. What the shells add is *when a stream is over*:

- chat: ``[DONE]`` ends the stream. A body that ends without it still counts as complete when
  every choice has reported a ``finish_reason`` (only the trailing usage chunk can be missing);
  otherwise the error is :class:`StreamTruncatedError` carrying the partial completion.
- Responses: a terminal event (``response.completed`` / ``incomplete`` / ``done``) completes the
  stream; ``error`` / ``response.failed`` fail it with :class:`ResponseFailedError` after the
  events before it were delivered; EOF before a terminal event is :class:`StreamTruncatedError`.

Every :class:`APIError` that ends a stream carries the snapshot so far in ``error.partial``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from reactivex import Observable, abc
from reactivex.disposable import SingleAssignmentDisposable

from .._chat_state import ChatCompletionAccumulator
from .._exceptions import APIError, StreamTruncatedError
from .._responses_state import ResponseAccumulator
from ..types.chat import ChatCompletionChunk


def _with_partial(error: Exception, snapshot: Callable[[], Any]) -> Exception:
    if isinstance(error, APIError) and error.partial is None:
        error.partial = snapshot()
    return error


def accumulate_chat_impl(
    accumulator: ChatCompletionAccumulator | None = None,
) -> Callable[[Observable[ChatCompletionChunk]], Observable[Any]]:
    def operator(source: Observable[ChatCompletionChunk]) -> Observable[Any]:
        def subscribe(
            observer: abc.ObserverBase[Any], scheduler: abc.SchedulerBase | None = None
        ) -> abc.DisposableBase:
            state = accumulator if accumulator is not None else ChatCompletionAccumulator()
            on_next = observer.on_next

            def on_chunk(chunk: ChatCompletionChunk) -> None:
                try:
                    events = state.handle_chunk(chunk)
                except Exception as exc:
                    observer.on_error(_with_partial(exc, state.completion))
                    return
                for event in events:
                    on_next(event)

            def on_completed() -> None:
                for event in state.finish():
                    on_next(event)
                observer.on_completed()

            def on_error(error: Exception) -> None:
                if isinstance(error, StreamTruncatedError) and state.all_finished:
                    on_completed()
                else:
                    observer.on_error(_with_partial(error, state.completion))

            return source.subscribe(on_chunk, on_error, on_completed, scheduler=scheduler)

        return Observable(subscribe)

    return operator


def accumulate_responses_impl(
    accumulator: ResponseAccumulator | None = None,
) -> Callable[[Observable[Any]], Observable[Any]]:
    def operator(source: Observable[Any]) -> Observable[Any]:
        def subscribe(
            observer: abc.ObserverBase[Any], scheduler: abc.SchedulerBase | None = None
        ) -> abc.DisposableBase:
            state = accumulator if accumulator is not None else ResponseAccumulator()
            upstream = SingleAssignmentDisposable()
            on_next = observer.on_next

            def on_event(event: Any) -> None:
                if state.terminal:
                    return
                try:
                    items = state.handle_event(event)
                except Exception as exc:
                    observer.on_error(_with_partial(exc, state.response))
                    return
                for item in items:
                    on_next(item)
                if state.terminal:
                    upstream.dispose()
                    if state.failure is not None:
                        observer.on_error(_with_partial(state.failure, state.response))
                    else:
                        observer.on_completed()

            def on_error(error: Exception) -> None:
                if not state.terminal:
                    observer.on_error(_with_partial(error, state.response))

            def on_completed() -> None:
                if not state.terminal:
                    error = StreamTruncatedError("The stream ended before a terminal event.")
                    observer.on_error(_with_partial(error, state.response))

            upstream.disposable = source.subscribe(
                on_event, on_error, on_completed, scheduler=scheduler
            )
            return upstream

        return Observable(subscribe)

    return operator
