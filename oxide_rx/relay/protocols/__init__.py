"""Wire protocols the relay speaks; each turns log records into bytes, once per event.

An :class:`Encoder` is fed every record of a generation in order, from the first, and returns
the bytes to send for it (``b""`` when the protocol has nothing to say). Encoders may keep
state (the UI message stream opens and closes parts); the relay runs one encoder per protocol
per generation for all live viewers, and a fresh one only to catch a late viewer up.

>>> from oxide_rx.relay.records import Begin, Text
>>> encoder = OxideSSE()
>>> encoder.encode("1", Begin(api="chat"))[:18]
b'event: generation\\n'
>>> encoder.encode("2", Text(delta="Hi"))
b'event: ContentDelta\\nid: 2\\ndata: {"delta":"Hi","choice":0}\\n\\n'
"""

from __future__ import annotations

from .base import Encoder, Protocol, sse_frame
from .openai_compat import ChatCompletionsSSE, ResponsesSSE
from .oxide import OxideSSE
from .ui_message_stream import UIMessageStream

__all__ = [
    "ChatCompletionsSSE",
    "Encoder",
    "OxideSSE",
    "Protocol",
    "ResponsesSSE",
    "UIMessageStream",
    "sse_frame",
]
