"""``oxide-rx tui``: a chat app in the terminal, on oxide_rx streams."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from textual import on
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import Footer, Header, Input, Static
from textual.worker import Worker

import oxide_rx as ox

from ._footer import MetricsBar
from ._session import Api, Connection, Conversation, connect
from ._turn import TurnView

__all__ = ["ChatApp"]


class ChatApp(App[None]):
    """Chat with a model: answers stream in as markdown, tool calls build up in a panel,
    the footer shows time to first token and tokens per second; Esc stops an answer.

    With no ``OPENAI_API_KEY`` and no base URL it answers from the built-in mock server
    and says so at the top.

    >>> ChatApp(api="responses", model="gpt-5.4-mini").run()  # doctest: +SKIP
    """

    TITLE = "oxide-rx"
    CSS = """
    #offline { display: none; background: $warning 25%; padding: 0 1; }
    #offline.active { display: block; }
    #transcript { height: 1fr; padding: 1 1 0 1; }
    """
    BINDINGS = [
        Binding("escape", "stop", "Stop the answer", priority=True),
        Binding("ctrl+n", "new_chat", "New chat"),
    ]

    def __init__(
        self,
        *,
        api: Api = "chat",
        model: str = "gpt-4o-mini",
        system: str | None = None,
        base_url: str | None = None,
        api_key: str | None = None,
        smooth: bool = True,
        interval: float = 0.05,
    ) -> None:
        super().__init__()
        self.conversation = Conversation(api=api, model=model, system=system)
        self.base_url = base_url
        self.api_key = api_key
        self.smooth = smooth
        self.interval = interval
        self.connection: Connection | None = None
        self.stream: ox.StreamHandle[Any] | None = None
        """The stream of the answer in progress, if any."""
        self.turns: list[TurnView] = []
        self._turn_worker: Worker[None] | None = None
        self._stopping = False
        self._exit_stack = contextlib.AsyncExitStack()

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(id="offline")
        yield VerticalScroll(id="transcript")
        yield Input(placeholder="Ask something and press Enter", id="prompt")
        yield MetricsBar(id="metrics")
        yield Footer()

    async def on_mount(self) -> None:
        self.sub_title = f"{self.conversation.model} · {self.conversation.api} API"
        self.connection = await self._exit_stack.enter_async_context(
            connect(self.base_url, self.api_key)
        )
        where = ""
        if self.connection.offline_url is not None:
            notice = self.query_one("#offline", Static)
            notice.update(
                "Offline: OPENAI_API_KEY is not set, so answers come from the built-in mock "
                f"server at {self.connection.offline_url}"
            )
            notice.add_class("active")
            where = "offline (mock server)"
        self.query_one(MetricsBar).set_where(where)
        self.query_one("#transcript", VerticalScroll).anchor()
        self.query_one("#prompt", Input).focus()

    async def on_unmount(self) -> None:
        if self.stream is not None:
            await self.stream.aclose()
        await self._exit_stack.aclose()

    @on(Input.Submitted, "#prompt")
    def _submitted(self, event: Input.Submitted) -> None:
        question = event.value.strip()
        if not question or self.busy:
            return
        event.input.value = ""
        self.ask(question)

    @property
    def busy(self) -> bool:
        """A question is being answered (or waiting for the server's response headers)."""
        return self._turn_worker is not None and not self._turn_worker.is_finished

    def ask(self, question: str) -> Worker[None]:
        """Ask ``question`` (with the conversation so far); the answer streams into a new turn."""
        self._turn_worker = self.run_worker(self._turn(question), group="turn")
        return self._turn_worker

    async def action_stop(self) -> None:
        """Esc: abort the answer in progress (the request is cancelled, the text so far kept)."""
        if self.stream is not None:
            self._stopping = True
            await self.stream.aclose()
        elif self.busy and self._turn_worker is not None:
            self._turn_worker.cancel()  # still waiting for the response headers

    async def action_new_chat(self) -> None:
        if self.busy:
            return
        self.conversation.history.clear()
        await self.query_one("#transcript", VerticalScroll).remove_children()
        self.turns.clear()

    async def _turn(self, question: str) -> None:
        assert self.connection is not None
        turn = TurnView(question, smooth=self.smooth, interval=self.interval)
        self.turns.append(turn)
        await self.query_one("#transcript", VerticalScroll).mount(turn)
        try:
            stream = await self.conversation.ask(self.connection.client, question)
        except ox.OxideRxError as exc:
            await turn.finish(f"✗ {type(exc).__name__}: {exc}", failed=True)
            return
        except asyncio.CancelledError:
            await turn.finish("■ stopped")
            raise
        self.stream, self._stopping = stream, False
        bar = self.query_one(MetricsBar)
        bar.follow(stream.metrics)
        turn.follow(stream)
        status, failed = "", False
        try:
            await stream.until_done()
        except ox.OxideRxError as exc:
            if self._stopping:
                status = "■ stopped"
            else:
                status, failed = f"✗ {type(exc).__name__}: {exc}", True
        finally:
            self.stream = None
            if not stream.finished:  # the worker was cancelled (the app is closing)
                await stream.aclose()
            bar.done()
        await turn.finish(status or f"✓ {turn.finish_reason or 'done'}", failed=failed)
        self.conversation.remember(question, turn.answer_text)
