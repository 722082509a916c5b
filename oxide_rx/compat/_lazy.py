"""Field values computed when first needed, and the fields that may hold one.

A stream event's ``snapshot`` is the text or completion *so far*: exact whenever it is read,
but building it per event would cost O(output so far) per event. Such a field holds a
:class:`Deferred` until it is read; the object's class reads it through :class:`LazyField`.
"""

from __future__ import annotations

from typing import Any, ClassVar

import msgspec

__all__ = ["LAZY", "LAZY_FIELDS", "Deferred", "LazyField", "settle", "value_of"]


class Deferred(msgspec.Struct, gc=False):
    """A value computed when first needed; subclasses hold what :meth:`compute` needs.

    A field listed in :data:`LAZY` may hold one: reading the field, dumping or printing the
    object computes it once and keeps the result. A stream's queue holds them too (the object
    is built when the consumer takes it). ``gc=False``: a stream queues thousands of them, and
    untracked objects do not make the garbage collector run (what they hold cannot form
    cycles).
    """

    thread_safe: ClassVar[bool] = True
    """False: compute on the event loop's thread only (it reads state that thread mutates);
    the synchronous client's queue computes such values before handing the object over."""

    def compute(self) -> Any:
        raise NotImplementedError


class LazyField:
    """The class attribute of a field that may hold a :class:`Deferred` value."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __get__(self, obj: Any, owner: Any = None) -> Any:
        if obj is None:
            return None
        return value_of(obj.__dict__, self.name)

    def __set__(self, obj: Any, value: Any) -> None:
        obj.__dict__[self.name] = value


def value_of(values: dict[str, Any], attr: str) -> Any:
    """The value of a field (``None`` when absent), computing a :class:`Deferred` one."""
    value = values.get(attr)
    if isinstance(value, Deferred):
        value = values[attr] = value.compute()
    return value


# Fields whose value may be deferred: snapshots of stream events, built only when read.
LAZY: dict[str, tuple[str, ...]] = {
    "ChunkEvent": ("chunk", "snapshot"),
    "ContentDeltaEvent": ("snapshot",),
    "RefusalDeltaEvent": ("snapshot",),
    "helper.ResponseTextDeltaEvent": ("snapshot",),
    "helper.ResponseFunctionCallArgumentsDeltaEvent": ("snapshot",),
}
LAZY_FIELDS: dict[type, tuple[str, ...]] = {}
"""The classes built so far that have lazy fields (see :func:`settle`)."""


def settle(item: Any) -> Any:
    """``item`` with the deferred fields that are not :attr:`Deferred.thread_safe` computed.

    Call on the event loop's thread before another thread may read ``item``.
    """
    lazy = LAZY_FIELDS.get(type(item))
    if lazy is not None:
        values = item.__dict__
        for attr in lazy:
            value = values.get(attr)
            if isinstance(value, Deferred) and not value.thread_safe:
                values[attr] = value.compute()
    return item
