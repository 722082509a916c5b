"""``oxide-rx tui``: chat with a model in the terminal (needs the ``tui`` extra: Textual).

::

    pip install 'oxide_rx[tui]'
    oxide-rx tui                       # Chat Completions; offline on the mock without a key
    oxide-rx tui --api responses --model gpt-5.4-mini

The answer streams in as markdown (re-chunked into words by ``ox.ops.smooth`` and rendered at
a sampled rate by ``ox.ops.sample_ui``), tool calls build up in a panel and get a tick when
complete, refusals are styled, reasoning folds away, the footer shows time to first token and
tokens per second, and Esc stops the answer (``await stream.aclose()``). Each question is sent
with the conversation so far.

The pieces are reusable widgets: :class:`TurnView` shows one stream, :class:`ToolPanel` its
tool calls, :class:`MetricsBar` its metrics.

>>> from oxide_rx.ui.tui import ChatApp
>>> ChatApp(model="gpt-4o-mini").run()  # doctest: +SKIP
"""

from __future__ import annotations

from ._app import ChatApp
from ._footer import MetricsBar
from ._session import Connection, Conversation, connect
from ._tools import ToolCallRow, ToolPanel
from ._turn import TurnView

__all__ = [
    "ChatApp",
    "Connection",
    "Conversation",
    "MetricsBar",
    "ToolCallRow",
    "ToolPanel",
    "TurnView",
    "connect",
]
