"""The tool-call panel: one row per call, arguments building up, a tick when complete."""

from __future__ import annotations

from rich.text import Text
from textual.containers import Vertical
from textual.widgets import Static

import oxide_rx as ox

__all__ = ["ToolCallRow", "ToolPanel"]

_Key = tuple[int, "int | None", int]


class ToolCallRow(Static):
    """``⋯ name(arguments so far)`` while the call streams, ``✓ name(arguments)`` once done."""

    DEFAULT_CSS = """
    ToolCallRow { height: auto; }
    """

    def __init__(self, name: str) -> None:
        super().__init__()
        self.call_name = name
        self.arguments = ""
        self.done = False
        self.updates = 0
        """How many times the row changed (the arguments build up over several deltas)."""

    def show(self, arguments: str, *, done: bool = False) -> None:
        self.arguments = arguments
        self.done = done
        self.updates += 1
        # A Text, not a markup string: arguments are JSON full of brackets.
        mark = ("✓", "bold green") if done else ("⋯", "yellow")
        self.update(Text.assemble(mark, " ", (self.call_name, "bold"), "(", arguments, ")"))


class ToolPanel(Vertical):
    """Every tool call of one answer; hidden until the first call starts."""

    DEFAULT_CSS = """
    ToolPanel {
        height: auto;
        display: none;
        border: round $secondary;
        border-title-color: $text-muted;
        border-title-style: bold;
        padding: 0 1;
    }
    ToolPanel.active { display: block; }
    """

    def __init__(self) -> None:
        super().__init__()
        self.border_title = "Tool calls"
        self.rows: dict[_Key, ToolCallRow] = {}

    @property
    def ticks(self) -> int:
        """How many calls are complete."""
        return sum(row.done for row in self.rows.values())

    def on_delta(self, event: ox.ToolCallDelta) -> None:
        self._row(event.choice, event.output_index, event.index, event.name).show(
            event.arguments_snapshot
        )

    def on_done(self, event: ox.ToolCallDone) -> None:
        self._row(event.choice, event.output_index, event.index, event.name).show(
            event.arguments, done=True
        )

    def _row(self, choice: int, output_index: int | None, index: int, name: str) -> ToolCallRow:
        key = (choice, output_index, index)
        row = self.rows.get(key)
        if row is None:
            row = self.rows[key] = ToolCallRow(name)
            self.mount(row)
            self.add_class("active")
        return row
