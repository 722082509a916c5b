"""Structured outputs the official way: ``response_format`` / ``text_format`` types, strict tools.

A format type is a pydantic model (validated with ``model_validate_json``, as the official
package does), a msgspec Struct, or anything msgspec can decode into (dataclasses,
TypedDicts). pydantic is never imported here: a pydantic model is recognised by its methods.

>>> import msgspec
>>> class City(msgspec.Struct):
...     name: str
>>> parse_content(City, '{"name": "Paris"}')
City(name='Paris')
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any, TypeGuard

import msgspec

from ._core import response_format_param, strict_schema, text_format_param

__all__ = [
    "find_tool",
    "is_format_type",
    "is_parseable_tool",
    "parse_content",
    "parse_tool_arguments",
    "pydantic_function_tool",
    "request_tools",
    "response_format_param",
    "text_format_param",
    "validate_tools",
]


def is_format_type(value: object) -> TypeGuard[type[Any]]:
    """A class to parse into (a ``response_format`` dict is sent as it is, never parsed)."""
    return isinstance(value, type)


def parse_content(target: Any, text: str) -> Any:
    """Validate finished JSON ``text`` as ``target`` (errors are the validator's own)."""
    validate_json = getattr(target, "model_validate_json", None)
    if validate_json is not None:
        return validate_json(text)
    return msgspec.json.decode(text, type=target)


class _FunctionTool(dict[str, Any]):
    """The ``function`` of a tool made by :func:`pydantic_function_tool`: it knows its type."""

    def __init__(self, definition: dict[str, Any], model: type[Any]) -> None:
        super().__init__(definition)
        self.model = model


def pydantic_function_tool(
    model: type[Any], *, name: str | None = None, description: str | None = None
) -> dict[str, Any]:
    """A strict function tool whose arguments parse into ``model`` (pydantic or msgspec).

    >>> class GetWeather(msgspec.Struct):
    ...     city: str
    >>> pydantic_function_tool(GetWeather)["function"]["name"]
    'GetWeather'
    """
    definition: dict[str, Any] = {
        "name": name or model.__name__,
        "strict": True,
        "parameters": strict_schema(model),
    }
    text = description or model.__doc__
    if text:
        definition["description"] = text
    return {"type": "function", "function": _FunctionTool(definition, model)}


def request_tools(tools: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Tools as plain JSON data for the request body."""
    plain: list[dict[str, Any]] = []
    for tool in tools:
        item = dict(tool)
        if isinstance(item.get("function"), dict):
            item["function"] = dict(item["function"])
        plain.append(item)
    return plain


def find_tool(tools: Iterable[Mapping[str, Any]], name: str) -> Mapping[str, Any] | None:
    """The input tool definition (chat: its ``function``; Responses: itself) named ``name``."""
    for tool in tools:
        if tool.get("type") != "function":
            continue
        function = tool.get("function")
        if isinstance(function, Mapping):
            if function.get("name") == name:
                return function
        elif tool.get("name") == name:
            return tool
    return None


def parse_tool_arguments(tools: Iterable[Mapping[str, Any]], name: str, arguments: str) -> Any:
    """Arguments of a call to a strict (or typed) tool, parsed; ``None`` for other tools."""
    definition = find_tool(tools, name)
    if definition is None:
        return None
    model = getattr(definition, "model", None)
    if model is not None:
        return parse_content(model, arguments)
    if not definition.get("strict"):
        return None
    return json.loads(arguments)


def is_parseable_tool(tool: Mapping[str, Any]) -> bool:
    if tool.get("type") != "function":
        return False
    function = tool.get("function", tool)
    return getattr(function, "model", None) is not None or bool(function.get("strict"))


def validate_tools(tools: Iterable[Mapping[str, Any]]) -> None:
    """``parse()`` only takes strict function tools (the official rule)."""
    for tool in tools:
        if tool.get("type") != "function":
            raise ValueError(
                f"Currently only `function` tool types support auto-parsing; "
                f"Received `{tool.get('type')}`"
            )
        function = tool.get("function", {})
        if function.get("strict") is not True:
            raise ValueError(
                f"`{function.get('name')}` is not strict. Only `strict` function tools can be "
                "auto-parsed"
            )
