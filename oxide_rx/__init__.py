"""oxide_rx: streaming OpenAI output as reactive streams.

aiohttp reads server-sent events, reactivex operators decode them with msgspec, accumulate
snapshots, and fan typed events out to any number of subscribers::

    import oxide_rx as ox

    async with ox.OpenAI.from_env() as client:
        stream = await client.chat.completions.create_stream(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "Hi"}])
        stream.on(ox.ContentDelta, lambda e: print(e.delta, end="", flush=True))
        completion = await stream.final_completion()
"""

from __future__ import annotations

from . import operators, ui
from . import operators as ops
from ._client.client import OpenAI
from ._client.tool_runner import ToolRun
from ._client.tool_runs import ChatToolRun, ResponseToolRun, SessionToolRun
from ._client.websocket import ResponsesWebSocket
from ._client.websocket_lane import Lane
from ._client.websocket_turn import ContextLostError, SteerFailedError
from ._core.chat import ChatCompletionAccumulator
from ._core.metrics import StreamMetrics
from ._core.responses import ResponseAccumulator
from ._core.tools import Tool, ToolRunError, tool
from ._exceptions import (
    APIConnectionError,
    APIError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ConfigurationError,
    ConflictError,
    DecodeError,
    InternalServerError,
    NotFoundError,
    OxideRxError,
    PermissionDeniedError,
    RateLimitError,
    ResponseFailedError,
    SSEError,
    StreamTruncatedError,
    UnprocessableEntityError,
)
from ._stream.lifetime import StreamHandle
from ._stream.streams import ChatStream, ResponseStream
from ._transport.timeouts import Timeout
from ._transport.websocket import (
    ReconnectPolicy,
    WebSocketClosedError,
    WebSocketLimitError,
    WebSocketRefusedError,
    WebSocketUsageError,
)
from ._version import __version__
from .events import (
    ChatEvent,
    ChatRunEvent,
    Chunk,
    ContentDelta,
    ContentDone,
    Done,
    Event,
    LogprobsDelta,
    Metrics,
    ReasoningDelta,
    ReasoningDone,
    RefusalDelta,
    RefusalDone,
    ResponseEvent,
    ResponseRunEvent,
    ToolCallDelta,
    ToolCallDone,
    ToolResult,
    ToolStarted,
    Usage,
)
from .operators import from_aiohttp, from_async_iterable

__all__ = [
    "APIConnectionError",
    "APIError",
    "APIStatusError",
    "APITimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "ChatCompletionAccumulator",
    "ChatEvent",
    "ChatRunEvent",
    "ChatStream",
    "ChatToolRun",
    "Chunk",
    "ConfigurationError",
    "ConflictError",
    "ContentDelta",
    "ContentDone",
    "ContextLostError",
    "DecodeError",
    "Done",
    "Event",
    "InternalServerError",
    "Lane",
    "LogprobsDelta",
    "Metrics",
    "NotFoundError",
    "OpenAI",
    "OxideRxError",
    "PermissionDeniedError",
    "RateLimitError",
    "ReasoningDelta",
    "ReasoningDone",
    "ReconnectPolicy",
    "RefusalDelta",
    "RefusalDone",
    "ResponseAccumulator",
    "ResponseEvent",
    "ResponseFailedError",
    "ResponseRunEvent",
    "ResponseStream",
    "ResponseToolRun",
    "ResponsesWebSocket",
    "SSEError",
    "SessionToolRun",
    "SteerFailedError",
    "StreamHandle",
    "StreamMetrics",
    "StreamTruncatedError",
    "Timeout",
    "Tool",
    "ToolCallDelta",
    "ToolCallDone",
    "ToolResult",
    "ToolRun",
    "ToolRunError",
    "ToolStarted",
    "UnprocessableEntityError",
    "Usage",
    "WebSocketClosedError",
    "WebSocketLimitError",
    "WebSocketRefusedError",
    "WebSocketUsageError",
    "__version__",
    "from_aiohttp",
    "from_async_iterable",
    "operators",
    "ops",
    "tool",
    "ui",
]
