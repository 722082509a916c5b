"""JSON schemas for the API's strict mode: structured outputs and function tools, one generator.

``strict_schema(target)`` takes a msgspec Struct, a pydantic model, or anything msgspec can
describe (a dataclass, a TypedDict, an arguments Struct built by :func:`oxide_rx.tool`) and
returns the schema the API's strict mode accepts, as the official package's
``to_strict_json_schema`` shapes it: the root's own definition inlined, every object
``additionalProperties: false`` with every property required (an optional one is
``anyOf [T, null]``), nested types in ``$defs``, ``None`` defaults dropped, a ``$ref`` with
siblings (a description) unfolded, a one-entry ``allOf`` unwrapped.

>>> class City(msgspec.Struct):
...     name: str
...     country: str | None = None
>>> schema = strict_schema(City)
>>> schema["required"], schema["additionalProperties"], schema["properties"]["country"]
(['name', 'country'], False, {'anyOf': [{'type': 'string'}, {'type': 'null'}]})
"""

from __future__ import annotations

from typing import Any, TypeGuard

import msgspec

__all__ = [
    "apply_response_format",
    "apply_text_format",
    "is_schema_type",
    "response_format_param",
    "strict_schema",
    "text_format_param",
]


_JSON_TYPES = {str: "string", int: "integer", float: "number", bool: "boolean"}


def is_schema_type(value: object) -> TypeGuard[type[Any]]:
    """True for a msgspec Struct class or a pydantic model class."""
    if not isinstance(value, type):
        return False
    return issubclass(value, msgspec.Struct) or hasattr(value, "model_json_schema")


def strict_schema(target: type[Any]) -> dict[str, Any]:
    """The strict JSON schema of ``target``, with its own definition inlined at the root."""
    if hasattr(target, "model_json_schema"):
        schema: dict[str, Any] = target.model_json_schema()
    else:
        schema = msgspec.json.schema(target)
    root_ref = schema.get("$ref")
    if isinstance(root_ref, str):
        defs = schema.get("$defs", {})
        name = root_ref.rsplit("/", 1)[-1]
        root = dict(defs.pop(name))
        if defs:
            root["$defs"] = defs
        schema = root
    return _make_strict(schema, schema)


def _make_strict(node: dict[str, Any], root: dict[str, Any]) -> dict[str, Any]:
    """``node`` made strict in place (the rules in the module docstring); returns it."""
    for definitions in ("$defs", "definitions"):
        for definition in (node.get(definitions) or {}).values():
            _make_strict(definition, root)
    if node.get("type") == "object" and "additionalProperties" not in node:
        node["additionalProperties"] = False
    properties = node.get("properties")
    if isinstance(properties, dict):
        node["required"] = list(properties)
        for value in properties.values():
            _make_strict(value, root)
    if isinstance(node.get("items"), dict):
        _make_strict(node["items"], root)
    for variant in node.get("anyOf") or ():
        _make_strict(variant, root)
    all_of = node.get("allOf")
    if isinstance(all_of, list):
        if len(all_of) == 1:
            node.update(_make_strict(node.pop("allOf")[0], root))
        else:
            for entry in all_of:
                _make_strict(entry, root)
    enum_values = node.get("enum")
    if isinstance(enum_values, list) and "type" not in node:
        # msgspec leaves an enum's type implicit; say it, as pydantic does.
        kinds = {_JSON_TYPES.get(type(value)) for value in enum_values}
        if len(kinds) == 1 and None not in kinds:
            node["type"] = kinds.pop()
    if "default" in node and node["default"] is None:
        del node["default"]  # still nullable; the type's own default is None anyway
    ref = node.get("$ref")
    if isinstance(ref, str) and len(node) > 1:
        # The API rejects a $ref beside other keywords ({"$ref": ..., "description": ...}):
        # unfold the definition, this node's own keywords winning.
        resolved = root
        for key in ref.removeprefix("#/").split("/"):
            resolved = resolved[key]
        del node["$ref"]
        node.update({**resolved, **node})
        return _make_strict(node, root)
    return node


def response_format_param(target: type[Any]) -> dict[str, Any]:
    """Chat Completions ``response_format`` for a schema type.

    >>> class City(msgspec.Struct):
    ...     name: str
    >>> response_format_param(City)["json_schema"]["name"]
    'City'
    """
    return {
        "type": "json_schema",
        "json_schema": {"name": target.__name__, "schema": strict_schema(target), "strict": True},
    }


def text_format_param(target: type[Any]) -> dict[str, Any]:
    """Responses API ``text`` parameter for a schema type."""
    return {
        "format": {
            "type": "json_schema",
            "name": target.__name__,
            "schema": strict_schema(target),
            "strict": True,
        }
    }


def apply_response_format(params: dict[str, Any]) -> type[Any] | None:
    """Chat Completions request parameters: a ``response_format`` type becomes its strict
    JSON schema; returns the type (to parse the answer into), or ``None``."""
    response_format = params.get("response_format")
    if response_format is None or not is_schema_type(response_format):
        return None
    params["response_format"] = response_format_param(response_format)
    return response_format


def apply_text_format(params: dict[str, Any]) -> type[Any] | None:
    """Responses request parameters: a ``text_format`` type becomes the ``text.format`` JSON
    schema; returns the type (to parse the answer into), or ``None``."""
    text_format = params.pop("text_format", None)
    if text_format is None:
        return None
    if not is_schema_type(text_format):
        raise TypeError(
            "text_format must be a msgspec Struct or pydantic model class; pass a JSON schema "
            f"as text={{'format': ...}} instead (got {text_format!r})"
        )
    params["text"] = {**params.get("text", {}), **text_format_param(text_format)}
    return text_format
