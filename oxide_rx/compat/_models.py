"""openai-shaped result objects, built from API JSON (or from oxide_rx's wire Structs).

Every object the compat layer returns is a :class:`BaseModel` whose class is named after the
official type (``ChatCompletion``, ``ChatCompletionChunk``, ``Response``, ...) and whose fields
come from :mod:`._schema`. They behave like the official pydantic models:

- attribute access; a declared field the API did not send is ``None``; keys the type does not
  declare are kept too (``extra`` fields), readable as attributes;
- ``model_dump()`` / ``model_dump_json()``: every declared field in declaration order, then the
  extras; ``to_dict()`` / ``to_json()``: only what the API sent, with the API's key names;
- JSON text is formatted like pydantic's (compact, or indented; floats as pydantic writes them).

>>> completion = construct("ChatCompletion", {"id": "c1", "choices": [], "x_extra": 1})
>>> completion.id, completion.usage, completion.x_extra
('c1', None, 1)
>>> completion.to_json(indent=None)
'{"id":"c1","choices":[],"x_extra":1}'

No pydantic at import time: a ``parsed`` value that is a pydantic model is dumped through its own
``model_dump``; a msgspec Struct through ``msgspec.to_builtins``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any, ClassVar, Literal

import msgspec

from ._json import dump_json
from ._lazy import LAZY, LAZY_FIELDS, LazyField, value_of
from ._mixins import MIXINS
from ._schema import SCHEMA

__all__ = ["BaseModel", "construct", "dump_json", "instantiate", "model_class",
           "register_schema"]

Kind = tuple[Any, ...]
"""``("model", key)``, ``("list", kind | None)``, ``("union", {tag: key})`` or ``("float",)``."""


class _Spec:
    """The fields of one type: attribute names, API keys and how to build each value."""

    __slots__ = ("api_keys", "attrs", "builders", "by_key", "items", "kinds", "name", "plain")

    def __init__(self, name: str, fields: list[tuple[str, str, Kind | None]]) -> None:
        self.name = name
        self.items = tuple((attr, key) for attr, key, _ in fields)
        self.kinds = {attr: kind for attr, _, kind in fields if kind is not None}
        self.api_keys = frozenset(key for _, key, _ in fields)
        self.attrs = frozenset(attr for attr, _, _ in fields)
        self.by_key = {key: attr for attr, key, _ in fields}
        self.plain = all(attr == key for attr, key, _ in fields)
        """Every attribute is named as its API key: API data can be copied in as it is."""
        self.builders = {attr: _builder(kind) for attr, kind in self.kinds.items()}


def _parse_kind(text: str) -> Kind | None:
    if not text:
        return None
    if text == "float":
        return ("float",)
    if text.startswith("["):
        return ("list", _parse_kind(text[1:-1]))
    if text.startswith("{"):
        return ("union", dict(part.split("=", 1) for part in text[1:-1].split(",")))
    return ("model", text)


def _parse_schema(text: str) -> dict[str, _Spec]:
    specs: dict[str, _Spec] = {}
    for line in text.splitlines():
        key, _, body = line.partition(" | ")
        fields: list[tuple[str, str, Kind | None]] = []
        for token in body.split():
            head, _, kind = token.partition(":")
            attr, _, alias = head.partition("=")
            fields.append((attr, alias or attr, _parse_kind(kind)))
        name = key.rsplit(".", 1)[-1]
        specs[key] = _Spec(name, fields)
    return specs


_EMPTY: dict[str, Any] = {}


def _builder(kind: Kind) -> Callable[[Any], Any]:
    """How to turn one non-null API value of ``kind`` into its attribute value."""
    tag = kind[0]
    if tag == "model":
        key: str = kind[1]

        make: Callable[[Mapping[str, Any]], Any] | None = None

        def build_model(value: Any) -> Any:
            nonlocal make
            if type(value) is dict or (
                    isinstance(value, Mapping) and not isinstance(value, BaseModel)):
                if make is None:
                    make = _constructor(model_class(key))
                return make(value)
            return value

        return build_model
    if tag == "list":
        if kind[1] is None:
            return _same
        inner = _builder(kind[1])

        def build_list(value: Any) -> Any:
            if type(value) is not list:
                return value
            return [None if item is None else inner(item) for item in value]

        return build_list
    if tag == "float":
        return _as_float
    tags: dict[str, str] = kind[1]

    def build_union(value: Any) -> Any:
        if isinstance(value, Mapping) and not isinstance(value, BaseModel):
            tag = value.get("type")
            key = tags.get(tag, "UnknownObject") if isinstance(tag, str) else "UnknownObject"
            return model_class(key).construct(value)
        return value

    return build_union


def _same(value: Any) -> Any:
    return value


def _as_float(value: Any) -> Any:
    return float(value) if type(value) is int else value


_SPECS = _parse_schema(SCHEMA)
_SPECS["UnknownObject"] = _Spec("UnknownObject", [])


def register_schema(text: str) -> None:
    """Declare more types, in :mod:`._schema`'s format (the WebSocket events do)."""
    _SPECS.update(_parse_schema(text))
_CLASSES: dict[str, type[BaseModel]] = {}


class BaseModel:
    """Base of every openai-shaped object (the official ``openai.BaseModel`` surface).

    An object's ``__dict__`` holds the fields the API sent (its ``model_fields_set``) and,
    under ``_extra``, the keys its type does not declare; a declared field that was not sent
    reads as ``None`` from a class attribute. So building one from API data is a dict copy.

    >>> usage = construct("CompletionUsage", {"prompt_tokens": 1, "completion_tokens": 2,
    ...                                       "total_tokens": 3})
    >>> usage.model_dump()["prompt_tokens_details"] is None
    True
    """

    _spec: ClassVar[_Spec] = _SPECS["UnknownObject"]

    def __init__(self, **data: Any) -> None:
        attrs = {attr: key for attr, key in self._spec.items}
        renamed = {attrs.get(k, k): v for k, v in data.items()}
        api = {key: renamed[attr] for attr, key in self._spec.items if attr in renamed}
        api.update({k: v for k, v in data.items() if k not in attrs and k not in api})
        self._fill(api)

    @classmethod
    def construct(cls, data: Mapping[str, Any]) -> Any:
        """Build from API data without validation (what the official client does)."""
        return _constructor(cls)(data)

    model_construct = construct

    @classmethod
    def model_validate(cls, data: Mapping[str, Any]) -> Any:
        return cls.construct(data)

    def __class_getitem__(cls, item: Any) -> type[BaseModel]:
        # ``ParsedChatCompletion[MyModel]`` in annotations: the class itself.
        return cls

    def _fill(self, data: Mapping[str, Any]) -> None:
        spec = self._spec
        values = self.__dict__
        by_key = spec.by_key
        builders = spec.builders
        extra: dict[str, Any] = {}
        for key, value in data.items():
            attr = by_key.get(key)
            if attr is None:
                extra[key] = value
            elif value is None or attr not in builders:
                values[attr] = value
            else:
                values[attr] = builders[attr](value)
        if extra:
            values["_extra"] = extra

    # -- attribute access ------------------------------------------------------------------

    @property
    def _extra(self) -> dict[str, Any]:
        extra: dict[str, Any] = self.__dict__.get("_extra", _EMPTY)
        return extra

    def __getattr__(self, name: str) -> Any:
        extra = self.__dict__.get("_extra")
        if extra is not None and name in extra:
            return extra[name]
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def __setattr__(self, name: str, value: Any) -> None:
        if name.startswith("_"):
            object.__setattr__(self, name, value)
        elif name in self._spec.attrs:
            self.__dict__[name] = value
        else:
            self.__dict__.setdefault("_extra", {})[name] = value

    def __iter__(self) -> Iterator[tuple[str, Any]]:
        values = self.__dict__
        for attr, _ in self._spec.items:
            yield attr, value_of(values, attr)
        yield from self._extra.items()

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, BaseModel) or type(other) is not type(self):
            return NotImplemented
        return self.model_dump() == other.model_dump()

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        body = ", ".join(f"{name}={value!r}" for name, value in self)
        return f"{type(self).__name__}({body})"

    __str__ = __repr__

    @property
    def model_fields_set(self) -> set[str]:
        values = self.__dict__
        return {attr for attr, _ in self._spec.items if attr in values} | set(self._extra)

    @property
    def model_extra(self) -> dict[str, Any]:
        extra: dict[str, Any] = self.__dict__.setdefault("_extra", {})
        return extra

    def model_copy(self, *, update: Mapping[str, Any] | None = None, deep: bool = False) -> Any:
        data = self.to_dict(mode="python") if deep else dict(self._api_items())
        copy = type(self).construct({**data, **(update or {})})
        return copy

    # -- dumping ---------------------------------------------------------------------------

    def _api_items(self) -> Iterator[tuple[str, Any]]:
        values = self.__dict__
        for attr, key in self._spec.items:
            if attr in values:
                yield key, value_of(values, attr)
        yield from self._extra.items()

    def model_dump(
        self,
        *,
        mode: Literal["json", "python"] | str = "python",
        by_alias: bool | None = None,
        exclude_unset: bool = False,
        exclude_defaults: bool = False,
        exclude_none: bool = False,
        include: Any = None,
        exclude: Any = None,
        **_: Any,
    ) -> dict[str, Any]:
        """Every declared field (``None`` when absent), then the extras; nested objects too.

        ``include`` / ``exclude`` take pydantic's forms: a set of names, or a dict of name to
        ``True`` or to a nested selection (list items by index or ``"__all__"``).
        """
        options = _DumpOptions(mode, bool(by_alias), exclude_unset, exclude_defaults, exclude_none)
        data = self._dump(options)
        if include is None and exclude is None:
            return data
        selected: dict[str, Any] = _select(data, include, exclude)
        return selected

    def _dump(self, options: _DumpOptions) -> dict[str, Any]:
        out: dict[str, Any] = {}
        values = self.__dict__
        skip_none = options.exclude_none or options.exclude_defaults
        for attr, key in self._spec.items:
            if options.exclude_unset and attr not in values:
                continue
            value = value_of(values, attr)
            if value is None and skip_none:
                continue
            out[key if options.by_alias else attr] = _dump(value, options)
        for key, value in self._extra.items():
            if value is None and options.exclude_none:
                continue
            out[key] = _dump(value, options)
        return out

    def model_dump_json(
        self,
        *,
        indent: int | None = None,
        by_alias: bool | None = None,
        exclude_unset: bool = False,
        exclude_defaults: bool = False,
        exclude_none: bool = False,
        include: Any = None,
        exclude: Any = None,
        **_: Any,
    ) -> str:
        """``model_dump(mode="json")`` as JSON text, formatted like pydantic's."""
        data = self.model_dump(mode="json", by_alias=by_alias, exclude_unset=exclude_unset,
                               exclude_defaults=exclude_defaults, exclude_none=exclude_none,
                               include=include, exclude=exclude)
        return dump_json(data, indent)

    def to_dict(
        self,
        *,
        mode: Literal["json", "python"] = "python",
        use_api_names: bool = True,
        exclude_unset: bool = True,
        exclude_defaults: bool = False,
        exclude_none: bool = False,
        warnings: bool = True,
    ) -> dict[str, Any]:
        """What the API sent, with the API's key names (the official ``to_dict``)."""
        return self.model_dump(mode=mode, by_alias=use_api_names, exclude_unset=exclude_unset,
                               exclude_defaults=exclude_defaults, exclude_none=exclude_none)

    def to_json(
        self,
        *,
        indent: int | None = 2,
        use_api_names: bool = True,
        exclude_unset: bool = True,
        exclude_defaults: bool = False,
        exclude_none: bool = False,
        warnings: bool = True,
    ) -> str:
        """``to_dict()`` as JSON text (indented by 2 by default, as the official one)."""
        return self.model_dump_json(indent=indent, by_alias=use_api_names,
                                    exclude_unset=exclude_unset,
                                    exclude_defaults=exclude_defaults, exclude_none=exclude_none)


def _pick(selection: Any, key: Any) -> Any:
    """The sub-selection for ``key``: ``True`` (all of it), a nested selection, or ``None``."""
    if selection is None or selection is True:
        return selection
    if isinstance(selection, (set, frozenset, list, tuple)):
        return True if key in selection or "__all__" in selection else None
    if isinstance(selection, Mapping):
        if key in selection:
            return selection[key]
        return selection.get("__all__")
    return None


def _select(data: Any, include: Any, exclude: Any) -> Any:
    """Apply pydantic-style ``include`` / ``exclude`` selections to dumped data."""
    if isinstance(data, dict):
        items: Any = data.items()
    elif isinstance(data, list):
        items = enumerate(data)
    else:
        return data
    picked: list[tuple[Any, Any]] = []
    for key, value in items:
        inner_include = _pick(include, key)
        inner_exclude = _pick(exclude, key)
        if include is not None and include is not True and inner_include is None:
            continue
        if inner_exclude is True:
            continue
        picked.append((key, _select(value, None if inner_include is True else inner_include,
                                    inner_exclude)))
    if isinstance(data, dict):
        return dict(picked)
    return [value for _, value in picked]


class _DumpOptions:
    __slots__ = ("by_alias", "exclude_defaults", "exclude_none", "exclude_unset", "mode")

    def __init__(self, mode: str, by_alias: bool, exclude_unset: bool, exclude_defaults: bool,
                 exclude_none: bool) -> None:
        self.mode = mode
        self.by_alias = by_alias
        self.exclude_unset = exclude_unset
        self.exclude_defaults = exclude_defaults
        self.exclude_none = exclude_none


def _dump(value: Any, options: _DumpOptions) -> Any:
    if value is None or isinstance(value, (str, int, float)):
        return value
    if isinstance(value, BaseModel):
        return value._dump(options)
    if isinstance(value, list):
        return [_dump(item, options) for item in value]
    if isinstance(value, dict):
        return {key: _dump(item, options) for key, item in value.items()}
    if isinstance(value, msgspec.Struct):
        return msgspec.to_builtins(value)
    user_dump = getattr(value, "model_dump", None)
    if user_dump is not None:  # a pydantic model the user asked to parse into
        return user_dump(mode=options.mode, by_alias=options.by_alias,
                         exclude_unset=options.exclude_unset, exclude_none=options.exclude_none)
    if options.mode == "json":
        return msgspec.to_builtins(value)
    return value


def model_class(key: str) -> type[BaseModel]:
    """The class for a schema key (``"ChatCompletion"``, ``"chunk.Choice"``, ...)."""
    cls = _CLASSES.get(key)
    if cls is None:
        spec = _SPECS[key]
        bases: tuple[type, ...] = (*MIXINS.get(key, ()), BaseModel)
        namespace: dict[str, Any] = {"_spec": spec, "__module__": "oxide_rx.compat.types",
                                     "__slots__": ()}
        # A field that was not sent reads as None; one that may be deferred computes itself.
        namespace.update(dict.fromkeys(spec.attrs))
        namespace.update({attr: LazyField(attr) for attr in LAZY.get(key, ())})
        # setdefault: a synchronous client's thread may build the same class at once.
        cls = _CLASSES.setdefault(
            key, type(spec.name, bases, {**namespace, "__qualname__": spec.name}))
        if key in LAZY:
            LAZY_FIELDS[cls] = LAZY[key]
    return cls


def construct(key: str, data: Mapping[str, Any]) -> Any:
    """An object of the schema type ``key`` from API data (a ``dict`` decoded from JSON)."""
    return _constructor(model_class(key))(data)


def instantiate(cls: type[BaseModel], values: dict[str, Any]) -> Any:
    """An object of ``cls`` whose attribute values are given as they are: nested objects
    already built, or :class:`Deferred`. What the stream converters use per event."""
    self = object.__new__(cls)
    self.__dict__.update(values)
    return self


_CONSTRUCTORS: dict[type[BaseModel], Callable[[Mapping[str, Any]], Any]] = {}


def _constructor(cls: type[BaseModel]) -> Callable[[Mapping[str, Any]], Any]:
    """``cls.construct`` as one function: building objects is the compat layer's hot path.

    When every key of the data is declared under its own name (nearly always), the data is
    copied into the new object's ``__dict__`` in one step and only fields holding nested
    objects are converted.
    """
    make = _CONSTRUCTORS.get(cls)
    if make is not None:
        return make
    spec = cls._spec
    new = object.__new__
    api_keys = spec.api_keys if spec.plain else frozenset()
    builders = tuple(spec.builders.items())

    def construct(data: Mapping[str, Any]) -> Any:
        self = new(cls)
        if api_keys.issuperset(data):
            values = self.__dict__
            values.update(data)
            for attr, build in builders:
                value = values.get(attr)
                if value is not None:
                    values[attr] = build(value)
        else:
            self._fill(data)
        return self

    return _CONSTRUCTORS.setdefault(cls, construct)
