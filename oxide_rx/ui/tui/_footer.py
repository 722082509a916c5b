"""The metrics line: time to first token, output rate, stalls, live while a stream runs."""

from __future__ import annotations

import asyncio

from rich.text import Text
from textual.timer import Timer
from textual.widgets import Static

from oxide_rx import StreamMetrics

__all__ = ["MetricsBar"]


class MetricsBar(Static):
    """``<where> · TTFT 0.41 s · 52.3 tokens/s · 0 stalls · total 2.10 s``."""

    DEFAULT_CSS = """
    MetricsBar { height: 1; padding: 0 1; background: $panel; color: $text-muted; }
    """

    def __init__(self, where: str = "", *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.where = where
        self.text = where
        self._metrics: StreamMetrics | None = None
        self._timer: Timer | None = None

    def on_mount(self) -> None:
        self._show()

    def set_where(self, where: str) -> None:
        self.where = where
        self._show()

    def follow(self, metrics: StreamMetrics, interval: float = 0.1) -> None:
        """Show ``metrics`` live (every ``interval`` seconds) until :meth:`done`."""
        self._metrics = metrics
        if self._timer is not None:
            self._timer.stop()
        self._timer = self.set_interval(interval, self._show)
        self._show()

    def done(self) -> None:
        """The stream ended: show the final figures and stop refreshing."""
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        self._show()

    def _show(self) -> None:
        parts = [self.where] if self.where else []
        if self._metrics is not None:
            now = None if self._metrics.finished else asyncio.get_running_loop().time()
            parts.append(self._metrics.metrics(now).summary())
        self.text = " · ".join(parts)
        self.update(Text(self.text))
