"""Fan-out: one stream's events to any number of subscribers, and the subscriber error policy.

**Subscriber error policy** (the one place it is decided): a subscriber callback that raises is
detached from the stream, receives the exception through its own ``on_error`` (Rx-style
subscribers) and is logged on the ``oxide_rx`` logger with its traceback. The stream, its
snapshots and every other subscriber carry on: one faulty UI callback cannot lose the others'
events.

Routing: ``stream.on(cls, callback)`` subscribers are called directly for the event types they
asked for (no filter frame per event), other subscribers get every event. Routes are cached per
event type until the subscribers change.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from .._pipeline.sink import Sink

__all__ = ["FanOut", "TypedCallback"]

log = logging.getLogger("oxide_rx")

_E = TypeVar("_E")

Route = tuple[tuple[Sink[Any], Callable[[Any], object]], ...]


class TypedCallback:
    """``stream.on(cls, callback)``: which events, and what to call; ``ends`` (if given)
    also hears how the stream ended."""

    __slots__ = ("callback", "classes", "ends")

    def __init__(
        self,
        classes: type[Any] | tuple[type[Any], ...],
        callback: Callable[[Any], object],
        ends: Sink[Any] | None = None,
    ) -> None:
        self.classes = classes
        self.callback = callback
        self.ends = ends

    def on_next(self, value: Any) -> None:
        self.callback(value)

    def on_error(self, error: Exception) -> None:
        if self.ends is not None:
            self.ends.on_error(error)

    def on_completed(self) -> None:
        if self.ends is not None:
            self.ends.on_completed()


def _receives(classes: type[Any] | tuple[type[Any], ...], types: tuple[type[Any], ...]) -> bool:
    # Asked as each stream starts, with the same few arguments (the Responses wire types are
    # some fifty classes): a lookup instead of fifty issubclass calls per subscriber.
    key = (classes, types)
    found = _RECEIVES.get(key)
    if found is None:
        if len(_RECEIVES) >= 256:  # bounded: classes made at run time are not kept forever
            _RECEIVES.clear()
        found = _RECEIVES[key] = any(issubclass(t, classes) for t in types)
    return found


_RECEIVES: dict[tuple[object, tuple[type[Any], ...]], bool] = {}


class FanOut(Generic[_E]):
    """The subscribers of one stream. ``changed`` is called whenever they change."""

    __slots__ = ("changed", "observers", "routes")

    def __init__(self, changed: Callable[[], None]) -> None:
        self.observers: tuple[Sink[Any], ...] = ()
        self.routes: dict[type[Any], Route] = {}
        self.changed = changed

    def attach(self, observer: Sink[Any]) -> None:
        self.observers = (*self.observers, observer)
        self._changed()

    def detach(self, observer: Sink[Any]) -> bool:
        """Remove ``observer``; False if it was not attached (already detached or evicted)."""
        remaining = tuple(o for o in self.observers if o is not observer)
        if len(remaining) == len(self.observers):
            return False
        self.observers = remaining
        self._changed()
        return True

    def wants(self, event_types: tuple[type[Any], ...]) -> bool:
        """Whether any subscriber could receive an event of one of ``event_types``."""
        return any(
            not isinstance(o, TypedCallback) or _receives(o.classes, event_types)
            for o in self.observers
        )

    def emit(self, event: _E) -> None:
        route = self.routes.get(type(event))
        if route is None:
            route = self._route(type(event))
        for observer, deliver in route:
            try:
                deliver(event)
            except Exception as exc:
                self._evict(observer, exc)

    def end(self, error: Exception | None) -> None:
        """Complete (``error is None``) or fail every subscriber, and forget them."""
        observers, self.observers = self.observers, ()
        self.routes = {}
        for observer in observers:
            try:
                if error is None:
                    observer.on_completed()
                else:
                    observer.on_error(error)
            except Exception as exc:
                log.error("a stream subscriber raised at the end of the stream", exc_info=exc)

    def _route(self, event_type: type[Any]) -> Route:
        route = tuple(
            (o, o.callback) if isinstance(o, TypedCallback) else (o, o.on_next)
            for o in self.observers
            if not isinstance(o, TypedCallback) or issubclass(event_type, o.classes)
        )
        self.routes[event_type] = route
        return route

    def _evict(self, observer: Sink[Any], exc: Exception) -> None:
        log.error("a stream subscriber raised; it was detached", exc_info=exc)
        self.observers = tuple(o for o in self.observers if o is not observer)
        self._changed()
        with contextlib.suppress(Exception):
            observer.on_error(exc)

    def _changed(self) -> None:
        self.routes = {}
        self.changed()
