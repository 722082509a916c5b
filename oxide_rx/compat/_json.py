"""JSON text laid out the way pydantic-core writes it (``model_dump_json`` / ``to_json``).

Compact (``{"a":1}``) or indented (``"a": 1`` on its own line); non-ASCII kept as is; floats as
pydantic writes them, which differs from ``repr`` for small numbers:

>>> dump_json({"a": [1e-05, 2.5e-07, 1.0]})
'{"a":[0.00001,2.5e-7,1.0]}'
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import msgspec

__all__ = ["dump_json"]


def _float_text(value: float) -> str:
    """pydantic writes ``1e-05`` as ``0.00001`` and ``2.5e-07`` as ``2.5e-7``."""
    if value != value:
        return "NaN"
    if value in (float("inf"), float("-inf")):
        return "Infinity" if value > 0 else "-Infinity"
    text = repr(value)
    mantissa, sep, exponent = text.partition("e-")
    if not sep:
        return text
    power = int(exponent)
    if power != 5:
        return f"{mantissa}e-{power}"
    sign = "-" if mantissa.startswith("-") else ""
    digits = mantissa.lstrip("-").replace(".", "")
    return f"{sign}0.0000{digits}"


_encode_str = json.encoder.encode_basestring


def dump_json(value: Any, indent: int | None = None) -> str:
    """JSON text of plain data: compact, or pretty with ``indent`` spaces (pydantic's layout)."""
    out: list[str] = []
    _write(value, indent, 0, out)
    return "".join(out)


def _write(value: Any, indent: int | None, level: int, out: list[str]) -> None:
    if value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, str):
        out.append(_encode_str(value))
    elif isinstance(value, int):
        out.append(str(value))
    elif isinstance(value, float):
        out.append(_float_text(value))
    elif isinstance(value, Mapping):
        _write_items([(k, v) for k, v in value.items()], "{", "}", indent, level, out)
    elif isinstance(value, (list, tuple)):
        _write_items([(None, v) for v in value], "[", "]", indent, level, out)
    else:
        _write(msgspec.to_builtins(value), indent, level, out)


def _write_items(items: list[tuple[Any, Any]], opener: str, closer: str, indent: int | None,
                 level: int, out: list[str]) -> None:
    if not items:
        out.append(opener + closer)
        return
    out.append(opener)
    inner = "" if indent is None else "\n" + " " * (indent * (level + 1))
    for position, (key, item) in enumerate(items):
        if position:
            out.append(",")
        out.append(inner)
        if key is not None:
            out.append(_encode_str(str(key)))
            out.append(":" if indent is None else ": ")
        _write(item, indent, level + 1, out)
    if indent is not None:
        out.append("\n" + " " * (indent * level))
    out.append(closer)
