"""Running the client against a raw-socket server and recording what a user would see.

Every run is bounded by :data:`HANG` seconds: a stream that does not end by then fails the
test as a hang, whatever its own timeouts say.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from rawsocket import Handler, RawServer

import oxide_rx as ox

__all__ = ["HANG", "MESSAGES", "Outcome", "chat_json", "chat_stream", "responses_stream"]

HANG = 15.0
"""Seconds after which a run counts as hung: far beyond every deadline the tests set."""

MESSAGES = [{"role": "user", "content": "hi"}]


@dataclass
class Outcome:
    """What one run gave: the error it ended with (or ``None``), the text the user saw arrive
    (joined ``ContentDelta`` s), the result on success, and how many requests the server
    read."""

    error: BaseException | None
    text: str = ""
    result: Any = None
    requests: int = 0
    events: list[Any] = field(default_factory=list)

    @property
    def partial_text(self) -> str | None:
        """The text of the error's ``.partial`` snapshot (``None`` when there is none)."""
        partial = getattr(self.error, "partial", None)
        if isinstance(partial, ox.types.chat.ChatCompletion):
            return partial.choices[0].message.content or "" if partial.choices else ""
        if isinstance(partial, ox.types.responses.Response):
            return partial.output_text
        return None


def _client(server: RawServer, options: dict[str, Any]) -> ox.OpenAI:
    options.setdefault("max_retries", 0)
    options.setdefault("timeout", ox.Timeout(connect=2, headers=3, idle=3))
    return ox.OpenAI(api_key="sk-test", base_url=server.base_url, **options)


async def _bounded(coroutine: Any) -> Any:
    return await asyncio.wait_for(coroutine, HANG)


def _recorder(outcome: Outcome, gate: asyncio.Event | None) -> Any:
    """Records every event; sets ``gate`` once text has arrived (the server may go on)."""

    def record(event: Any) -> None:
        outcome.events.append(event)
        if gate is not None and isinstance(event, ox.ContentDelta):
            gate.set()

    return record


async def _stream_run(handler: Handler, gate: asyncio.Event | None, options: dict[str, Any],
                      open_stream: Callable[[ox.OpenAI], Awaitable[Any]],
                      final: Callable[[Any], Awaitable[Any]]) -> Outcome:
    """Open a stream with ``open_stream``, record its events, wait for ``final(stream)``."""
    async with RawServer(handler) as server, _client(server, options) as client:
        outcome = Outcome(None)
        try:
            stream = await _bounded(open_stream(client))
            async with stream:
                stream.events.subscribe(_recorder(outcome, gate), lambda e: None)
                outcome.result = await _bounded(final(stream))
        except ox.OxideRxError as exc:
            outcome.error = exc
        outcome.text = "".join(e.delta for e in outcome.events if isinstance(e, ox.ContentDelta))
        outcome.requests = len(server.requests)
        return outcome


async def chat_stream(handler: Handler, gate: asyncio.Event | None = None,
                      **options: Any) -> Outcome:
    """One ``create_stream`` run to its end: ``final_completion()``."""
    return await _stream_run(
        handler, gate, options,
        lambda client: client.chat.completions.create_stream(model="m", messages=MESSAGES),
        lambda stream: stream.final_completion())


async def responses_stream(handler: Handler, gate: asyncio.Event | None = None,
                           **options: Any) -> Outcome:
    """One Responses ``create_stream`` run to its end: ``final_response()``."""
    background = options.pop("background", False)
    return await _stream_run(
        handler, gate, options,
        lambda client: client.responses.create_stream(model="m", input="hi",
                                                      background=background),
        lambda stream: stream.final_response())


async def chat_json(handler: Handler, **options: Any) -> Outcome:
    """One non-streaming ``create`` run."""
    async with RawServer(handler) as server, _client(server, options) as client:
        outcome = Outcome(None)
        try:
            outcome.result = await _bounded(client.chat.completions.create(
                model="m", messages=MESSAGES))
        except ox.OxideRxError as exc:
            outcome.error = exc
        outcome.requests = len(server.requests)
        return outcome
