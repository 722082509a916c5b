"""Tools from functions: ``ox.tool(func)`` reads a signature and a docstring into a strict
function tool, and turns the model's arguments back into the parameters' types.

Each parameter becomes a property of the arguments object (its type from the annotation, its
description from the docstring's ``Args:`` / ``Parameters`` / ``:param name:`` entry); the
function's description is the docstring's text before those sections. The arguments type is a
msgspec Struct built from the signature, or a pydantic model when a parameter's type involves
one (pydantic validates pydantic models; msgspec cannot), so the schema and the decoding both
come from one type: :func:`~oxide_rx._core.schema.strict_schema`, the generator structured
outputs use. Supported annotations: builtins (``str``, ``int``, ``float``, ``bool``, ``list``,
``dict`` ...), ``Literal``, ``Enum``, ``Optional`` / ``X | None``, msgspec Structs,
dataclasses, TypedDicts, pydantic models (not mixed with Structs in one function).

Sans-IO: a :class:`Tool` describes and decodes; running it (threads, timeouts, concurrency) is
the tool runner's job (``oxide_rx/_client/tool_runner.py``).
"""

from __future__ import annotations

import enum
import inspect
import re
import typing
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Generic, TypeVar, overload

import msgspec

from .._exceptions import DecodeError, OxideRxError
from .parsing import parse_as
from .schema import strict_schema

__all__ = ["Tool", "ToolRunError", "prepare_tools", "tool", "tool_output"]

_R = TypeVar("_R")

_SECTION = re.compile(
    r"^\s*(Args|Arguments|Parameters|Params|Returns?|Yields?|Raises|Examples?|Notes?)\s*:?\s*$",
    re.IGNORECASE,
)
_GOOGLE_ENTRY = re.compile(r"^\s{0,8}(\*{0,2}\w+)\s*(?:\([^)]*\))?\s*:\s*(.*)$")
_SPHINX_PARAM = re.compile(r"^\s*:param\s+(?:[^:]*\s)?(\w+)\s*:\s*(.*)$")
_NUMPY_ENTRY = re.compile(r"^(\w+)\s*(?::.*)?$")


class ToolRunError(OxideRxError):
    """A tool run stopped: ``max_rounds`` model requests still asked for tools, or a tool
    raised under ``on_tool_error="raise"`` (the tool's exception is the ``__cause__``).
    ``partial`` is the last round's completion / response; ``round`` the round it stopped in.
    """

    def __init__(self, message: str, *, round: int, tool: str | None = None) -> None:
        super().__init__(message)
        self.round = round
        self.tool = tool


def _split_docstring(doc: str) -> tuple[str, dict[str, str]]:
    """(the description, {parameter: its description}) from a Google, NumPy or Sphinx
    style docstring."""
    lines = inspect.cleandoc(doc).splitlines()
    summary: list[str] = []
    params: dict[str, list[str]] = {}
    section: str | None = None
    current: str | None = None
    index = 0
    while index < len(lines):
        line = lines[index]
        index += 1
        sphinx = _SPHINX_PARAM.match(line)
        if sphinx:
            current, section = sphinx.group(1), "sphinx"
            params[current] = [sphinx.group(2).strip()]
            continue
        if line.lstrip().startswith(":"):
            current, section = None, "other"  # :returns:, :raises: ...
            continue
        header = _SECTION.match(line)
        if header:
            section = "params" if header.group(1).lower().startswith(("arg", "param")) else "other"
            current = None
            if index < len(lines) and set(lines[index].strip()) == {"-"}:
                index += 1  # NumPy underline
            continue
        if section is None:
            summary.append(line)
        elif section in ("params", "sphinx"):
            entry = _GOOGLE_ENTRY.match(line) if line[:1].isspace() else None
            numpy = _NUMPY_ENTRY.match(line) if not line[:1].isspace() else None
            if entry and section == "params":
                current = entry.group(1).lstrip("*")
                params[current] = [entry.group(2).strip()]
            elif numpy and section == "params" and line.strip():
                current = numpy.group(1)
                params[current] = []
            elif current is not None and line.strip():
                params[current].append(line.strip())
    description = "\n".join(summary).strip()
    return description, {name: " ".join(p for p in text if p) for name, text in params.items()}


def _involves_pydantic(annotation: Any) -> bool:
    if isinstance(annotation, type) and hasattr(annotation, "model_validate_json"):
        return True
    return any(_involves_pydantic(arg) for arg in typing.get_args(annotation))


def _involves_struct(annotation: Any) -> bool:
    if isinstance(annotation, type) and issubclass(annotation, msgspec.Struct):
        return True
    return any(_involves_struct(arg) for arg in typing.get_args(annotation))


def _type_name(function_name: str) -> str:
    return "".join(part.title() for part in function_name.split("_") if part) + "Arguments"


class Tool(Generic[_R]):
    """A strict function tool built from a Python function (see :func:`tool`).

    Calling the tool calls the function. ``name``, ``description`` and ``parameters`` (the
    strict JSON schema) are what the model sees; :meth:`chat_param` / :meth:`responses_param`
    are the request entries; :meth:`parse_arguments` turns the model's JSON into the
    keyword arguments, each of its parameter's type.

    >>> from typing import Literal
    >>> def get_weather(city: str, unit: Literal["c", "f"] = "c") -> str:
    ...     '''Current weather for a city.
    ...
    ...     Args:
    ...         city: The city's name, in English.
    ...     '''
    ...     return f"18 °{unit.upper()} in {city}"
    >>> weather = tool(get_weather)
    >>> weather.parameters["properties"]["city"]
    {'description': "The city's name, in English.", 'type': 'string'}
    >>> weather.parse_arguments('{"city": "Paris", "unit": "f"}')
    {'city': 'Paris', 'unit': 'f'}
    """

    def __init__(
        self,
        function: Callable[..., _R],
        *,
        name: str | None = None,
        description: str | None = None,
    ) -> None:
        self.function = function
        self.name: str = name or function.__name__
        doc_description, param_docs = _split_docstring(inspect.getdoc(function) or "")
        self.description: str = doc_description if description is None else description
        self.is_async: bool = inspect.iscoroutinefunction(inspect.unwrap(function))
        self._names = tuple(inspect.signature(function).parameters)
        self.arguments_type: type[Any] = _arguments_type(function, self.name, param_docs)
        """The type the arguments decode into (a msgspec Struct or a pydantic model)."""
        self.parameters: dict[str, Any] = strict_schema(self.arguments_type)
        self.parameters.pop("title", None)
        self.parameters.pop("description", None)

    def __call__(self, *args: Any, **kwargs: Any) -> _R:
        return self.function(*args, **kwargs)

    def __repr__(self) -> str:
        return f"Tool({self.name!r})"

    def chat_param(self) -> dict[str, Any]:
        """The Chat Completions ``tools`` entry."""
        function: dict[str, Any] = {"name": self.name, "parameters": self.parameters,
                                    "strict": True}
        if self.description:
            function["description"] = self.description
        return {"type": "function", "function": function}

    def responses_param(self) -> dict[str, Any]:
        """The Responses API ``tools`` entry."""
        return {"type": "function", **self.chat_param()["function"]}

    def parse_arguments(self, text: str) -> dict[str, Any]:
        """The keyword arguments for the function from the model's JSON ``text``, each value
        of its parameter's type; :class:`~oxide_rx.DecodeError` when the text is not valid
        JSON or does not validate."""
        return self.keywords(parse_as(self.arguments_type, text or "{}"))

    def keywords(self, arguments: Any) -> dict[str, Any]:
        """The keyword arguments held by an instance of :attr:`arguments_type`."""
        return {name: getattr(arguments, name) for name in self._names}


def _arguments_type(
    function: Callable[..., Any], name: str, docs: Mapping[str, str]
) -> type[Any]:
    signature = inspect.signature(function)
    try:
        hints = typing.get_type_hints(function, include_extras=True)
    except NameError as exc:
        raise TypeError(
            f"tool {name!r}: an annotation names a type that cannot be found ({exc}); with "
            "postponed annotations, define the types a tool uses at module level"
        ) from exc
    fields: list[tuple[str, Any, Any]] = []
    for parameter in signature.parameters.values():
        if parameter.kind not in (parameter.POSITIONAL_OR_KEYWORD, parameter.KEYWORD_ONLY):
            raise TypeError(
                f"tool {name!r}: parameter {parameter.name!r} is {parameter.kind.description}; "
                "a tool's parameters must be passable by keyword (no *args, **kwargs or "
                "positional-only parameters)"
            )
        if parameter.name not in hints:
            raise TypeError(
                f"tool {name!r}: parameter {parameter.name!r} has no type annotation; the "
                "schema is built from the annotations"
            )
        if parameter.name.startswith("_"):
            raise TypeError(f"tool {name!r}: parameter {parameter.name!r} starts with '_'")
        fields.append((parameter.name, hints[parameter.name], parameter.default))
    annotations = [annotation for _, annotation, _ in fields]
    if any(_involves_pydantic(a) for a in annotations):
        if any(_involves_struct(a) for a in annotations):
            raise TypeError(
                f"tool {name!r}: mixes pydantic models and msgspec Structs in its parameters; "
                "use one kind per tool"
            )
        return _pydantic_arguments(name, fields, docs)
    struct_fields: list[tuple[str, Any] | tuple[str, Any, Any]] = []
    for field_name, annotation, default in fields:
        if docs.get(field_name):
            annotation = typing.Annotated[annotation, msgspec.Meta(description=docs[field_name])]
        if default is inspect.Parameter.empty:
            struct_fields.append((field_name, annotation))
        else:
            struct_fields.append((field_name, annotation, msgspec.field(default=default)))
    return msgspec.defstruct(
        _type_name(name), struct_fields, kw_only=True, forbid_unknown_fields=True,
        module=getattr(function, "__module__", None),
    )


def _pydantic_arguments(
    name: str, fields: Iterable[tuple[str, Any, Any]], docs: Mapping[str, str]
) -> type[Any]:
    import pydantic  # only reached when a parameter's type is a pydantic model

    definitions: dict[str, Any] = {}
    for field_name, annotation, default in fields:
        value = ... if default is inspect.Parameter.empty else default
        definitions[field_name] = (
            annotation, pydantic.Field(value, description=docs.get(field_name) or None)
        )
    model: type[Any] = pydantic.create_model(
        _type_name(name), __config__=pydantic.ConfigDict(extra="forbid"), **definitions
    )
    return model


@overload
def tool(function: Callable[..., _R], /) -> Tool[_R]: ...
@overload
def tool(
    *, name: str | None = None, description: str | None = None
) -> Callable[[Callable[..., _R]], Tool[_R]]: ...
def tool(
    function: Callable[..., _R] | None = None,
    /,
    *,
    name: str | None = None,
    description: str | None = None,
) -> Tool[_R] | Callable[[Callable[..., _R]], Tool[_R]]:
    """A strict function tool from ``function``'s signature and docstring; also a decorator
    (``@ox.tool`` or ``@ox.tool(name=..., description=...)``).

    Pass the tool in ``tools=[...]`` of ``create_stream`` (its arguments then parse into its
    types, partial ones included) or of ``run_tools`` (which also runs it).

    >>> @tool
    ... def add(a: int, b: int) -> int:
    ...     "Add two integers."
    ...     return a + b
    >>> add.chat_param()["function"]["description"], add(2, 3)
    ('Add two integers.', 5)
    """
    if function is None:
        def decorate(inner: Callable[..., _R]) -> Tool[_R]:
            return Tool(inner, name=name, description=description)

        return decorate
    return Tool(function, name=name, description=description)


def _encode_hook(value: Any) -> Any:
    dump = getattr(value, "model_dump", None)
    if dump is not None:
        return dump(mode="json")
    if isinstance(value, enum.Enum):
        return value.value
    raise NotImplementedError(f"cannot send a {type(value).__name__} to the model as JSON")


def tool_output(value: Any) -> str:
    """The text sent back to the model for a tool's return value: a string as it is, anything
    else as JSON (Structs, dataclasses, pydantic models, ...).

    >>> tool_output("18 °C"), tool_output({"temperature": 18})
    ('18 °C', '{"temperature":18}')
    """
    if isinstance(value, str):
        return value
    try:
        return msgspec.json.encode(value, enc_hook=_encode_hook).decode()
    except (TypeError, NotImplementedError) as exc:
        raise DecodeError(f"The tool's result cannot be sent as JSON: {exc}") from exc


def prepare_tools(params: dict[str, Any], api: str) -> dict[str, Tool[Any]]:
    """Request parameters: every :class:`Tool` in ``params["tools"]`` becomes its request
    entry (``api``: ``"chat"`` or ``"responses"``); returns them by name."""
    tools = params.get("tools")
    if not tools:
        return {}
    found: dict[str, Tool[Any]] = {}
    entries: list[Any] = []
    for entry in tools:
        if isinstance(entry, Tool):
            found[entry.name] = entry
            entries.append(entry.chat_param() if api == "chat" else entry.responses_param())
        else:
            entries.append(entry)
    if found:
        params["tools"] = entries
    return found

