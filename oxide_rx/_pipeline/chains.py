"""The chat and Responses chains, assembled in one place.

A stream (HTTP SSE, a background resume, a WebSocket) pushes payloads into a chain's
``ingress`` and receives typed events at its own sink::

    payload bytes ─► ChunkDecodeStage ─► ChatAccumulateStage ─► sink      (Chat Completions)
    payload bytes ─► EventDecodeStage ─► ResponsesAccumulateStage ─► sink (Responses API)

The public operators (``ox.ops.decode``, ``accumulate_chat``, ``accumulate_responses``) wrap
the same stages one by one.
"""

from __future__ import annotations

from dataclasses import dataclass

from .._core.chat import ChatCompletionAccumulator
from .._core.responses import ResponseAccumulator
from ..events import ChatEvent, ResponseEvent
from .sink import Sink
from .stages import (
    ChatAccumulateStage,
    ChunkDecodeStage,
    EventDecodeStage,
    ResponsesAccumulateStage,
)

__all__ = ["DONE_MARKER", "Chain", "chat_chain", "responses_chain"]

DONE_MARKER = "[DONE]"
"""The payload that ends a Chat Completions stream."""


@dataclass(frozen=True, slots=True)
class Chain:
    """An assembled chain: where payloads go in, and the stage whose ``wire`` flag says
    whether wire events (``Chunk``, Responses wire events) are emitted besides helper ones."""

    ingress: Sink[bytes]
    accumulate: ChatAccumulateStage | ResponsesAccumulateStage


def chat_chain(accumulator: ChatCompletionAccumulator, sink: Sink[ChatEvent]) -> Chain:
    """Payloads -> ``ChatCompletionChunk`` -> ``Chunk`` + helper events, into ``sink``."""
    accumulate = ChatAccumulateStage(accumulator, sink)
    return Chain(ChunkDecodeStage(accumulate), accumulate)


def responses_chain(accumulator: ResponseAccumulator, sink: Sink[ResponseEvent]) -> Chain:
    """Payloads -> Responses wire events -> themselves + helper events, into ``sink``."""
    accumulate = ResponsesAccumulateStage(accumulator, sink)
    return Chain(EventDecodeStage(accumulate, lenient=accumulator.lenient_events), accumulate)
