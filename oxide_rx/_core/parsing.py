"""Structured output: validate finished JSON text into the type the user asked for.

No I/O and no pydantic import at module load: a pydantic model is recognised by its
``model_validate_json`` method, so pydantic stays an optional dependency.
"""

from __future__ import annotations

from typing import Any, TypeVar, cast

import msgspec

from oxide_rx._exceptions import DecodeError

__all__ = ["parse_as"]

T = TypeVar("T")


_decoders: dict[Any, msgspec.json.Decoder[Any]] = {}


def _decoder(target: Any) -> msgspec.json.Decoder[Any]:
    # One Decoder per target type: building one means walking the type once.
    decoder = _decoders.get(target)
    if decoder is None:
        decoder = _decoders[target] = msgspec.json.Decoder(target)
    return decoder


def parse_as(target: type[T] | None, text: str) -> T | None:
    """Validate JSON ``text`` into ``target``; ``None`` when no target was given.

    ``target`` is a pydantic model (validated with ``model_validate_json``) or anything msgspec
    can decode into: a ``msgspec.Struct``, a dataclass, a ``TypedDict``, ``dict[str, Any]``...
    Text that is not valid JSON or does not match raises :class:`oxide_rx.DecodeError`, whose
    message carries a short excerpt of the text.

    >>> class Location(msgspec.Struct):
    ...     city: str
    >>> parse_as(Location, '{"city": "Paris"}')
    Location(city='Paris')
    >>> parse_as(None, '{"city": "Paris"}') is None
    True
    """
    if target is None:
        return None
    validate_json = getattr(target, "model_validate_json", None)
    if validate_json is not None:
        try:
            return cast(T, validate_json(text))
        except ValueError as exc:  # pydantic.ValidationError is a ValueError
            raise DecodeError(f"Output does not validate as {_name(target)}: {exc}",
                              data=text) from exc
    try:
        return cast(T, _decoder(target).decode(text))
    except msgspec.DecodeError as exc:  # msgspec.ValidationError is a DecodeError
        raise DecodeError(f"Output does not validate as {_name(target)}: {exc}",
                          data=text) from exc


def _name(target: object) -> str:
    return getattr(target, "__qualname__", None) or repr(target)
