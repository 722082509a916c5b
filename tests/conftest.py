"""Shared fixtures: a mock OpenAI server per test, and clients bound to it.

``server`` is a fresh :class:`~oxide_rx.testing.MockServer` on 127.0.0.1; ``client`` is an
``ox.OpenAI`` pointed at it; ``make_client(**options)`` builds more clients on the same
server with other options (``make_client(max_retries=0)``). Every client is closed, then the
server, when the test ends. Tests that need a server with options of its own (an API key, a
recordings folder) construct a ``MockServer`` themselves. Plain helpers live in
``support.py``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest_asyncio
from support import ClientFactory

import oxide_rx as ox
from oxide_rx.testing import MockServer


@pytest_asyncio.fixture
async def server() -> AsyncIterator[MockServer]:
    """A fresh mock server on 127.0.0.1 for one test, closed after it."""
    async with MockServer() as mock:
        yield mock


@pytest_asyncio.fixture
async def make_client(server: MockServer) -> AsyncIterator[ClientFactory]:
    """Clients on ``server`` with custom options; ``api_key`` and ``base_url`` default to the
    test key and the server. Each one made is closed after the test (closing twice is fine)."""
    made: list[ox.OpenAI] = []

    def make(**options: Any) -> ox.OpenAI:
        options.setdefault("api_key", "test")
        options.setdefault("base_url", server.base_url)
        client = ox.OpenAI(**options)
        made.append(client)
        return client

    yield make
    for client in made:
        await client.aclose()


@pytest_asyncio.fixture
async def client(make_client: ClientFactory) -> ox.OpenAI:
    """An ``ox.OpenAI`` with default options on ``server``, closed after the test."""
    return make_client()
