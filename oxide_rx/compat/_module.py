"""The module-level client: ``import oxide_rx.compat as openai; openai.chat.completions...``.

The settings are module attributes of :mod:`oxide_rx.compat` (``api_key``, ``base_url``,
``timeout`` ...), read when a resource is used, as the official module client reads its own;
a client is made on first use and made again when a setting changed.

>>> sorted(module_setting_names())[:3]
['admin_api_key', 'api_key', 'base_url']
"""

from __future__ import annotations

import sys
from typing import Any

from ._client import OpenAI

__all__ = ["load_client", "module_setting_names"]

_SETTINGS = ("api_key", "admin_api_key", "organization", "project", "webhook_secret",
             "base_url", "timeout", "max_retries", "default_headers", "default_query")
_client: tuple[tuple[Any, ...], OpenAI] | None = None


def module_setting_names() -> tuple[str, ...]:
    return _SETTINGS


def load_client() -> OpenAI:
    """The module-level client for the current settings."""
    global _client
    module = sys.modules["oxide_rx.compat"]
    settings = tuple(getattr(module, name) for name in _SETTINGS)
    if _client is None or _client[0] != settings:
        options = {name: value for name, value in zip(_SETTINGS, settings, strict=True)
                   if value is not None}
        _client = (settings, OpenAI(**options))
    return _client[1]
