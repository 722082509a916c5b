"""One mock server per test module, on its own loop thread, for compat clients.

Subprocess programs and the synchronous client need a server that keeps serving while the test
blocks, so it does not run on the test's event loop.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from support import ServerThread


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    """The ``/v1`` URL of a mock server that lives as long as the test module."""
    with ServerThread() as server:
        yield server.base_url
