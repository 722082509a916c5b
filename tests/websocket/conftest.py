"""Fixtures of the WebSocket tests: ``client`` here makes no HTTP retries (a refused upgrade
or request shows at once); ``server`` and ``make_client`` come from ``tests/conftest.py``."""

from __future__ import annotations

import pytest
from support import ClientFactory

import oxide_rx as ox


@pytest.fixture
def client(make_client: ClientFactory) -> ox.OpenAI:
    """An ``ox.OpenAI`` on the test's mock server, without retries."""
    return make_client(max_retries=0)
