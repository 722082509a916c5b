"""Drop-in for the official ``openai`` package: change one import line, gain speed.

.. code-block:: python

    # from openai import AsyncOpenAI, OpenAI
    from oxide_rx.compat import AsyncOpenAI, OpenAI

The clients *are* the official classes (subclasses), with every resource, signature, type,
default and exception of the installed ``openai``; they return the official objects
(``openai.types...``, ``openai.lib.streaming...`` events). Only a request's path changes: the
core sends it (aiohttp, the SSE decoder, msgspec, the accumulators) and each official object is
built from the raw event text by pydantic's compiled validation. ``import oxide_rx.compat as
openai`` works too: every top-level name of ``openai`` is here, and the module-level client
(``openai.api_key = ...; openai.chat.completions.create(...)``). Needs the ``compat`` extra.

>>> import openai
>>> from oxide_rx.compat import APIStatusError, AsyncOpenAI
>>> APIStatusError is openai.APIStatusError and issubclass(AsyncOpenAI, openai.AsyncOpenAI)
True
"""

from __future__ import annotations

try:
    import openai as _openai
except ImportError as _exc:
    raise ImportError("oxide_rx.compat needs the official `openai` package: "
                      "pip install 'oxide_rx[compat]'") from _exc

import sys as _sys
from functools import cached_property
from typing import Any

from openai import *  # noqa: F403 - the official surface, as it is
from openai import __all__ as _official_all
from openai import __title__, __version__

from ._client import AsyncOpenAI as AsyncOpenAI
from ._client import OpenAI
from ._errors import NotSupportedError

__all__ = [*_official_all, "NotSupportedError", "__title__", "__version__"]

# The module-level client's settings (``openai.api_key = ...``), read when it is used.
api_key: str | None = None
admin_api_key: str | None = None
organization: str | None = None
project: str | None = None
webhook_secret: str | None = None
base_url: str | None = None
timeout: Any = _openai.DEFAULT_TIMEOUT
max_retries: int = _openai.DEFAULT_MAX_RETRIES
default_headers: Any = None
default_query: Any = None

_SETTINGS = ("api_key", "admin_api_key", "organization", "project", "webhook_secret",
             "base_url", "timeout", "max_retries", "default_headers", "default_query")
_client: tuple[tuple[Any, ...], OpenAI] | None = None


def _load_client() -> OpenAI:
    """The module-level client for the current settings (made again when one changed)."""
    global _client
    settings = tuple(getattr(_sys.modules[__name__], name) for name in _SETTINGS)
    if _client is None or _client[0] != settings:
        options = {k: v for k, v in zip(_SETTINGS, settings, strict=True) if v is not None}
        _client = (settings, OpenAI(**options))
    return _client[1]


def __getattr__(name: str) -> Any:
    """The module-level client's resources (``chat``, ``responses`` ...), and the official
    top-level names ``openai`` exports lazily."""
    if not name.startswith("_") and isinstance(vars(_openai.OpenAI).get(name), cached_property):
        return getattr(_load_client(), name)  # a resource: chat, responses, models ...
    return getattr(_openai, name)
