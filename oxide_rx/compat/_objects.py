"""The official objects, built from the server's bytes.

Two paths, the second only when the first fails:

1. **Compiled validation.** ``TypeAdapter(T).validate_json(raw, strict=True)``, one cached
   adapter per type; a union that the SDK marks with a discriminator gets pydantic's
   ``discriminator=`` (the SDK's own ``ResponseStreamEvent`` alias is undiscriminated for
   pydantic and ~50x slower). Strict mode: a value the official client would keep as sent
   (``"1"`` in an ``int`` field) must not be coerced here, so such data falls to path 2.
2. **Tolerant construction**, the official client's ``construct_type`` rules (keep what does not
   match, ``None`` means the default, discriminated variants by tag, the first variant that
   builds otherwise) with the per-type work done once: a builder per type, a field table per
   model. The SDK's own path re-inspects every type on every call (200k-1.1M ns for a real
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
from typing import Annotated, Any, TypeVar, cast, get_args, get_origin

import msgspec
import pydantic
from openai._compat import field_get_default
from openai._models import _build_discriminated_union_meta
from openai._utils import is_annotated_type, is_type_alias_type
from openai._utils._compat import is_union, parse_datetime

__all__ = ["construct", "from_data", "from_json"]

_T = TypeVar("_T")
_Builder = Callable[[Any], Any]

_decode = msgspec.json.Decoder().decode
_adapters: dict[Any, pydantic.TypeAdapter[Any]] = {}
_builders: dict[Any, _Builder] = {}


def adapter(type_: Any) -> pydantic.TypeAdapter[Any]:
    """The cached compiled validator of ``type_`` (discriminated where the SDK says so)."""
    found = _adapters.get(type_)
    if found is None:
        found = _adapters[type_] = pydantic.TypeAdapter(_with_discriminator(type_))
    return found


def _with_discriminator(type_: Any) -> Any:
    if is_type_alias_type(type_):
        type_ = type_.__value__
    if not is_annotated_type(type_):
        return type_
    inner, *meta = get_args(type_)
    field = next((getattr(m, "discriminator", None) for m in meta
                  if getattr(m, "discriminator", None)), None)
    if field is None or not is_union(get_origin(inner)):
        return type_
    return Annotated[inner, pydantic.Field(discriminator=field)]


def from_json(type_: type[_T] | Any, raw: bytes | str) -> _T:
    """An official ``type_`` from JSON text: validated, or tolerantly built when invalid."""
    try:
        return cast(_T, adapter(type_).validate_json(raw, strict=True))
    except pydantic.ValidationError:
        return cast(_T, construct(type_, _decode(raw)))


def from_data(type_: type[_T] | Any, data: Any) -> _T:
    """An official ``type_`` from decoded JSON data (dicts and lists)."""
    try:
        return cast(_T, adapter(type_).validate_python(data, strict=True))
    except pydantic.ValidationError:
        return cast(_T, construct(type_, data))


def construct(type_: Any, value: Any) -> Any:
    """The official client's ``construct_type(type_=..., value=...)``, with cached tables."""
    return builder(type_)(value)


def builder(type_: Any, metadata: tuple[Any, ...] = ()) -> _Builder:
    key = (type_, metadata) if metadata else type_
    found = _builders.get(key)
    if found is None:
        found = _builders[key] = _make_builder(type_, metadata)
    return found


def _keep(value: Any) -> Any:
    return value


def _make_builder(type_: Any, metadata: tuple[Any, ...]) -> _Builder:
    original = None
    if is_type_alias_type(type_):
        original, type_ = type_, type_.__value__
    if metadata:
        meta = metadata
    elif is_annotated_type(type_):
        type_, *rest = get_args(type_)
        meta = tuple(rest)
    else:
        meta = ()
    origin = get_origin(type_) or type_
    args = get_args(type_)
    if is_union(origin):
        return _union_builder(original or type_, type_, meta, args)
    if origin is dict:
        return _dict_builder(builder(args[1]) if len(args) > 1 else _keep)
    if inspect.isclass(origin) and issubclass(origin, pydantic.BaseModel) and not _is_literal(type_):
        return _model_builder(type_)
    if origin is list:
        return _list_builder(builder(args[0]) if args else _keep)
    if origin is float:
        return _float
    if type_ is datetime:
        return _datetime
    return _keep


def _is_literal(type_: Any) -> bool:
    return str(get_origin(type_)) in ("typing.Literal", "typing_extensions.Literal")


def _union_builder(whole: Any, union: Any, meta: tuple[Any, ...], args: tuple[Any, ...]) -> _Builder:
    details = _build_discriminated_union_meta(union=union, meta_annotations=meta)
    variants = [builder(arg) for arg in args]
    tag = None if details is None else (details.field_alias_from or details.field_name)
    mapping = {} if details is None else {k: builder(v) for k, v in details.mapping.items()}
    validate: Callable[[Any], Any] | None = None

    def build(value: Any) -> Any:
        nonlocal validate
        if tag is not None and isinstance(value, Mapping):
            chosen = mapping.get(value.get(tag))  # type: ignore[arg-type]
            if chosen is not None:
                # The SDK validates the whole union first; for a tagged value only the tagged
                # variant can validate, so trying it alone gives the same object, faster.
                variant = details.mapping[value[tag]]  # type: ignore[union-attr]
                try:
                    return adapter(variant).validate_python(value)
                except pydantic.ValidationError:
                    return chosen(value)
        if validate is None:
            validate = adapter(whole).validate_python
        try:
            return validate(value)
        except Exception:
            pass
        for variant_builder in variants:
            try:
                return variant_builder(value)
            except Exception:
                continue
        raise RuntimeError(f"Could not convert data into a valid instance of {union}")

    return build


def _dict_builder(item: _Builder) -> _Builder:
    def build(value: Any) -> Any:
        if not isinstance(value, Mapping):
            return value
        return {key: item(entry) for key, entry in value.items()}

    return build


def _list_builder(item: _Builder) -> _Builder:
    def build(value: Any) -> Any:
        if not isinstance(value, list):
            return value
        return [item(entry) for entry in value]

    return build


def _float(value: Any) -> Any:
    if isinstance(value, int) and not isinstance(value, bool):
        coerced = float(value)
        return coerced if coerced == value else value
    return value


def _datetime(value: Any) -> Any:
    try:
        return parse_datetime(value)
    except Exception:
        return value


class _Field:
    __slots__ = ("build", "default", "key", "name")

    def __init__(self, name: str, key: str, build: _Builder, default: Any) -> None:
        self.name, self.key, self.build, self.default = name, key, build, default


def _model_builder(cls: Any) -> _Builder:
    fields: list[_Field] | None = None
    names: frozenset[str] = frozenset()
    extra: _Builder | None = None

    def table() -> list[_Field]:
        # Built on first use: field annotations may refer to classes defined later.
        nonlocal fields, names, extra
        fields = []
        for name, info in cls.model_fields.items():
            key = info.alias or name
            lazy = _LazyBuilder(info.annotation, tuple(info.metadata))
            fields.append(_Field(name, key, lazy, field_get_default(info)))
        names = frozenset(cls.model_fields)
        extra_type = _extra_type(cls)
        extra = None if extra_type is None else builder(extra_type)
        return fields

    def new(values: Mapping[str, Any]) -> Any:
        table_ = fields if fields is not None else table()
        obj = cls.__new__(cls)
        field_values: dict[str, Any] = {}
        fields_set: set[str] = set()
        for field in table_:
            key = field.key
            if key not in values and key != field.name and field.name in values:
                key = field.name  # populate_by_name, as the SDK allows
            if key in values:
                value = values[key]
                field_values[field.name] = _copy(field.default) if value is None \
                    else field.build(value)
                fields_set.add(field.name)
            else:
                field_values[field.name] = _copy(field.default)
        extras = {key: (extra(value) if extra is not None else value)
                  for key, value in values.items() if key not in names}
        object.__setattr__(obj, "__dict__", field_values)
        object.__setattr__(obj, "__pydantic_private__", None)
        object.__setattr__(obj, "__pydantic_extra__", extras)
        object.__setattr__(obj, "__pydantic_fields_set__", fields_set)
        return obj

    def build(value: Any) -> Any:
        if isinstance(value, list):
            return [new(entry) if isinstance(entry, Mapping) else entry for entry in value]
        if isinstance(value, Mapping):
            return new(value)
        return value

    return build


def _copy(default: Any) -> Any:
    # Mutable defaults (``[]``) must not be shared between objects.
    return list(default) if type(default) is list else default


class _LazyBuilder:
    """A field's builder, resolved on the field's first value (forward references)."""

    __slots__ = ("_build", "_meta", "_type")

    def __init__(self, type_: Any, meta: tuple[Any, ...]) -> None:
        self._type, self._meta, self._build = type_, meta, cast(_Builder | None, None)

    def __call__(self, value: Any) -> Any:
        build = self._build
        if build is None:
            build = self._build = builder(self._type, self._meta)
        return build(value)


def _extra_type(cls: Any) -> Any:
    schema = cls.__pydantic_core_schema__
    if schema.get("type") == "model":
        inner = schema["schema"]
        if inner.get("type") == "model-fields":
            extras = inner.get("extras_schema")
            if extras and "cls" in extras:
                return extras["cls"]
    return None

