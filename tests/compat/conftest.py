"""One mock server per test module, on its own loop thread, for compat clients.

Subprocess programs and the synchronous client need a server that keeps serving while the test
blocks, so it does not run on the test's event loop.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator

import pytest

from oxide_rx.testing import MockServer


class ServerThread:
    """A MockServer on its own event loop thread."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.server = MockServer()

    def __enter__(self) -> MockServer:
        self.thread.start()
        asyncio.run_coroutine_threadsafe(self.server.start(), self.loop).result(10)
        return self.server

    def __exit__(self, *exc: object) -> None:
        asyncio.run_coroutine_threadsafe(self.server.close(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    """The ``/v1`` URL of a mock server that lives as long as the test module."""
    with ServerThread() as server:
        yield server.base_url
