"""``parse_sse`` and ``decode`` as Rx operators (rules in ``_stages``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from reactivex import Observable

from ..sse import DEFAULT_MAX_EVENT_SIZE, ServerSentEvent
from ._stages import DecodeStage, ParseSSEStage, Sink, as_operator

_T = TypeVar("_T")

DONE_MARKER = "[DONE]"


def parse_sse_impl(
    max_event_size: int | None = DEFAULT_MAX_EVENT_SIZE,
) -> Callable[[Observable[bytes]], Observable[ServerSentEvent]]:
    def make(downstream: Sink, stop: Callable[[], None]) -> Sink:
        return ParseSSEStage(max_event_size, downstream)

    return as_operator(make)


def decode_impl(
    target: type[_T] | Any, *, terminator: str | None = DONE_MARKER
) -> Callable[[Observable[ServerSentEvent]], Observable[_T]]:
    def make(downstream: Sink, stop: Callable[[], None]) -> Sink:
        return DecodeStage(target, terminator, downstream, stop)

    return as_operator(make)
