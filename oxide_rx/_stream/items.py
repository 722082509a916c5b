"""Item streams over a stream's events: the Rx stage behind ``ox.ops.items`` and the async
iterator behind ``stream.items`` (rules in :mod:`oxide_rx._core.items`)."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Callable
from typing import Any, Generic, TypeVar

from reactivex import abc

from .._core.items import ItemExtractor
from .._exceptions import OxideRxError
from .._pipeline.sink import Sink
from ..events import ContentDelta, ToolCallDelta
from .fanout import TypedCallback
from .inbox import Inbox, drain

__all__ = ["ItemsStage", "iter_items"]

_T = TypeVar("_T")


class ItemsStage(Generic[_T]):
    """Pushes each element as it closes; fails (and asks the source to stop) on invalid JSON
    or an element that does not validate, with ``error.partial`` = the elements before it."""

    __slots__ = ("_delivered", "_downstream", "_extract", "_stop", "finished")

    def __init__(
        self, extract: ItemExtractor[_T], downstream: Sink[_T], stop: Callable[[], None]
    ) -> None:
        self._extract = extract
        self._downstream = downstream
        self._stop = stop
        self._delivered: list[_T] = []
        self.finished = False

    def on_next(self, event: Any) -> None:
        if self.finished:
            return
        try:
            items = self._extract.handle(event)
        except OxideRxError as error:
            error.partial = list(self._delivered)
            self.on_error(error)
            self._stop()
            return
        for item in items:
            self._delivered.append(item)
            self._downstream.on_next(item)

    def on_error(self, error: Exception) -> None:
        if not self.finished:
            self.finished = True
            self._downstream.on_error(error)

    def on_completed(self) -> None:
        if not self.finished:
            self.finished = True
            self._downstream.on_completed()


def iter_items(
    attach: Callable[[TypedCallback], abc.DisposableBase],
    start: Callable[[], None],
    extract: ItemExtractor[_T],
) -> AsyncGenerator[_T, None]:
    """The elements as they close, pulled by ``async for``; starts the stream, and leaving
    the loop early stops listening (which aborts the request if nobody else listens)."""

    def subscribe(inbox: Inbox[_T]) -> abc.DisposableBase:
        holder: list[abc.DisposableBase] = []

        def stop() -> None:
            if holder:
                holder[0].dispose()

        stage = ItemsStage(extract, inbox, stop)
        classes = ToolCallDelta if extract.tool is not None else ContentDelta
        holder.append(attach(TypedCallback(classes, stage.on_next, stage)))
        return holder[0]

    return drain(subscribe, start)
