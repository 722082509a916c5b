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

from collections.abc import AsyncIterator, Iterator, Mapping
from typing import Any, ClassVar, Literal

import msgspec

from ._json import dump_json
from ._schema import SCHEMA

__all__ = ["BaseModel", "construct", "dump_json", "model_class"]

Kind = tuple[Any, ...]
"""``("model", key)``, ``("list", kind | None)``, ``("union", {tag: key})`` or ``("float",)``."""


class _Spec:
    """The fields of one type: attribute names, API keys and how to build each value."""

    __slots__ = ("api_keys", "items", "kinds", "name")

    def __init__(self, name: str, fields: list[tuple[str, str, Kind | None]]) -> None:
        self.name = name
        self.items = tuple((attr, key) for attr, key, _ in fields)
        self.kinds = {attr: kind for attr, _, kind in fields if kind is not None}
        self.api_keys = frozenset(key for _, key, _ in fields)


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


_SPECS = _parse_schema(SCHEMA)
_SPECS["UnknownObject"] = _Spec("UnknownObject", [])
_CLASSES: dict[str, type[BaseModel]] = {}


class BaseModel:
    """Base of every openai-shaped object (the official ``openai.BaseModel`` surface).

    >>> usage = construct("CompletionUsage", {"prompt_tokens": 1, "completion_tokens": 2,
    ...                                       "total_tokens": 3})
    >>> usage.model_dump()["prompt_tokens_details"] is None
    True
    """

    _spec: ClassVar[_Spec] = _SPECS["UnknownObject"]
    _fields_set: set[str]
    _extra: dict[str, Any]

    def __init__(self, **data: Any) -> None:
        attrs = {attr: key for attr, key in self._spec.items}
        renamed = {attrs.get(k, k): v for k, v in data.items()}
        api = {key: renamed[attr] for attr, key in self._spec.items if attr in renamed}
        api.update({k: v for k, v in data.items() if k not in attrs and k not in api})
        self._fill(api)

    @classmethod
    def construct(cls, data: Mapping[str, Any]) -> Any:
        """Build from API data without validation (what the official client does)."""
        self = object.__new__(cls)
        self._fill(data)
        return self

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
        kinds = spec.kinds
        found: set[str] = set()
        for attr, key in spec.items:
            if key in data:
                value = data[key]
                kind = kinds.get(attr)
                values[attr] = value if kind is None or value is None else _build(kind, value)
                found.add(attr)
            else:
                values[attr] = None
        extra: dict[str, Any] = {}
        if len(data) > len(found):
            extra = {k: v for k, v in data.items() if k not in spec.api_keys}
        object.__setattr__(self, "_fields_set", found)
        object.__setattr__(self, "_extra", extra)

    # -- attribute access ------------------------------------------------------------------

    def __getattr__(self, name: str) -> Any:
        extra = self.__dict__.get("_extra")
        if extra is not None and name in extra:
            return extra[name]
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def __setattr__(self, name: str, value: Any) -> None:
        if name.startswith("_"):
            object.__setattr__(self, name, value)
        elif name in self.__dict__:
            self.__dict__[name] = value
            self._fields_set.add(name)
        else:
            self._extra[name] = value

    def __iter__(self) -> Iterator[tuple[str, Any]]:
        for attr, _ in self._spec.items:
            yield attr, self.__dict__[attr]
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
        return set(self._fields_set) | set(self._extra)

    @property
    def model_extra(self) -> dict[str, Any]:
        return self._extra

    def model_copy(self, *, update: Mapping[str, Any] | None = None, deep: bool = False) -> Any:
        data = self.to_dict(mode="python") if deep else dict(self._api_items())
        copy = type(self).construct({**data, **(update or {})})
        return copy

    # -- dumping ---------------------------------------------------------------------------

    def _api_items(self) -> Iterator[tuple[str, Any]]:
        values = self.__dict__
        for attr, key in self._spec.items:
            if attr in self._fields_set:
                yield key, values[attr]
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
        fields_set = self._fields_set
        skip_none = options.exclude_none or options.exclude_defaults
        for attr, key in self._spec.items:
            if options.exclude_unset and attr not in fields_set:
                continue
            value = values[attr]
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


def _build(kind: Kind, value: Any) -> Any:
    tag = kind[0]
    if tag == "model":
        if isinstance(value, Mapping) and not isinstance(value, BaseModel):
            return model_class(kind[1]).construct(value)
        return value
    if tag == "list":
        inner = kind[1]
        if inner is None or not isinstance(value, list):
            return value
        return [None if item is None else _build(inner, item) for item in value]
    if tag == "float":
        return float(value) if type(value) is int else value
    if isinstance(value, Mapping) and not isinstance(value, BaseModel):
        key = kind[1].get(value.get("type"), "UnknownObject")
        return model_class(key).construct(value)
    return value


def model_class(key: str) -> type[BaseModel]:
    """The class for a schema key (``"ChatCompletion"``, ``"chunk.Choice"``, ...)."""
    cls = _CLASSES.get(key)
    if cls is None:
        spec = _SPECS[key]
        bases: tuple[type, ...] = (*_MIXINS.get(key, ()), BaseModel)
        namespace = {"_spec": spec, "__module__": "oxide_rx.compat.types", "__slots__": ()}
        cls = _CLASSES[key] = type(spec.name, bases, {**namespace, "__qualname__": spec.name})
    return cls


def construct(key: str, data: Mapping[str, Any]) -> Any:
    """An object of the schema type ``key`` from API data (a ``dict`` decoded from JSON)."""
    return model_class(key).construct(data)


class _ResponseText:
    """``Response.output_text``: every ``output_text`` part of every message, joined."""

    __slots__ = ()

    @property
    def output_text(self) -> str:
        texts: list[str] = []
        for item in getattr(self, "output", None) or []:
            if getattr(item, "type", None) == "message":
                for part in getattr(item, "content", None) or []:
                    if getattr(part, "type", None) == "output_text":
                        texts.append(part.text)
        return "".join(texts)


class _ParsedOutput:
    """``ParsedResponse.output_parsed``: the first parsed ``output_text``."""

    __slots__ = ()

    @property
    def output_parsed(self) -> Any:
        for item in getattr(self, "output", None) or []:
            if getattr(item, "type", None) == "message":
                for part in getattr(item, "content", None) or []:
                    parsed = getattr(part, "parsed", None)
                    if getattr(part, "type", None) == "output_text" and parsed:
                        return parsed
        return None


class _Page:
    """``SyncPage`` / ``AsyncPage``: iterating yields the items (the official pages do)."""

    __slots__ = ()

    def __iter__(self) -> Iterator[Any]:
        return iter(getattr(self, "data", None) or [])

    async def __aiter__(self) -> AsyncIterator[Any]:
        for item in getattr(self, "data", None) or []:
            yield item

    def has_next_page(self) -> bool:
        return False


_MIXINS: dict[str, tuple[type, ...]] = {
    "Response": (_ResponseText,),
    "ParsedResponse": (_ResponseText, _ParsedOutput),
    "SyncPage": (_Page,),
    "AsyncPage": (_Page,),
}
