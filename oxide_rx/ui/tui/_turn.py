"""One turn of the chat: the question, then the answer as it streams.

The answer is markdown, rendered live at a sampled rate (``ox.ops.sample_ui``: at most every
``interval`` seconds, and always the end), optionally re-chunked into words first
(``ox.ops.smooth``). Reasoning goes into a collapsed section, a refusal is styled as one, tool
calls build up in their own panel.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any, TypeVar

from reactivex import Observable, abc
from reactivex import operators as rx_ops
from reactivex.scheduler.eventloop import AsyncIOScheduler
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Collapsible, Markdown, Static

import oxide_rx as ox

from ._tools import ToolPanel

__all__ = ["TurnView"]

_E = TypeVar("_E")


def _first_choice(event: ox.ContentDelta) -> bool:
    return event.choice == 0


class _MarkdownFeed:
    """Appends text to a Markdown widget, one append at a time: overlapping appends would
    parse the same lines twice."""

    def __init__(self, widget: Markdown) -> None:
        self.widget = widget
        self.pending: list[str] = []
        self.wake = asyncio.Event()
        self.closed = False
        self.idle = asyncio.Event()
        self.idle.set()

    def write(self, text: str) -> None:
        if text:
            self.pending.append(text)
            self.idle.clear()
            self.wake.set()

    def close(self) -> None:
        self.closed = True
        self.wake.set()

    async def run(self) -> None:
        while True:
            await self.wake.wait()
            self.wake.clear()
            text = "".join(self.pending)
            self.pending.clear()
            if text:
                await self.widget.append(text)
            if not self.pending:
                self.idle.set()
                if self.closed:
                    return


class TurnView(Vertical):
    """A question and its streamed answer. :meth:`follow` wires it to a stream."""

    DEFAULT_CSS = """
    TurnView { height: auto; margin: 0 0 1 0; }
    TurnView > .question { color: $accent; text-style: bold; padding: 0 1; }
    TurnView > Collapsible { display: none; }
    TurnView > Collapsible.active { display: block; }
    TurnView > Markdown { margin: 0; padding: 0 1; }
    TurnView > .refusal {
        display: none; color: $error; text-style: italic;
        border-left: thick $error; padding: 0 1;
    }
    TurnView > .refusal.active { display: block; }
    TurnView > .status { color: $text-muted; padding: 0 1; }
    TurnView > .status.failed { color: $error; }
    """

    def __init__(self, question: str, *, smooth: bool = True, interval: float = 0.05) -> None:
        super().__init__()
        self.question = question
        self.smooth = smooth
        self.interval = interval
        self.answer_parts: list[str] = []
        self.refusal_text = ""
        self.finish_reason: str | None = None
        self.status_text = ""
        self.finished = False
        self._unrendered: list[str] = []
        self._reasoning_parts: list[str] = []
        self._subscriptions: list[abc.DisposableBase] = []
        self.answer = Markdown()
        self.reasoning = Static(classes="reasoning")
        self.reasoning_section = Collapsible(self.reasoning, title="Reasoning", collapsed=True)
        self.refusal = Static(classes="refusal")
        self.tools = ToolPanel()
        self.status = Static("waiting for the first token…", classes="status")
        self._feed = _MarkdownFeed(self.answer)

    @property
    def answer_text(self) -> str:
        """The answer text received so far (shown or about to be)."""
        return "".join(self.answer_parts)

    def compose(self) -> ComposeResult:
        yield Static(Text("> " + self.question), classes="question")
        yield self.reasoning_section
        yield self.answer
        yield self.refusal
        yield self.tools
        yield self.status

    def on_mount(self) -> None:
        self.run_worker(self._feed.run(), group="markdown")

    def on_unmount(self) -> None:
        self._dispose()

    # -- wiring ---------------------------------------------------------------------------------

    def follow(self, stream: ox.StreamHandle[Any]) -> None:
        """Show ``stream``'s events here. Call before the stream starts."""
        scheduler = AsyncIOScheduler(asyncio.get_running_loop())
        answer: Observable[ox.ContentDelta] = stream.events.pipe(
            ox.ops.of_type(ox.ContentDelta), rx_ops.filter(_first_choice)
        )
        if self.smooth:
            answer = answer.pipe(ox.ops.smooth(scheduler=scheduler))
        reasoning: Observable[ox.ReasoningDelta] = stream.events.pipe(
            ox.ops.of_type(ox.ReasoningDelta)
        )
        self._subscriptions += [
            # Collect every piece (a list append), render at the sampled rate only.
            self._sampled(answer, self._collect_answer, self._render_answer, scheduler),
            self._sampled(reasoning, self._collect_reasoning, self._render_reasoning, scheduler),
            stream.on(ox.RefusalDelta, self._on_refusal),
            stream.on(ox.ToolCallDelta, self.tools.on_delta),
            stream.on(ox.ToolCallDone, self.tools.on_done),
            stream.on(ox.Done, self._on_done),
        ]
        self.status.update("streaming…  (Esc stops)")

    def _sampled(
        self,
        source: Observable[_E],
        collect: Callable[[_E], None],
        render: Callable[[], None],
        scheduler: abc.SchedulerBase,
    ) -> abc.DisposableBase:
        return source.pipe(
            rx_ops.do_action(collect), ox.ops.sample_ui(self.interval, scheduler)
        ).subscribe(lambda _: render(), scheduler=scheduler)

    def _collect_answer(self, event: ox.ContentDelta) -> None:
        self.answer_parts.append(event.delta)
        self._unrendered.append(event.delta)

    def _render_answer(self) -> None:
        text = "".join(self._unrendered)
        self._unrendered.clear()
        self._feed.write(text)

    def _collect_reasoning(self, event: ox.ReasoningDelta) -> None:
        self._reasoning_parts.append(event.delta)

    def _render_reasoning(self) -> None:
        self.reasoning_section.add_class("active")
        self.reasoning.update(Text("".join(self._reasoning_parts)))

    def _on_refusal(self, event: ox.RefusalDelta) -> None:
        self.refusal_text += event.delta
        self.refusal.add_class("active")
        self.refusal.update(Text("Refused: " + self.refusal_text))

    def _on_done(self, event: ox.Done) -> None:
        if event.choice == 0:
            self.finish_reason = event.finish_reason

    def _dispose(self) -> None:
        for subscription in self._subscriptions:
            subscription.dispose()
        self._subscriptions.clear()

    # -- the end --------------------------------------------------------------------------------

    async def finish(self, status: str, *, failed: bool = False, timeout: float = 5.0) -> None:
        """Show ``status`` once the rendered answer has caught up with the stream."""
        self._render_answer()  # whatever the last sample has not shown yet
        self._dispose()
        self._feed.close()
        # A stuck renderer must not hang the app: the status lands anyway.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._feed.idle.wait(), timeout)
        self.status_text = status
        self.status.set_class(failed, "failed")
        self.status.update(Text(status))
        self.finished = True
