"""A client for the real API when a key is configured, else for the built-in mock server."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import AsyncIterator
from typing import Any

from .._client.client import OpenAI

__all__ = ["client_or_mock"]


@contextlib.asynccontextmanager
async def client_or_mock(base_url: str | None = None, **options: Any) -> AsyncIterator[OpenAI]:
    """Yield an :class:`OpenAI` client; offline, one backed by an in-process mock server.

    With ``OPENAI_API_KEY`` or a base URL (argument or ``OPENAI_BASE_URL``) it talks to that
    server. Otherwise it starts :class:`oxide_rx.testing.MockServer` on 127.0.0.1 and prints one
    line on stderr saying so, so that examples and the CLI run on a machine with no network.

    >>> async with client_or_mock() as client:  # doctest: +SKIP
    ...     stream = await client.chat.completions.create_stream(model="gpt-4o-mini", messages=[])
    """
    base_url = base_url or os.environ.get("OPENAI_BASE_URL")
    if os.environ.get("OPENAI_API_KEY") or base_url:
        # An explicit key (None included): a local server (Ollama, vLLM) may need none.
        overrides: dict[str, Any] = {"api_key": os.environ.get("OPENAI_API_KEY") or None}
        if base_url:
            overrides["base_url"] = base_url
        async with OpenAI.from_env(**{**overrides, **options}) as client:
            yield client
        return
    from ._server import MockServer

    async with MockServer() as server:
        print(
            f"oxide-rx: OPENAI_API_KEY is not set; streaming from the built-in mock server "
            f"at {server.base_url}",
            file=sys.stderr,
        )
        async with OpenAI(base_url=server.base_url, **options) as client:
            yield client
