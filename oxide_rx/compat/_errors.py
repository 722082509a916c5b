"""Core errors as the official exceptions, and what compat refuses.

The official client's own code builds each status error (``_make_status_error_from_response``:
its class per status, its message, ``body``, ``code``, ``request_id``, ``response``) from the
answer the core requester read; connection failures and deadlines become
``APIConnectionError`` / ``APITimeoutError`` carrying the official request; an ``{"error": ...}``
frame inside a stream is the official ``APIError`` with the frame's message and body.

>>> isinstance(NotSupportedError("x"), NotImplementedError)
True
"""

from __future__ import annotations

import json
from typing import Any

import httpx2
import openai

import oxide_rx as ox

__all__ = ["NotSupportedError", "official_error"]


class NotSupportedError(NotImplementedError, AttributeError):
    """A part of the official surface compat does not implement (named in the message).

    Also an ``AttributeError``, so ``hasattr(...)`` is simply ``False``.
    """


def official_error(client: Any, exc: ox.OxideRxError, request: httpx2.Request) -> Exception:
    """The exception the official client raises where the core raised ``exc``."""
    if isinstance(exc, ox.APIStatusError):
        response = httpx2.Response(exc.status_code, headers=exc.headers,
                                   content=_body_text(exc), request=request)
        error: Exception = client._make_status_error_from_response(response)
        return error
    if isinstance(exc, ox.APITimeoutError):
        return openai.APITimeoutError(request=request)
    if isinstance(exc, ox.ResponseFailedError):
        return openai.APIError(exc.message, request, body=exc.body)
    if isinstance(exc, ox.APIConnectionError):
        return openai.APIConnectionError(request=request)
    return openai.APIError(str(exc), request, body=None)


def _body_text(exc: ox.APIStatusError) -> str:
    """The error body as the server sent it (the core keeps its ``error`` object)."""
    body = exc.body
    if isinstance(body, dict) and not exc.message.startswith(
            f"Error code: {exc.status_code} - HTTP {exc.status_code}"):
        return json.dumps({"error": body})
    if isinstance(body, (dict, list)):
        return json.dumps(body)
    return "" if body is None else str(body)
