"""Tools and structured outputs, in one place: ``from oxide_rx.tools import tool``.

- :func:`tool` / :class:`Tool`: a strict function tool from a Python function's signature and
  docstring; its arguments come back as the parameters' types.
- :func:`strict_schema`: the strict JSON schema the API wants for a msgspec Struct, pydantic
  model, dataclass or TypedDict (the one generator tools and ``response_format`` use).
- :func:`partial_type`: the partial class behind typed ``parsed`` values (same fields, each
  optional).
- :func:`tool_output`: the text a tool's return value is sent back as.
- The runner: ``client.chat.completions.run_tools`` / ``client.responses.run_tools`` return a
  :class:`ChatToolRun` / :class:`ResponseToolRun`, a WebSocket session's (or lane's)
  ``run_tools`` a :class:`SessionToolRun`; their tools' events are
  :class:`~oxide_rx.ToolStarted` and :class:`~oxide_rx.ToolResult`.

>>> from oxide_rx.tools import tool
>>> @tool
... def add(a: int, b: int) -> int:
...     "Add two integers."
...     return a + b
>>> add.parameters["required"]
['a', 'b']
"""

from __future__ import annotations

from .._client.tool_runner import ToolRun
from .._client.tool_runs import ChatToolRun, ResponseToolRun, SessionToolRun
from .._core.partial import partial_type
from .._core.schema import strict_schema
from .._core.tools import Tool, ToolRunError, tool, tool_output
from ..events import ToolResult, ToolStarted

__all__ = [
    "ChatToolRun",
    "ResponseToolRun",
    "SessionToolRun",
    "Tool",
    "ToolResult",
    "ToolRun",
    "ToolRunError",
    "ToolStarted",
    "partial_type",
    "strict_schema",
    "tool",
    "tool_output",
]
