"""A Textual widget that shows a stream as it arrives (needs the ``tui`` extra: textual).

Textual runs on asyncio, so the subscription lives on the UI's own loop and updates the
widget directly: no thread hop. Updates are paced with ``sample_ui`` (the final text always
lands), and the subscription is disposed when the widget is unmounted.

    class ChatApp(App[None]):
        def compose(self) -> ComposeResult:
            yield StreamView(stream)
"""

from __future__ import annotations

import asyncio
from typing import Any

from reactivex import abc
from reactivex import operators as rx_ops
from reactivex.scheduler.eventloop import AsyncIOScheduler
from textual.message import Message
from textual.widgets import Static

from .._stream.lifetime import StreamHandle
from ..operators import sample_ui
from ._adapters import content_deltas, snapshot_of

__all__ = ["StreamView"]


class StreamView(Static):
    """The text of ``stream`` (choice 0), refreshed at most every ``interval`` seconds.

    Posts :class:`StreamView.Finished` when the stream ends (``error`` set if it failed).
    """

    class Finished(Message):
        """The stream ended."""

        def __init__(self, view: StreamView, error: Exception | None) -> None:
            super().__init__()
            self.view = view
            self.error = error

    def __init__(self, stream: StreamHandle[Any], *, interval: float = 0.05, **kwargs: Any):
        super().__init__("", **kwargs)
        self.stream = stream
        self.interval = interval
        self.text = ""
        self._subscription: abc.DisposableBase | None = None

    def on_mount(self) -> None:
        scheduler = AsyncIOScheduler(asyncio.get_running_loop())
        self._subscription = content_deltas(self.stream).pipe(
            sample_ui(self.interval, scheduler),  # pace first: only shown deltas build text
            rx_ops.map(snapshot_of),
        ).subscribe(self._show, self._failed, self._completed, scheduler=scheduler)
        self.stream.start()

    def on_unmount(self) -> None:
        if self._subscription is not None:
            self._subscription.dispose()

    def _show(self, text: str) -> None:
        self.text = text
        self.update(text)

    def _failed(self, error: Exception) -> None:
        self.post_message(self.Finished(self, error))

    def _completed(self) -> None:
        self.post_message(self.Finished(self, None))
