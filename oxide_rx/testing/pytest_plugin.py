"""pytest fixtures for testing code that streams from OpenAI, registered as a pytest plugin.

Installed with oxide_rx (entry point ``pytest11``), so in any test suite::

    async def test_my_summary_widget(mock_openai: MockServer) -> None:
        mock_openai.enqueue(Scenario.text("Hello from the mock"))
        async with ox.OpenAI(base_url=mock_openai.base_url, api_key="test") as client:
            ...

The fixture needs pytest-asyncio (async fixtures); without it the plugin registers nothing.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from ._server import MockServer

__all__ = ["mock_openai"]

try:
    import pytest_asyncio
except ImportError:  # pragma: no cover - the plugin is inert without pytest-asyncio
    pass
else:

    @pytest_asyncio.fixture
    async def mock_openai() -> AsyncIterator[MockServer]:
        """A fresh :class:`MockServer` on 127.0.0.1 for one test."""
        async with MockServer() as server:
            yield server
