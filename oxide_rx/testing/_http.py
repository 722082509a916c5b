"""Small HTTP helpers shared by the mock server's handlers."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any

import msgspec
from aiohttp import web

from ._scenarios import error_body

__all__ = ["Counters", "decode_json", "error_response", "json_response"]


def decode_json(raw: bytes) -> Any:
    """The JSON body, or None when it is empty or not JSON."""
    try:
        return msgspec.json.decode(raw) if raw else None
    except msgspec.DecodeError:
        return None


def json_response(payload: Any, status: int = 200, headers: Any = None) -> web.Response:
    """``payload`` as an ``application/json`` response."""
    return web.Response(
        body=msgspec.json.encode(payload),
        status=status,
        headers=headers,
        content_type="application/json",
    )


def error_response(status: int, message: str, code: str | None = None) -> web.Response:
    """An OpenAI-shaped ``invalid_request_error`` with ``status``."""
    return json_response(error_body(message, "invalid_request_error", code), status)


class Counters:
    """Bodies in flight and clients that left early (the writer's ``StreamTracker``)."""

    def __init__(self) -> None:
        self.open = 0
        self.disconnects = 0
        self.closing = False
        """Set while the server shuts down: streams it cuts are not client disconnects."""
        self.held = 0
        """Bodies waiting at a ``hold_after`` point right now."""
        self.released = asyncio.Event()

    async def hold(self, client_gone: Callable[[], bool], seconds: float, poll: float) -> bool:
        """Wait until released (True), or ``seconds`` pass or the client leaves (False)."""
        self.held += 1
        try:
            loop = asyncio.get_running_loop()
            deadline = loop.time() + seconds
            while not self.released.is_set():
                if client_gone() or loop.time() >= deadline:
                    return False
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.released.wait(), poll)
            return True
        finally:
            self.held -= 1

    def stream_opened(self) -> None:
        self.open += 1

    def stream_closed(self) -> None:
        self.open -= 1

    def client_disconnected(self) -> None:
        if not self.closing:
            self.disconnects += 1
