"""``of_type``: keep the events of some classes (typed as their union by the public shell)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from reactivex import Observable, abc

__all__ = ["TypedSource", "of_type_impl"]


class TypedSource(Observable[Any]):
    """An observable that can itself deliver only the events of some classes: a stream's
    ``events``, whose fan-out routes by class. ``of_type`` on it subscribes for those
    classes, so the other events cost its subscriber nothing (not even a call), and a
    subscriber that asked for no wire event does not make the stream build them."""

    def subscribe_typed(
        self, classes: tuple[type[Any], ...], observer: abc.ObserverBase[Any]
    ) -> abc.DisposableBase:
        raise NotImplementedError


def of_type_impl(classes: tuple[type[Any], ...]) -> Callable[[Observable[Any]], Observable[Any]]:
    def operator(source: Observable[Any]) -> Observable[Any]:
        if isinstance(source, TypedSource):
            def subscribe_typed(
                observer: abc.ObserverBase[Any], scheduler: abc.SchedulerBase | None = None
            ) -> abc.DisposableBase:
                return source.subscribe_typed(classes, observer)

            return Observable(subscribe_typed)

        def subscribe(
            observer: abc.ObserverBase[Any], scheduler: abc.SchedulerBase | None = None
        ) -> abc.DisposableBase:
            on_next = observer.on_next

            def on_item(item: Any) -> None:
                if isinstance(item, classes):
                    on_next(item)

            return source.subscribe(on_item, observer.on_error, observer.on_completed,
                                    scheduler=scheduler)

        return Observable(subscribe)

    return operator
