"""Pieces every wire-type module shares.

:class:`WireStruct` is the base of the Chat Completions wire types: frozen, keyword-only, and
``omit_defaults`` so that re-encoding a decoded object does not invent keys the server never
sent (``"usage": null`` on a chunk that had no ``usage`` key, ...)::

    >>> import msgspec
    >>> class Point(WireStruct):
    ...     x: int
    ...     label: str | None = None
    >>> msgspec.json.encode(Point(x=1))
    b'{"x":1}'

``gc=False``: wire objects hold only JSON data (str, numbers, lists, dicts, other Structs), which
cannot form reference cycles, so the garbage collector need not track them. This makes decoding
the many small objects of a stream measurably cheaper.
"""

from __future__ import annotations

import msgspec

__all__ = ["RAW_FIELD", "RawPayload", "WireStruct"]


class WireStruct(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True, gc=False):
    """Base of the wire Structs: frozen, keyword-only, defaults omitted when encoding."""


RAW_FIELD: bytes | None = msgspec.field(default=None, name="__raw__")
"""The ``raw`` field of wire events: the payload as received, set by the stream that decoded
the event (:func:`msgspec.structs.force_setattr`; the events are frozen). Its JSON key is one
no server sends, so decoding never fills it from the payload itself."""


class RawPayload:
    """Mixin for wire Structs with a ``raw`` field: ``==``, ``hash`` and ``repr`` leave it out,
    so an event decoded by a stream equals the same event decoded by hand, and prints the same.
    """

    __slots__ = ()
    __struct_fields__: tuple[str, ...]

    def _fields_but_raw(self) -> tuple[object, ...]:
        return tuple(getattr(self, name) for name in self.__struct_fields__ if name != "raw")

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        assert isinstance(other, RawPayload)
        return self._fields_but_raw() == other._fields_but_raw()

    def __hash__(self) -> int:
        return hash((type(self), self._fields_but_raw()))

    def __repr__(self) -> str:
        body = ", ".join(
            f"{name}={getattr(self, name)!r}" for name in self.__struct_fields__ if name != "raw"
        )
        return f"{type(self).__name__}({body})"
