"""The official objects, built from the server's bytes.

1. **Compiled validation**: ``TypeAdapter(T).validate_json(raw, strict=True)``, one cached
   adapter per type; a union the SDK marks with a discriminator gets pydantic's
   ``discriminator=`` (the SDK's ``ResponseStreamEvent`` alias is undiscriminated for pydantic
   and ~50x slower). Strict: a value the official client keeps as sent (``"1"`` for an ``int``)
   must not be coerced, so such data takes path 2.
2. **Tolerant construction** when validation fails: the official ``construct_type`` rules (keep
   what does not match, ``None`` means the default, a tagged variant by its tag, else the first
   variant that builds), with the per-type work done once (a builder per type, a field table
   per model) where the SDK re-inspects every type on every call (200k-1.1M ns for a real
   ``response.completed``).

>>> from openai.types.chat import ChatCompletionChunk
>>> chunk = from_json(ChatCompletionChunk, b'{"id":"c","choices":[],"created":1,'
...                   b'"model":"m","object":"chat.completion.chunk","x":1}')
>>> type(chunk).__name__, chunk.x
('ChatCompletionChunk', 1)
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Annotated, Any, Literal, TypeVar, cast, get_args, get_origin

import msgspec
import pydantic
from openai._compat import field_get_default
from openai._models import _build_discriminated_union_meta
from openai._utils import is_annotated_type, is_type_alias_type
from openai._utils._compat import is_union, parse_datetime

__all__ = ["construct", "from_data", "from_json", "make", "parser", "shallow"]

_M = TypeVar("_M", bound=pydantic.BaseModel)
_Builder = Callable[[Any], Any]

_decode = msgspec.json.Decoder().decode
_adapters: dict[Any, pydantic.TypeAdapter[Any]] = {}
_builders: dict[Any, _Builder] = {}
_defaults: dict[type, dict[str, Any]] = {}


def adapter(type_: Any) -> pydantic.TypeAdapter[Any]:
    """The cached compiled validator of ``type_`` (discriminated where the SDK says so)."""
    found = _adapters.get(type_)
    if found is None:
        found = _adapters[type_] = pydantic.TypeAdapter(_discriminated(type_))
    return found


def _discriminated(type_: Any) -> Any:
    type_ = type_.__value__ if is_type_alias_type(type_) else type_
    if not is_annotated_type(type_):
        return type_
    inner, *meta = get_args(type_)
    tags = [m.discriminator for m in meta if getattr(m, "discriminator", None)]
    if not tags or not is_union(get_origin(inner)):
        return type_
    return Annotated[inner, pydantic.Field(discriminator=tags[0])]


def from_json(type_: Any, raw: bytes | str) -> Any:
    """An official ``type_`` from JSON text: validated, or tolerantly built when invalid."""
    try:
        return adapter(type_).validate_json(raw, strict=True)
    except pydantic.ValidationError:
        return construct(type_, _decode(raw))


def parser(type_: Any, otherwise: Callable[[bytes | str], Any] | None = None
           ) -> Callable[[bytes | str], Any]:
    """:func:`from_json` for one type, its validator looked up once (hashing a typing alias
    such as ``ResponseStreamEvent`` costs more than validating a small event), and called
    without ``TypeAdapter``'s Python wrapper. ``otherwise`` reads what does not validate
    (default: the tolerant construction of ``type_``)."""
    validate = adapter(type_).validator.validate_json

    def parse(raw: bytes | str) -> Any:
        try:
            return validate(raw, strict=True)
        except pydantic.ValidationError:
            return construct(type_, _decode(raw)) if otherwise is None else otherwise(raw)

    return parse


def from_data(type_: Any, data: Any) -> Any:
    """An official ``type_`` from decoded JSON data (dicts and lists)."""
    try:
        return adapter(type_).validate_python(data, strict=True)
    except pydantic.ValidationError:
        return construct(type_, data)


# A model's state without its __setattr__: the slots' own setters are the cheapest way in
# (several objects per streamed event are built so).
_set_dict = object.__setattr__
_set_private, _set_extra, _set_fields_set = (
    vars(pydantic.BaseModel)[slot].__set__
    for slot in ("__pydantic_private__", "__pydantic_extra__", "__pydantic_fields_set__"))


def _fill(obj: Any, fields: dict[str, Any], extra: dict[str, Any] | None, set_: set[str]) -> Any:
    _set_dict(obj, "__dict__", fields)
    _set_private(obj, None)
    _set_extra(obj, extra)
    _set_fields_set(obj, set_)
    return obj


def make(cls: type[_M], **values: Any) -> _M:
    """``cls`` with these field values as they are (the SDK's ``build`` without its
    per-field type walk): what a helper event is, its values being official objects already."""
    defaults = _defaults.get(cls)
    if defaults is None:
        defaults = _defaults[cls] = {name: field_get_default(info)
                                     for name, info in cls.model_fields.items()}
    return cast(_M, _fill(cls.__new__(cls), {**defaults, **values}, {}, set(values)))


def make_whole(cls: type[_M], values: dict[str, Any]) -> _M:
    """:func:`make` for ``values`` that name every field of ``cls`` (``values`` is kept)."""
    return cast(_M, _fill(cls.__new__(cls), values, {}, set(values)))


def take_state(old: _M, new: _M) -> _M:
    """``old``, given ``new``'s fields (``new`` is built by this module: no private state)."""
    return cast(_M, _fill(old, new.__dict__, new.__pydantic_extra__, new.__pydantic_fields_set__))


def shallow(obj: _M, **values: Any) -> _M:
    """A shallow copy of ``obj`` with these fields replaced (pydantic's ``model_copy`` costs
    several times more)."""
    extra = obj.__pydantic_extra__
    return cast(_M, _fill(type(obj).__new__(type(obj)), {**obj.__dict__, **values},
                          dict(extra) if extra else {}, set(obj.__pydantic_fields_set__)))


def construct(type_: Any, value: Any) -> Any:
    """The official client's ``construct_type(type_=..., value=...)``, with cached tables."""
    return builder(type_)(value)


def builder(type_: Any, meta: tuple[Any, ...] = ()) -> _Builder:
    """The cached tolerant builder of ``type_`` (``meta``: its field's annotations)."""
    key = (type_, meta) if meta else type_
    found = _builders.get(key)
    if found is None:
        found = _builders[key] = _make_builder(type_, meta)
    return found


def _keep(value: Any) -> Any:
    return value


def _make_builder(type_: Any, meta: tuple[Any, ...]) -> _Builder:
    original = None
    if is_type_alias_type(type_):
        original, type_ = type_, type_.__value__
    if not meta and is_annotated_type(type_):
        type_, *rest = get_args(type_)
        meta = tuple(rest)
    origin, args = get_origin(type_) or type_, get_args(type_)
    if is_union(origin):
        return _union(original or type_, type_, meta, args)
    if origin in (dict, list):
        item = _lazy(args[-1]) if args else _keep
        if origin is dict:
            return lambda v: {k: item(x) for k, x in v.items()} if isinstance(v, Mapping) else v
        return lambda v: [item(x) for x in v] if isinstance(v, list) else v
    if inspect.isclass(origin) and issubclass(origin, pydantic.BaseModel) \
            and get_origin(type_) is not Literal:
        return _model(type_)
    if origin is float:  # an int stays an int unless float() keeps its value
        return lambda v: float(v) if type(v) is int and float(v) == v else v
    return _datetime if type_ is datetime else _keep


def _lazy(type_: Any, meta: tuple[Any, ...] = ()) -> _Builder:
    """A builder resolved on first use (field types may refer to classes defined later)."""
    resolved: list[_Builder] = []

    def build(value: Any) -> Any:
        if not resolved:
            resolved.append(builder(type_, meta))
        return resolved[0](value)

    return build


def _union(whole: Any, union: Any, meta: tuple[Any, ...], args: tuple[Any, ...]) -> _Builder:
    details = _build_discriminated_union_meta(union=union, meta_annotations=meta)
    tag = None if details is None else (details.field_alias_from or details.field_name)
    tagged = {} if details is None else dict(details.mapping)
    variants = [_lazy(arg) for arg in args]

    def build(value: Any) -> Any:
        variant = tagged.get(cast(Any, value).get(tag)) if tag and isinstance(value, Mapping) \
            else None
        if variant is not None:
            # The SDK validates the whole union first; a tagged value can only validate as
            # its tagged variant, so trying that one alone gives the same object, faster.
            return from_data_lax(variant, value)
        try:
            return adapter(whole).validate_python(value)
        except Exception:
            pass
        for variant_builder in variants:
            try:
                return variant_builder(value)
            except Exception:
                continue
        raise RuntimeError(f"Could not convert data into a valid instance of {union}")

    return build


def from_data_lax(type_: Any, data: Any) -> Any:
    """``type_`` validated as the SDK validates (not strict), else tolerantly built."""
    try:
        return adapter(type_).validate_python(data)
    except pydantic.ValidationError:
        return construct(type_, data)


def _datetime(value: Any) -> Any:
    try:
        return parse_datetime(value)
    except Exception:
        return value


def _model(cls: Any) -> _Builder:
    """A model's builder: its field table (name, key, builder, default) made on first use."""
    table: list[tuple[str, str, _Builder, Any]] = []
    extra: list[_Builder] = []

    def fill() -> None:
        for name, info in cls.model_fields.items():
            table.append((name, info.alias or name, _lazy(info.annotation, tuple(info.metadata)),
                          field_get_default(info)))
        schema = cls.__pydantic_core_schema__
        inner = schema.get("schema", {}) if schema.get("type") == "model" else {}
        extras = inner.get("extras_schema") if inner.get("type") == "model-fields" else None
        extra.append(builder(extras["cls"]) if extras and "cls" in extras else _keep)

    def new(values: Mapping[str, Any]) -> Any:
        if not extra:
            fill()
        fields: dict[str, Any] = {}
        fields_set: set[str] = set()
        for name, key, build, default in table:
            if key not in values and name in values:
                key = name  # populate_by_name, as the SDK allows
            value = values.get(key)
            fields[name] = _copy(default) if value is None else build(value)
            if key in values:
                fields_set.add(name)
        return _fill(cls.__new__(cls), fields, {k: extra[0](v) for k, v in values.items()
                                                if k not in fields}, fields_set)

    def build(value: Any) -> Any:
        if isinstance(value, list):
            return [new(entry) if isinstance(entry, Mapping) else entry for entry in value]
        return new(value) if isinstance(value, Mapping) else value

    return build


def _copy(default: Any) -> Any:
    return list(default) if type(default) is list else default  # never share a mutable default
