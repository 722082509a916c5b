"""Shared test helpers (fixtures are in conftest.py): where ../shared lives and skipping cleanly
when it does not; waiting on a condition; tasks, memory and connections a test checks for leaks;
a mock server on its own thread.

(A plain module, not conftest.py: tests/compat has a conftest of its own, and two modules
named ``conftest`` cannot both be imported by name.)
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import AsyncIterator, Callable, Coroutine
from pathlib import Path
from typing import Any, Protocol, TypeVar

import pytest

import oxide_rx as ox
from oxide_rx.testing import MockServer

_T = TypeVar("_T")

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
CONFORMANCE = SHARED / "conformance" / "sse"
CORPUS = SHARED / "corpus" / "openai"

needs_shared = pytest.mark.skipif(
    not CORPUS.is_dir() or not CONFORMANCE.is_dir(),
    reason=f"../shared not found at {SHARED}: the conformance cases and recorded corpus live there",
)


def corpus_files(prefix: str) -> list[Path]:
    """Recorded streams whose names start with ``prefix`` (empty when ../shared is absent)."""
    if not CORPUS.is_dir():
        return []
    return sorted(CORPUS.glob(f"{prefix}*.sse"))


def read_frames(path: Path) -> list[bytes]:
    """The ``data:`` payloads of a recorded chat stream, up to ``[DONE]`` (simple framing)."""
    payloads = []
    for block in path.read_bytes().replace(b"\r\n", b"\n").split(b"\n\n"):
        lines = [line[5:].removeprefix(b" ") for line in block.split(b"\n")
                 if line.startswith(b"data:")]
        if not lines:
            continue
        data = b"\n".join(lines)
        if data == b"[DONE]":
            break
        payloads.append(data)
    return payloads


# --- waiting ------------------------------------------------------------------------------------

POLL = 0.005
"""How often :func:`wait_until` looks again: the wait ends this soon after the condition holds."""


async def wait_until(
    predicate: Callable[[], object], timeout: float = 5.0, what: str | None = None
) -> None:
    """Wait until ``predicate()`` is true; ``TimeoutError`` naming ``what`` after ``timeout`` s."""
    try:
        async with asyncio.timeout(timeout):
            while not predicate():
                await asyncio.sleep(POLL)
    except TimeoutError:
        raise TimeoutError(f"not reached within {timeout} s: {what or predicate}") from None


# --- leaks --------------------------------------------------------------------------------------


def other_tasks() -> set[asyncio.Task[Any]]:
    """Every task of the running loop but the current one."""
    return {t for t in asyncio.all_tasks() if t is not asyncio.current_task()}


async def tasks_left(
    before: set[asyncio.Task[Any]], timeout: float = 2.0
) -> set[asyncio.Task[Any]]:
    """Tasks started since ``before`` that still run after ``timeout`` s (empty once all ended).

    Returned rather than raised, so that ``assert await tasks_left(before) == set()`` shows
    which tasks outlived their stream.
    """
    with contextlib.suppress(TimeoutError):
        await wait_until(lambda: not _running_since(before), timeout)
    return _running_since(before)


def _running_since(before: set[asyncio.Task[Any]]) -> set[asyncio.Task[Any]]:
    return {t for t in other_tasks() - before if not t.done()}


def rss_mib() -> float:
    """This process's resident memory, in MiB (Linux)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS in /proc/self/status")


PING = [{"role": "user", "content": "ping"}]


async def assert_connection_released(server: MockServer, client: ox.OpenAI) -> None:
    """The client's one connection to ``server`` is closed or back in its pool: not held.

    Seen from the server: one more request is served, and then exactly one connection is open
    (the pooled one it reused, or a new one once the closed one is gone); a connection still
    held by a finished stream would stay open beside it. A client with ``max_connections=1``
    would also wait forever for a held connection, which the timeout turns into a failure.
    """
    await asyncio.wait_for(client.chat.completions.create(model="m", messages=PING), 5)
    await server.wait_for_open_connections(1)


# --- fixtures' types and a server thread --------------------------------------------------------


class ClientFactory(Protocol):
    """The ``make_client`` fixture: an ``ox.OpenAI`` on the test's server, with these options."""

    def __call__(self, **options: Any) -> ox.OpenAI: ...


class ServerThread:
    """A MockServer on its own event loop thread, for clients that block the test's thread
    (subprocesses, the synchronous compat client) or tests that tell the client's tasks from
    the server's by their loop."""

    def __init__(self, **options: Any) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.options = options
        self.server: MockServer | None = None

    def __enter__(self) -> MockServer:
        self.thread.start()
        self.server = self.call(_start(self.options))
        return self.server

    def __exit__(self, *exc: object) -> None:
        if self.server is not None:
            self.call(self.server.close())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()

    def call(self, coroutine: Coroutine[Any, Any, _T], timeout: float = 10.0) -> _T:
        """Run ``coroutine`` on the server's loop and wait for its result (blocking)."""
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)


async def _start(options: dict[str, Any]) -> MockServer:
    server = MockServer(**options)
    await server.start()
    return server


def chat_events(acc: Any, chunk: Any) -> list[Any]:
    """What a stream emits for one chunk: the ``Chunk`` wire event, then the helper events."""
    return [ox.Chunk(chunk), *acc.handle_chunk(chunk)]


def response_events(acc: Any, event: Any) -> list[Any]:
    """What a stream emits for one Responses wire event: itself, then the helper events
    (nothing for a replay the accumulator drops)."""
    helpers = acc.handle_event(event)
    return [] if helpers is None else [event, *helpers]


def until_metrics(events: list[Any]) -> list[Any]:
    """A stream's events without its final ``Metrics`` event, checking that it came exactly
    once, last (every stream ends with one, before it completes or fails)."""
    assert events and isinstance(events[-1], ox.Metrics), events[-1:]
    assert not any(isinstance(event, ox.Metrics) for event in events[:-1])
    return events[:-1]


@contextlib.asynccontextmanager
async def tcp_server(
    handle: Callable[[asyncio.StreamReader, asyncio.StreamWriter], Coroutine[Any, Any, None]],
) -> AsyncIterator[int]:
    """A raw TCP server on 127.0.0.1 running ``handle`` per connection; yields its port."""
    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()
