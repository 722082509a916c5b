"""The one sink protocol every push-style piece speaks, and the shell that makes a stage an
Rx operator.

A *sink* is an observer without reactivex's wrapper: stages, a stream's fan-out, an ``async
for`` inbox and reactivex observers all have these three methods, so any of them can be the
next step of a chain.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, TypeVar

from reactivex import Observable, abc
from reactivex.disposable import SingleAssignmentDisposable

__all__ = ["Sink", "as_operator", "nothing"]

_In = TypeVar("_In")
_Out = TypeVar("_Out")
_T_contra = TypeVar("_T_contra", contravariant=True)


class Sink(Protocol[_T_contra]):
    """Where values are pushed: ``on_next`` any number of times, then at most one end."""

    def on_next(self, value: _T_contra, /) -> None: ...
    def on_error(self, error: Exception, /) -> None: ...
    def on_completed(self) -> None: ...


def nothing() -> None:
    """A ``stop`` callback for stages whose upstream cannot be told to stop."""


def as_operator(
    make_stage: Callable[[Sink[_Out], Callable[[], None]], Sink[_In]],
) -> Callable[[Observable[_In]], Observable[_Out]]:
    """An Rx operator running one stage per subscription.

    ``make_stage(downstream, stop)`` builds the stage; ``stop()`` disposes the subscription to
    the source (a stage calls it when a terminal marker arrived).
    """

    def operator(source: Observable[_In]) -> Observable[_Out]:
        def subscribe(
            observer: abc.ObserverBase[_Out], scheduler: abc.SchedulerBase | None = None
        ) -> abc.DisposableBase:
            upstream = SingleAssignmentDisposable()
            stage = make_stage(observer, upstream.dispose)
            upstream.disposable = source.subscribe(
                stage.on_next, stage.on_error, stage.on_completed, scheduler=scheduler
            )
            return upstream

        return Observable(subscribe)

    return operator
