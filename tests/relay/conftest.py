"""Fixtures: the mock OpenAI server, a client on it, a relay, and the relay app on a port;
a real ``redis-server`` (one per session) and a key prefix of each test's own."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Iterator

import aiohttp
import pytest
import pytest_asyncio
from redis_support import RedisServer, redis_missing, redis_server
from relay_support import RelayServer, serve_relay

import oxide_rx as ox
from oxide_rx.relay import Relay
from oxide_rx.testing import MockServer

SECRET = "sk-relay-test-SECRET-never-shown"


@pytest_asyncio.fixture
async def mock() -> AsyncIterator[MockServer]:
    async with MockServer(api_key=SECRET) as server:
        yield server


@pytest_asyncio.fixture
async def client(mock: MockServer) -> AsyncIterator[ox.OpenAI]:
    async with ox.OpenAI(base_url=mock.base_url, api_key=SECRET, max_retries=0) as client:
        yield client


@pytest_asyncio.fixture
async def relay(client: ox.OpenAI) -> AsyncIterator[Relay]:
    async with Relay(client) as relay:
        yield relay


@pytest_asyncio.fixture
async def server(relay: Relay) -> AsyncIterator[RelayServer]:
    runner, url = await serve_relay(relay)
    try:
        yield RelayServer(relay, url)
    finally:
        await runner.cleanup()


@pytest_asyncio.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as session:
        yield session


@pytest.fixture(scope="session")
def redis_service() -> Iterator[RedisServer]:
    """A ``redis-server`` on a free port for the whole session (tests keep apart by prefix)."""
    missing = redis_missing()
    if missing:
        pytest.skip(missing)
    with redis_server() as server:
        yield server


@pytest.fixture
def redis_url(redis_service: RedisServer) -> str:
    return redis_service.url


@pytest.fixture
def redis_prefix() -> str:
    """Keys of this test only: ``oxide_rx:test:<random>:``."""
    return f"oxide_rx:test:{secrets.token_hex(6)}:"
