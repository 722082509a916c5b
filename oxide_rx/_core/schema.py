"""Structured outputs: from a msgspec Struct or pydantic model to the API's strict JSON schema.

The API's strict mode wants an object at the root, every property required and
``additionalProperties: false`` on every object; both schema generators need that added.
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
    _make_strict(schema)
    return schema


def _make_strict(node: Any) -> None:
    if isinstance(node, dict):
        if node.get("type") == "object" and "properties" in node:
            node["additionalProperties"] = False
            node["required"] = list(node["properties"])
        for value in node.values():
            _make_strict(value)
    elif isinstance(node, list):
        for value in node:
            _make_strict(value)


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
