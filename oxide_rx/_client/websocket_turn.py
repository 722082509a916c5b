"""One response a WebSocket lane asked for, and what the server's frames say about it.

:class:`Turn` is where a request stands (sent, opened, ended, abandoned); :class:`Envelope`
reads a frame's routing fields without parsing the rest; the errors a lane raises, and the
small conversions it needs (input as items, a response's output as the server sent it).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import msgspec

from .._exceptions import APITimeoutError, ResponseFailedError
from .._stream.streams import ResponseStream
from .._transport.websocket_link import WebSocketFeed
from ..types.responses import Response

__all__ = ["LIFECYCLE_STARTS", "TERMINALS", "ContextLostError", "Envelope", "SteerFailedError",
           "Turn", "as_items", "output_items", "steer_error", "within"]

LIFECYCLE_STARTS = frozenset({"response.created", "response.queued", "response.in_progress"})
TERMINALS = frozenset({"response.completed", "response.incomplete", "response.failed",
                       "response.done", "error"})
_decode = msgspec.json.decode


class ContextLostError(ResponseFailedError):
    """The server no longer has the response this one continues from
    (``previous_response_not_found``), and the lane could not send the whole conversation
    instead: ``on_context_lost="raise"``, or nothing was kept to rebuild from."""


class SteerFailedError(ResponseFailedError):
    """``response.steer`` was not applied: ``response.steer.failed`` (``code`` says why:
    ``response_already_completed``, ``steering_not_supported`` ...), or
    ``response.steer.pending``: the input waits for the tool output or approval the response
    stopped for (``code="steer_pending"``; ``required_input`` lists the stubs to fill and
    send with ``create_stream`` on this lane)."""

    required_input: Any = None


_NONE = msgspec.Raw(b"")


class Envelope(msgspec.Struct, frozen=True):
    """The routing fields of a server frame; the rest of the frame is skipped, not parsed
    (``response`` and ``error`` stay raw until a router needs their id or code)."""

    type: str = ""
    stream_id: str | None = None
    response: msgspec.Raw = _NONE
    error: msgspec.Raw = _NONE
    code: str | None = None

    def response_id(self) -> str | None:
        return _ref(self.response).id

    def error_code(self) -> str | None:
        if self.code is not None:
            return self.code
        ref = _ref(self.error)
        return ref.code or ref.type


class _Ref(msgspec.Struct):
    id: str | None = None
    code: str | None = None
    type: str | None = None


_decode_ref = msgspec.json.Decoder(_Ref).decode


def _ref(raw: msgspec.Raw) -> _Ref:
    if len(raw):
        with contextlib.suppress(msgspec.DecodeError):
            return _decode_ref(raw)
    return _Ref()


@dataclass(eq=False)
class Turn:
    """One response a lane asked for (or a steering successor) and where it stands."""

    payload: dict[str, Any] | None
    """The ``response.create`` event to send (``None``: a successor nobody sends)."""
    context: int | None
    """How many of the lane's kept items came before this request, when it continues the
    chain by ``previous_response_id``: the whole conversation can then replace that id
    (built only if needed: it costs as much as the conversation is long)."""
    new_items: list[Any]
    feed: WebSocketFeed
    stream: ResponseStream | None = None
    state: Literal["pending", "active", "ended"] = "pending"
    response_id: str | None = None
    sent_on: int = 0
    terminal: bytes | None = None
    abandoned: bool = False
    store: bool = True
    opened: asyncio.Event | None = None
    """Set when the response opens (or ends unopened); made only for someone waiting."""


async def within(seconds: float | None, waiting: Awaitable[Any], what: str) -> Any:
    """``await waiting``, as an :class:`~oxide_rx.APITimeoutError` after ``seconds``."""
    try:
        async with asyncio.timeout(seconds):
            return await waiting
    except TimeoutError:
        pass
    raise APITimeoutError(f"{what} within {seconds:g} s.")


def as_items(input: Any) -> list[Any]:
    """``input`` as a list of input items (a string is one user message).

    >>> as_items("Hi")
    [{'role': 'user', 'content': 'Hi'}]
    """
    if input is None:
        return []
    if isinstance(input, str):
        return [{"role": "user", "content": input}]
    if isinstance(input, Mapping):
        return [dict(input)]
    return list(input)


def output_items(terminal: bytes | None, response: Response) -> list[Any]:
    """The response's output items as the server sent them (its terminal frame keeps every
    field), else as accumulated."""
    if terminal is not None:
        with contextlib.suppress(msgspec.DecodeError, AttributeError, TypeError):
            output = _decode(terminal)["response"]["output"]
            if isinstance(output, list) and output:
                return output
    return list(msgspec.to_builtins(response.output))


def steer_error(ack: Envelope, frame: bytes) -> SteerFailedError:
    body: Any = None
    with contextlib.suppress(msgspec.DecodeError):
        body = _decode(frame)
    if ack.type == "response.steer.pending":
        error = SteerFailedError(
            "The steering input waits for the tool output or approval the response stopped "
            "for: send it with create_stream on this lane.", body=body, code="steer_pending")
        error.required_input = body.get("required_input") if isinstance(body, dict) else None
        return error
    code = ack.error_code()
    return SteerFailedError(f"The server did not take the steering input ({code}).",
                            body=body, code=code)
