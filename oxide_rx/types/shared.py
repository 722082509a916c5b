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

__all__ = ["WireStruct"]


class WireStruct(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True, gc=False):
    """Base of the wire Structs: frozen, keyword-only, defaults omitted when encoding."""
