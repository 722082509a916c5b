"""Drop-in for the official ``openai`` package: change one import line, gain speed.

.. code-block:: python

    # from openai import AsyncOpenAI, OpenAI
    from oxide_rx.compat import AsyncOpenAI, OpenAI

The clients *are* the official classes (subclasses), with every resource, signature, type,
default and exception of the installed ``openai`` package; what they return are the official
objects (``openai.types...``, ``openai.lib.streaming...`` events). Only the path of a request
changes: it is sent by oxide_rx's core (aiohttp, the SSE decoder, msgspec, the accumulators),
and each official object is built from the raw event text by pydantic's compiled validation.
``import oxide_rx.compat as openai`` also works: every top-level name of ``openai`` is here,
and the module-level client (``openai.api_key = ...; openai.chat.completions.create(...)``).

Needs the ``compat`` extra (``pip install 'oxide_rx[compat]'``, which installs ``openai``).

>>> from oxide_rx.compat import APIStatusError, AsyncOpenAI
>>> import openai
>>> APIStatusError is openai.APIStatusError and issubclass(AsyncOpenAI, openai.AsyncOpenAI)
True
"""

from __future__ import annotations

try:
    import openai as _openai
except ImportError as _exc:  # pragma: no cover - exercised in a subprocess test
    raise ImportError(
        "oxide_rx.compat needs the official `openai` package: pip install 'oxide_rx[compat]'"
    ) from _exc

from typing import Any

from openai import *  # noqa: F403 - the official surface, as it is
from openai import __all__ as _official_all
from openai import __title__, __version__

from ._client import AsyncOpenAI, OpenAI
from ._errors import NotSupportedError
from ._module import load_client as _load_client
from ._module import module_setting_names as _module_setting_names
from ._streams import AsyncStream, Stream

__all__ = [*_official_all, "NotSupportedError", "__title__", "__version__"]

# Module-level client settings, as ``openai.api_key = ...`` (read when the client is used).
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

_ = (AsyncOpenAI, OpenAI, AsyncStream, Stream, _module_setting_names)


def __getattr__(name: str) -> Any:
    """The module-level client's resources (``chat``, ``responses`` ...), and every other
    official top-level name (lazily exported ones included)."""
    client = _load_client()
    if not name.startswith("_") and hasattr(type(client), name):
        return getattr(client, name)
    return getattr(_openai, name)
