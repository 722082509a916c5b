"""One stream, encoded for a web framework's streaming response: no log, no relay server.

:func:`encode_stream` turns an ``ox.ChatStream`` / ``ox.ResponseStream`` into the bytes of
one of the relay's protocols, for a FastAPI / Starlette ``StreamingResponse`` or an aiohttp
``StreamResponse``. Ids are the event's position (``id: 7``), so the oxide_rx protocol's
frames look exactly like the relay's. For many viewers of one generation, resume by id and
stop, mount the relay itself (:func:`oxide_rx.relay.app.relay_app`).

>>> @app.get("/ask")                                                   # doctest: +SKIP
... async def ask(q: str) -> StreamingResponse:
...     stream = await client.chat.completions.create_stream(model=..., messages=[...])
...     return StreamingResponse(encode_stream(stream), media_type="text/event-stream")
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any

import msgspec

import oxide_rx as ox
from oxide_rx.ui import observe

from . import records
from .relay import ProtocolName, protocol_encoders

__all__ = ["encode_stream"]

_json = msgspec.json.Encoder().encode


async def encode_stream(
    stream: ox.ChatStream | ox.ResponseStream,
    protocol: ProtocolName = "oxide",
    *,
    message_id: str = "msg_1",
) -> AsyncIterator[bytes]:
    """The stream's events as ``protocol`` bytes (``"oxide"``, ``"ui"``, ``"chat"``,
    ``"responses"``), from the start to the end; closing the iterator aborts the request
    (when nothing else listens to the stream)."""
    encoder = protocol_encoders(protocol, message_id=message_id)()
    api = "chat" if isinstance(stream, ox.ChatStream) else "responses"
    started = time.time()
    position = 0

    def frame(record: records.Record) -> bytes:
        nonlocal position
        position += 1
        return encoder.encode(str(position), record)

    yield frame(records.Begin(api, None, started, None, stream.request_id))
    error: BaseException | None = None
    try:
        async for event in observe(stream.events, start=stream.start):
            data = b"".join(frame(record) for record in records.records_of(event))
            if data:
                yield data
    except ox.OxideRxError as exc:
        error = exc
    snapshot: Any = (stream.current_completion() if isinstance(stream, ox.ChatStream)
                     else stream.current_response())
    last = frame(records.Final(_json(snapshot)))
    if error is None:
        end = records.End("completed", elapsed=time.time() - started)
    else:
        end = records.End("failed", type(error).__name__, str(error), time.time() - started)
    yield last + frame(end)
