"""What the app talks to: a client (the API, or the built-in mock server offline) and the
conversation so far. No Textual here."""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, Literal

import oxide_rx as ox
from oxide_rx.testing import MockServer

__all__ = ["Api", "Connection", "Conversation", "connect"]

Api = Literal["chat", "responses"]


@dataclass(frozen=True)
class Connection:
    """A client, and the mock server's URL when there was no key (offline)."""

    client: ox.OpenAI
    offline_url: str | None = None


@contextlib.asynccontextmanager
async def connect(
    base_url: str | None = None, api_key: str | None = None
) -> AsyncIterator[Connection]:
    """The API when a key or a base URL is configured, else the built-in mock server.

    The same rule as ``oxide-rx chat``; the app says so on screen rather than on stderr,
    which a full-screen app hides.
    """
    base_url = base_url or os.environ.get("OPENAI_BASE_URL")
    if api_key or os.environ.get("OPENAI_API_KEY") or base_url:
        overrides = {name: value for name, value in (("base_url", base_url), ("api_key", api_key))
                     if value}
        async with ox.OpenAI.from_env(**overrides) as client:
            yield Connection(client)
        return
    async with MockServer() as server, ox.OpenAI(base_url=server.base_url) as client:
        yield Connection(client, offline_url=server.base_url)


@dataclass
class Conversation:
    """The turns so far, sent again with each question (both APIs, no server-side state).

    >>> talk = Conversation(api="responses", model="gpt-5.4-mini")
    >>> talk.remember("Hi", "Hello!")
    >>> talk.messages("And then?")[-1]
    {'role': 'user', 'content': 'And then?'}
    """

    api: Api = "chat"
    model: str = "gpt-4o-mini"
    system: str | None = None
    history: list[dict[str, str]] = field(default_factory=list)

    def messages(self, prompt: str) -> list[dict[str, str]]:
        """The history and the new question (the system message is sent separately)."""
        return [*self.history, {"role": "user", "content": prompt}]

    async def ask(self, client: ox.OpenAI, prompt: str) -> ox.StreamHandle[Any]:
        """Send the question with the history; returns once the response headers are in."""
        if self.api == "responses":
            extra: dict[str, Any] = {"instructions": self.system} if self.system else {}
            return await client.responses.create_stream(
                model=self.model, input=self.messages(prompt), **extra
            )
        system = [{"role": "system", "content": self.system}] if self.system else []
        return await client.chat.completions.create_stream(
            model=self.model,
            messages=[*system, *self.messages(prompt)],
            # The usage chunk lets the footer count tokens rather than deltas.
            stream_options={"include_usage": True},
        )

    def remember(self, prompt: str, answer: str) -> None:
        """Keep a finished (or stopped) turn; an empty answer is not sent back."""
        self.history.append({"role": "user", "content": prompt})
        if answer:
            self.history.append({"role": "assistant", "content": answer})
