"""Per-request options, taken out of a call's keyword arguments."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .._transport.requester import RequestOptions

__all__ = ["query_params", "split_request_options"]


def split_request_options(params: dict[str, Any]) -> RequestOptions:
    """Pop the per-request options (``timeout``, ``max_retries``, ``extra_headers``,
    ``extra_query``) out of ``params``, and merge ``extra_body`` into them.

    >>> params = {"model": "m", "timeout": 5.0, "extra_body": {"seed": 1}}
    >>> split_request_options(params).timeout, params
    (5.0, {'model': 'm', 'seed': 1})
    """
    options = RequestOptions(
        timeout=params.pop("timeout", None),
        max_retries=params.pop("max_retries", None),
        extra_headers=params.pop("extra_headers", None),
        extra_query=params.pop("extra_query", None),
    )
    params.update(params.pop("extra_body", None) or {})
    return options


def query_params(params: Mapping[str, Any]) -> dict[str, str]:
    """Query parameters as the API spells them (booleans lower-case).

    >>> query_params({"include_obfuscation": False, "n": 2})
    {'include_obfuscation': 'false', 'n': '2'}
    """
    return {
        key: ("true" if value else "false") if isinstance(value, bool) else str(value)
        for key, value in params.items()
    }
