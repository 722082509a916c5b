"""The contenders: one program per client, each streaming the same synthetic answer.

Every contender implements ``stream(base_url, sink) -> int``: send one streaming request to
the mock server at ``base_url``, consume the whole stream the way that client is meant to be
used, call ``sink(stamp)`` once per content delta the *user* receives, and return how many
deltas it saw. ``stamp`` is the server's ``x_stamp`` when the delivered object carries it,
else ``None`` (see :mod:`stamps` for how the latency figure recovers it then).

Chat (``api="chat"``) and Responses (``api="responses"``) contenders:

=================  ============================================================================
floor              bare aiohttp ``iter_any()``, split on ``b"\\n\\n"``, one msgspec decode per
                   event into a minimal Struct; no accumulation (the physical floor)
native             ``create_stream`` + one ``stream.on(ox.ContentDelta, ...)`` + the final object
fanout             native with 3 subscribers: ``on(ContentDelta)``, ``of_type`` +
                   ``sample_ui(0.05)`` reading the snapshot, ``of_type(Done, Usage)``
compat raw         ``oxide_rx.compat.AsyncOpenAI``: ``create(stream=True)``, iterate chunks/events
compat helper      ``oxide_rx.compat.AsyncOpenAI``: ``.stream()`` helper events + final object
openai raw         the official ``openai.AsyncOpenAI``, same program as "compat raw"
openai helper      the official ``openai.AsyncOpenAI``, same program as "compat helper"
=================  ============================================================================

>>> [c.name for c in contenders("chat")][:3]
['floor', 'native', 'fanout']
"""

from __future__ import annotations

import importlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import msgspec

__all__ = ["COMPAT_ERROR", "Contender", "Sink", "contenders"]

Sink = Callable[[int | None], None]
"""Called once per delivered content delta with the event's server stamp (or None)."""

MODEL = "gpt-4o-mini"
MESSAGES = [{"role": "user", "content": "Benchmark, please."}]
API_KEY = "bench"


def _compat_error() -> str | None:
    """Why ``oxide_rx.compat`` cannot be used yet (None: it can)."""
    try:
        module = importlib.import_module("oxide_rx.compat")
    except Exception as exc:
        return f"oxide_rx.compat not importable: {type(exc).__name__}: {exc}"
    if not hasattr(module, "AsyncOpenAI"):
        return "oxide_rx.compat has no AsyncOpenAI yet"
    return None


COMPAT_ERROR = _compat_error()


# --------------------------------------------------------------------------- floor


class _FloorDelta(msgspec.Struct):
    content: str | None = None


class _FloorChoice(msgspec.Struct):
    index: int
    delta: _FloorDelta


class _FloorChunk(msgspec.Struct):
    choices: list[_FloorChoice] = []
    x_stamp: int | None = None


class _FloorEvent(msgspec.Struct):
    type: str
    delta: str | None = None
    x_stamp: int | None = None


_decode_chunk = msgspec.json.Decoder(_FloorChunk).decode
_decode_event = msgspec.json.Decoder(_FloorEvent).decode
_encode = msgspec.json.encode


def _chat_body() -> bytes:
    return _encode({"model": MODEL, "messages": MESSAGES, "stream": True})


def _responses_body() -> bytes:
    return _encode({"model": MODEL, "input": "Benchmark, please.", "stream": True})


_HEADERS = {
    "Content-Type": "application/json",
    "Accept": "text/event-stream",
    "Authorization": f"Bearer {API_KEY}",
}


@dataclass
class FloorClient:
    """The floor's "client": a bare aiohttp session and the server's base URL."""

    session: aiohttp.ClientSession
    base_url: str

    async def aclose(self) -> None:
        await self.session.close()


def _floor_client(base_url: str, max_connections: int = 0) -> FloorClient:
    session = aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=max_connections),
        timeout=aiohttp.ClientTimeout(total=None),
    )
    return FloorClient(session, base_url)


def floor_chat_read(rest: bytes, data: bytes, sink: Sink) -> tuple[bytes, int]:
    """The floor's work on one network read of a chat stream: ``(rest, deltas delivered)``,
    ``rest`` the incomplete event to prepend to the next read (also timed without the network
    by ``depths.py``)."""
    count = 0
    parts = (rest + data).split(b"\n\n")
    rest = parts.pop()
    for part in parts:
        if part.startswith(b"data: ") and part != b"data: [DONE]":
            chunk = _decode_chunk(part[6:])
            for choice in chunk.choices:
                if choice.delta.content:
                    sink(chunk.x_stamp)
                    count += 1
    return rest, count


def floor_responses_read(rest: bytes, data: bytes, sink: Sink) -> tuple[bytes, int]:
    """:func:`floor_chat_read` for a Responses stream."""
    count = 0
    parts = (rest + data).split(b"\n\n")
    rest = parts.pop()
    for part in parts:
        start = part.find(b"data: ")
        if start >= 0:
            event = _decode_event(part[start + 6 :])
            if event.type == "response.output_text.delta":
                sink(event.x_stamp)
                count += 1
    return rest, count


FLOOR_REQUESTS: dict[str, tuple[str, bytes, Callable[[bytes, bytes, Sink], tuple[bytes, int]]]] = {
    "chat": ("/chat/completions", _chat_body(), floor_chat_read),
    "responses": ("/responses", _responses_body(), floor_responses_read),
}
"""Per API: the request path, its body, and the floor's work per read."""


async def _floor(client: FloorClient, api: str, sink: Sink) -> int:
    path, body, read = FLOOR_REQUESTS[api]
    count = 0
    rest = b""
    async with client.session.post(client.base_url + path, data=body, headers=_HEADERS) as resp:
        async for data in resp.content.iter_any():
            rest, delivered = read(rest, data, sink)
            count += delivered
    return count


# --------------------------------------------------------------------------- oxide_rx native


def _native_client(base_url: str, max_connections: int = 0) -> Any:
    import oxide_rx as ox

    # A generous connect deadline: 10,000 sockets opening at once queue in the server's
    # accept backlog for seconds; the benchmark is not about the default 5 s deadline.
    return ox.OpenAI(api_key=API_KEY, base_url=base_url, max_retries=0,
                     max_connections=max_connections, timeout=ox.Timeout(connect=60.0))


async def _native_open(client: Any, api: str) -> Any:
    if api == "chat":
        return await client.chat.completions.create_stream(model=MODEL, messages=MESSAGES)
    return await client.responses.create_stream(model=MODEL, input="Benchmark, please.")


async def _native_finish(stream: Any, api: str) -> None:
    if api == "chat":
        await stream.final_completion()
    else:
        await stream.final_response()


async def _native(client: Any, api: str, sink: Sink) -> int:
    import oxide_rx as ox

    count = 0

    def on_delta(event: Any) -> None:
        nonlocal count
        if event.delta:  # the role chunk's empty content is an event, not a delta of text
            count += 1
            sink(None)

    stream = await _native_open(client, api)
    stream.on(ox.ContentDelta, on_delta)
    await _native_finish(stream, api)
    return count


async def _fanout(client: Any, api: str, sink: Sink) -> int:
    import oxide_rx as ox

    count = 0
    ui_updates: list[str] = []
    ends: list[Any] = []

    def on_delta(event: Any) -> None:
        nonlocal count
        if event.delta:  # the role chunk's empty content is an event, not a delta of text
            count += 1
            sink(None)

    stream = await _native_open(client, api)
    stream.on(ox.ContentDelta, on_delta)
    # Pace first, then read the snapshot: the snapshot is joined lazily, so it is read only
    # when the UI actually repaints (at most every 50 ms), not once per delta.
    stream.events.pipe(ox.ops.of_type(ox.ContentDelta), ox.ops.sample_ui(0.05)).subscribe(
        lambda e: ui_updates.append(e.snapshot)
    )
    stream.events.pipe(ox.ops.of_type(ox.Done, ox.Usage)).subscribe(ends.append)
    await _native_finish(stream, api)
    return count


# --------------------------------------------------------------------------- openai-shaped


def _openai_client(factory: Any, base_url: str, max_connections: int | None = None) -> Any:
    import httpx2

    limits = httpx2.Limits(max_connections=max_connections, max_keepalive_connections=100)
    http_client = httpx2.AsyncClient(limits=limits, timeout=httpx2.Timeout(600.0))
    return factory(api_key=API_KEY, base_url=base_url, max_retries=0, http_client=http_client)


def _stamp(model: Any) -> int | None:
    """The server's ``x_stamp`` of an official (pydantic) object, read from its extra fields.

    Not ``getattr(model, "x_stamp", None)``: on a model without the field (every throughput
    run) that goes through pydantic's ``__getattr__`` and raises inside, ~2 µs per event that
    the harness would charge to both openai-shaped clients alike.
    """
    extra: dict[str, Any] | None = model.model_extra
    return extra.get("x_stamp") if extra else None


async def _raw(client: Any, api: str, sink: Sink) -> int:
    count = 0
    if api == "chat":
        chunks = await client.chat.completions.create(model=MODEL, messages=MESSAGES, stream=True)
        async for chunk in chunks:
            for choice in chunk.choices:
                if choice.delta.content:
                    sink(_stamp(chunk))
                    count += 1
        return count
    events = await client.responses.create(model=MODEL, input="Benchmark, please.", stream=True)
    async for event in events:
        if event.type == "response.output_text.delta":
            sink(_stamp(event))
            count += 1
    return count


async def _helper(client: Any, api: str, sink: Sink) -> int:
    count = 0
    stamp: int | None = None
    if api == "chat":
        async with client.chat.completions.stream(model=MODEL, messages=MESSAGES) as stream:
            async for event in stream:
                if event.type == "chunk":
                    stamp = _stamp(event.chunk)
                elif event.type == "content.delta" and event.delta:
                    sink(stamp)
                    count += 1
            await stream.get_final_completion()
        return count
    async with client.responses.stream(model=MODEL, input="Benchmark, please.") as stream:
        async for event in stream:
            if event.type == "response.output_text.delta":
                sink(_stamp(event))
                count += 1
        await stream.get_final_response()
    return count


# --------------------------------------------------------------------------- the registry


@dataclass
class Contender:
    """One client program on one API, with its clients cached per ``base_url``."""

    name: str
    api: str
    family: str
    """``floor``, ``native`` (oxide_rx clients) or ``openai`` (openai-shaped clients)."""
    program: Callable[[Any, str, Sink], Awaitable[int]]
    factory: Callable[[str], Any]
    cap: int | None = None
    """Largest events-per-stream this contender is run at (None: no cap)."""
    clients: dict[str, Any] = field(default_factory=dict)

    async def stream(self, base_url: str, sink: Sink) -> int:
        """Consume one whole stream from ``base_url``; returns the number of content deltas."""
        client = self.clients.get(base_url)
        if client is None:
            client = self.clients[base_url] = self.factory(base_url)
        return await self.program(client, self.api, sink)

    async def aclose(self) -> None:
        """Close every cached client."""
        for client in self.clients.values():
            if hasattr(client, "aclose"):
                await client.aclose()
            else:
                await client.close()
        self.clients.clear()


def contenders(api: str, *, helper_cap: int | None = 10_000,
               names: list[str] | None = None) -> list[Contender]:
    """The contenders of ``api`` (``"chat"`` or ``"responses"``), compat ones only if usable.

    ``helper_cap`` caps the events-per-stream of the official ``.stream()`` helper (it is the
    slowest by far); ``names`` keeps only those contenders.
    """
    import openai

    found = [
        Contender("floor", api, "floor", _floor, _floor_client),
        Contender("native", api, "native", _native, _native_client),
        Contender("fanout", api, "native", _fanout, _native_client),
    ]
    if COMPAT_ERROR is None:
        compat = importlib.import_module("oxide_rx.compat").AsyncOpenAI
        found += [
            Contender("compat raw", api, "openai", _raw,
                      lambda url: _openai_compat_client(compat, url)),
            Contender("compat helper", api, "openai", _helper,
                      lambda url: _openai_compat_client(compat, url)),
        ]
    found += [
        Contender("openai raw", api, "openai", _raw,
                  lambda url: _openai_client(openai.AsyncOpenAI, url)),
        Contender("openai helper", api, "openai", _helper,
                  lambda url: _openai_client(openai.AsyncOpenAI, url), cap=helper_cap),
    ]
    return [c for c in found if names is None or c.name in names]


def _openai_compat_client(factory: Any, base_url: str) -> Any:
    """The compat client, built the way its users build it (it owns its own transport).

    The same generous connect deadline as the other contenders get: 10,000 sockets opening
    at once wait in the server's accept queue for seconds. An official ``timeout`` (the
    official constructor builds its own httpx client with it, and refuses other types).
    """
    import httpx2

    return factory(api_key=API_KEY, base_url=base_url, max_retries=0,
                   timeout=httpx2.Timeout(600.0, connect=60.0))
