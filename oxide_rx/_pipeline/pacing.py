"""``sample_ui``: pacing events for a UI, on the asyncio loop's clock."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, TypeVar

__all__ = ["sample_ui_impl"]

from reactivex import Observable, abc
from reactivex.disposable import CompositeDisposable, SerialDisposable
from reactivex.scheduler.eventloop import AsyncIOScheduler

_T = TypeVar("_T")


def sample_ui_impl(
    interval: float, scheduler: abc.SchedulerBase | None = None
) -> Callable[[Observable[_T]], Observable[_T]]:
    """Leading and trailing edge throttle: the first item at once, then the latest at most
    every ``interval``, and the last item immediately on completion."""

    def operator(source: Observable[_T]) -> Observable[_T]:
        def subscribe(
            observer: abc.ObserverBase[_T], subscribe_scheduler: abc.SchedulerBase | None = None
        ) -> abc.DisposableBase:
            timer_scheduler = scheduler or _asyncio_scheduler(subscribe_scheduler)
            timer = SerialDisposable()
            pending = False
            latest: Any = None
            cooling = False

            def tick(_: abc.SchedulerBase, __: Any = None) -> None:
                nonlocal pending, cooling
                if pending:
                    pending = False
                    observer.on_next(latest)
                    timer.disposable = timer_scheduler.schedule_relative(interval, tick)
                else:
                    cooling = False

            def on_next(item: _T) -> None:
                nonlocal pending, latest, cooling
                if cooling:
                    latest, pending = item, True
                    return
                cooling = True
                observer.on_next(item)
                timer.disposable = timer_scheduler.schedule_relative(interval, tick)

            def flush_then(action: Callable[[], None]) -> None:
                nonlocal pending
                timer.dispose()
                if pending:
                    pending = False
                    observer.on_next(latest)
                action()

            def on_error(error: Exception) -> None:
                flush_then(lambda: observer.on_error(error))

            subscription = source.subscribe(
                on_next, on_error, lambda: flush_then(observer.on_completed),
                scheduler=subscribe_scheduler,
            )
            return CompositeDisposable(subscription, timer)

        return Observable(subscribe)

    return operator


def _asyncio_scheduler(given: abc.SchedulerBase | None) -> abc.SchedulerBase:
    """Time-based operators must run on the loop: reactivex's default timer uses threads."""
    if isinstance(given, AsyncIOScheduler):
        return given
    return AsyncIOScheduler(asyncio.get_running_loop())
