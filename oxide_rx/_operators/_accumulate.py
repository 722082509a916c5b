"""``accumulate_chat`` and ``accumulate_responses`` as Rx operators (rules in ``_stages``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from reactivex import Observable

from .._chat_state import ChatCompletionAccumulator
from .._responses_state import ResponseAccumulator
from ._stages import ChatAccumulateStage, ResponsesAccumulateStage, Sink, as_operator


def accumulate_chat_impl(
    accumulator: ChatCompletionAccumulator | None = None,
) -> Callable[[Observable[Any]], Observable[Any]]:
    def make(downstream: Sink, stop: Callable[[], None]) -> Sink:
        state = accumulator if accumulator is not None else ChatCompletionAccumulator()
        return ChatAccumulateStage(state, downstream)

    return as_operator(make)


def accumulate_responses_impl(
    accumulator: ResponseAccumulator | None = None,
) -> Callable[[Observable[Any]], Observable[Any]]:
    def make(downstream: Sink, stop: Callable[[], None]) -> Sink:
        state = accumulator if accumulator is not None else ResponseAccumulator()
        return ResponsesAccumulateStage(state, downstream, stop)

    return as_operator(make)
