"""A raw-socket HTTP/1.1 server for fault tests: every byte on the wire is the test's choice.

The project's mock server is an aiohttp server, so it can only send what aiohttp lets it
send. Hostile and broken servers send anything: a non-hex chunk size, a Content-Length that
lies, a head that never ends, a reset in the middle of a chunk. Here a test writes a
*handler* that reads each request and answers it byte by byte::

    async def handler(conn: RawConnection) -> None:
        await conn.request()
        conn.send(sse_head() + chunk(event(chat_text("Hi"))) + b"zz\\r\\n")
        conn.close()

    async with RawServer(handler) as server:
        client = ox.OpenAI(api_key="k", base_url=server.base_url)
        ...
        assert len(server.requests) == 1   # how many requests the server saw

Every wait here has a timeout, so a test of "nothing hangs" cannot hang itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Self

import msgspec

__all__ = [
    "HEAD_TIMEOUT",
    "LoopbackServer",
    "RawConnection",
    "RawRequest",
    "RawServer",
    "chat_done",
    "chat_text",
    "chunk",
    "event",
    "head",
    "reply_with",
    "respond",
    "sse_head",
]

HEAD_TIMEOUT = 5.0
"""How long a handler waits for a request (or a client to leave) before giving up."""

Framing = Literal["chunked", "length", "close"]


@dataclass
class RawRequest:
    """One request as the server read it."""

    method: str
    target: str
    headers: dict[str, str]
    """Lower-cased names; a repeated header keeps its last value."""
    body: bytes = b""
    raw_head: bytes = b""

    @property
    def json(self) -> Any:
        return msgspec.json.decode(self.body) if self.body else None


@dataclass
class RawConnection:
    """One accepted connection, handed to the handler."""

    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    server: RawServer
    index: int
    """The connection's number on its server, from 0."""

    async def request(self, timeout: float = HEAD_TIMEOUT) -> RawRequest | None:
        """Read one request (head and Content-Length body); ``None`` if the client closed."""
        try:
            async with asyncio.timeout(timeout):
                raw = await self.reader.readuntil(b"\r\n\r\n")
                line, *lines = raw.decode("latin-1").split("\r\n")
                method, target, _ = line.split(" ", 2)
                headers = {}
                for header in lines:
                    if header:
                        name, _, value = header.partition(":")
                        headers[name.strip().lower()] = value.strip()
                length = int(headers.get("content-length", "0"))
                body = await self.reader.readexactly(length) if length else b""
        except (asyncio.IncompleteReadError, ConnectionError, TimeoutError):
            return None
        request = RawRequest(method, target, headers, body, raw)
        self.server.requests.append(request)
        return request

    def send(self, data: bytes) -> None:
        if not self.writer.is_closing():
            self.writer.write(data)

    async def flush(self) -> None:
        with contextlib.suppress(ConnectionError):
            await self.writer.drain()

    async def send_slowly(self, data: bytes, pieces: int, pause: float = 0.01) -> None:
        """Write ``data`` in ``pieces`` writes, ``pause`` seconds apart (separate reads)."""
        size = max(1, -(-len(data) // pieces))
        for start in range(0, len(data), size):
            self.send(data[start:start + size])
            await self.flush()
            await asyncio.sleep(pause)

    async def wait_closed_by_client(self, timeout: float = HEAD_TIMEOUT) -> bool:
        """Hold the connection open until the client closes it (True) or ``timeout`` passes."""
        try:
            async with asyncio.timeout(timeout):
                while await self.reader.read(65536):
                    pass
        except (TimeoutError, ConnectionError):
            return False
        return True

    def close(self) -> None:
        """A clean close (FIN) once what was written is sent."""
        self.writer.close()

    def reset(self) -> None:
        """Close with a TCP reset (RST): the client's next read fails."""
        sock = self.writer.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.writer.transport.abort()


Handler = Callable[[RawConnection], Awaitable[None]]


class LoopbackServer:
    """An asyncio TCP server on 127.0.0.1 running :meth:`serve` for each connection; closing
    it ends the connections still served (bounded), so no task outlives a test."""

    def __init__(self) -> None:
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    async def __aenter__(self) -> Self:
        self._server = await asyncio.start_server(self._connection, "127.0.0.1", 0)
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=HEAD_TIMEOUT)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._server.wait_closed(), HEAD_TIMEOUT)

    @property
    def port(self) -> int:
        assert self._server is not None
        return int(self._server.sockets[0].getsockname()[1])

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        raise NotImplementedError

    async def _connection(self, reader: asyncio.StreamReader,
                          writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            await self.serve(reader, writer)
        except (ConnectionError, asyncio.CancelledError):
            pass  # the client left, or the server is closing
        finally:
            self._tasks.discard(task)
            if not writer.is_closing():
                writer.close()


class RawServer(LoopbackServer):
    """A server whose every connection runs ``handler``; ``requests`` is what it read."""

    def __init__(self, handler: Handler) -> None:
        super().__init__()
        self.handler = handler
        self.requests: list[RawRequest] = []
        self.connections = 0

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        return f"{self.origin}/v1"

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        conn = RawConnection(reader, writer, self, self.connections)
        self.connections += 1
        await self.handler(conn)


Then = Literal["close", "reset", "hold"]


def respond(first: bytes, rest: bytes = b"", *, gate: asyncio.Event | float | None = None,
            then: Then = "close") -> Handler:
    """A handler that answers each request with ``first``, then ``rest``, then closes (FIN),
    resets (RST) or holds the connection until the client leaves.

    With a ``gate`` event, ``rest`` waits until the test sets it (the client has read
    ``first``: they arrive in separate reads); a number of seconds only paces the two writes
    (usually separate reads, where nothing on the client side can be waited for); without,
    both go out in one write (one read).
    """

    async def handler(conn: RawConnection) -> None:
        if await conn.request() is None:
            return
        if gate is None:
            conn.send(first + rest)
        else:
            conn.send(first)
            await conn.flush()
            if rest:
                if isinstance(gate, asyncio.Event):
                    await asyncio.wait_for(gate.wait(), HEAD_TIMEOUT)
                else:
                    await asyncio.sleep(gate)
                conn.send(rest)
        await conn.flush()
        if then == "reset":
            conn.reset()
        elif then == "hold":
            await conn.wait_closed_by_client()
        conn.close()

    return handler


def reply_with(data: bytes, then: Then = "close") -> Handler:
    """A handler that answers each request with ``data``, then closes, resets or holds."""
    return respond(data, then=then)


# --- bytes -----------------------------------------------------------------------------------


def head(
    status: int = 200,
    headers: Mapping[str, str] | Sequence[tuple[str, str]] = (),
    reason: str = "OK",
) -> bytes:
    """A response head: the status line, the headers as given (a list of pairs may repeat a
    name), the blank line."""
    items = headers.items() if isinstance(headers, Mapping) else headers
    lines = [f"HTTP/1.1 {status} {reason}"] + [f"{k}: {v}" for k, v in items]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def sse_head(framing: Framing = "chunked", length: int | None = None,
             extra: Mapping[str, str] | None = None, status: int = 200) -> bytes:
    """The head of an event stream: chunked, Content-Length ``length``, or until close."""
    headers = {"Content-Type": "text/event-stream", "x-request-id": "req_raw"}
    if framing == "chunked":
        headers["Transfer-Encoding"] = "chunked"
    elif framing == "length":
        headers["Content-Length"] = str(length or 0)
    else:
        headers["Connection"] = "close"
    headers.update(extra or {})
    return head(status, headers)


def chunk(data: bytes) -> bytes:
    """One chunk of a chunked body (``chunk(b"")`` is the last chunk)."""
    return f"{len(data):x}\r\n".encode() + data + b"\r\n"


def event(payload: Any) -> bytes:
    """One SSE event whose data is ``payload`` (bytes as given, anything else as JSON)."""
    data = payload if isinstance(payload, bytes) else msgspec.json.encode(payload)
    return b"data: " + data + b"\n\n"


def chat_text(text: str, finish: str | None = None, **delta: Any) -> dict[str, Any]:
    """A chat completion chunk adding ``text`` to choice 0."""
    return {"id": "chatcmpl-raw", "object": "chat.completion.chunk", "created": 1,
            "model": "m", "choices": [{"index": 0, "delta": {"content": text, **delta},
                                       "finish_reason": finish}]}


def chat_done() -> bytes:
    return b"data: [DONE]\n\n"


def response_object(status: str = "in_progress", output: list[Any] | None = None,
                    response_id: str = "resp_raw") -> dict[str, Any]:
    return {"id": response_id, "object": "response", "created_at": 1, "status": status,
            "model": "m", "output": output or []}


def message_item(text: str | None, status: str = "completed") -> dict[str, Any]:
    """An assistant message item (``content`` empty when ``text`` is None)."""
    content = [] if text is None else [{"type": "output_text", "text": text, "annotations": []}]
    return {"type": "message", "id": "msg_raw", "role": "assistant", "status": status,
            "content": content}


def responses_text(pieces: list[str], *, sequence: Callable[[int], int | None] = lambda i: i,
                   response_id: str = "resp_raw") -> list[dict[str, Any]]:
    """A whole Responses stream of one message made of ``pieces``; ``sequence(i)`` numbers
    event ``i`` (``None`` leaves the field out)."""
    text = "".join(pieces)
    where = {"item_id": "msg_raw", "output_index": 0, "content_index": 0}
    final = response_object("completed", [message_item(text)], response_id)
    events: list[dict[str, Any]] = [
        {"type": "response.created", "response": response_object(response_id=response_id)},
        {"type": "response.in_progress", "response": response_object(response_id=response_id)},
        {"type": "response.output_item.added", "output_index": 0,
         "item": message_item(None, "in_progress")},
        {"type": "response.content_part.added", **where,
         "part": {"type": "output_text", "text": "", "annotations": []}},
        *({"type": "response.output_text.delta", **where, "delta": p} for p in pieces),
        {"type": "response.output_text.done", **where, "text": text},
        {"type": "response.content_part.done", **where,
         "part": {"type": "output_text", "text": text, "annotations": []}},
        {"type": "response.output_item.done", "output_index": 0, "item": message_item(text)},
        {"type": "response.completed", "response": final},
    ]
    for index, item in enumerate(events):
        number = sequence(index)
        if number is not None:
            item["sequence_number"] = number
    return events
