"""``of_type``: keep the events of some classes (typed as their union by the public shell)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from reactivex import Observable, abc

__all__ = ["of_type_impl"]


def of_type_impl(classes: tuple[type[Any], ...]) -> Callable[[Observable[Any]], Observable[Any]]:
    def operator(source: Observable[Any]) -> Observable[Any]:
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
