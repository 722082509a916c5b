"""Drop-in compatibility with the official ``openai`` package: change one import line.

.. code-block:: python

    # from openai import AsyncOpenAI, OpenAI
    from oxide_rx.compat import AsyncOpenAI, OpenAI

The same names, arguments, defaults, result shapes and exceptions as the official package, for
what is covered (chat completions, responses, models, embeddings; see the README); the
requests and streams run on oxide_rx's core. Anything not covered raises
:class:`NotSupportedError` (a ``NotImplementedError``) naming it.

>>> from oxide_rx.compat import OpenAI, APIStatusError
>>> issubclass(APIStatusError, APIError)
True
"""

from __future__ import annotations

from typing import Any

from ._base import NOT_GIVEN, NotGiven, Omit, Timeout, omit
from ._client import AsyncOpenAI, OpenAI
from ._errors import (
    APIConnectionError,
    APIError,
    APIResponseValidationError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    ContentFilterFinishReasonError,
    InternalServerError,
    LengthFinishReasonError,
    NotFoundError,
    OpenAIError,
    PermissionDeniedError,
    RateLimitError,
    UnprocessableEntityError,
)
from ._models import BaseModel
from ._parsing import pydantic_function_tool
from ._streams import AsyncStream, Stream
from ._unsupported import NotSupportedError, refuse
from ._websocket import WebSocketConnectionClosedError, WebSocketQueueFullError

__all__ = [
    "NOT_GIVEN",
    "APIConnectionError",
    "APIError",
    "APIResponseValidationError",
    "APIStatusError",
    "APITimeoutError",
    "AsyncOpenAI",
    "AsyncStream",
    "AuthenticationError",
    "BadRequestError",
    "BaseModel",
    "ConflictError",
    "ContentFilterFinishReasonError",
    "InternalServerError",
    "LengthFinishReasonError",
    "NotFoundError",
    "NotGiven",
    "NotSupportedError",
    "Omit",
    "OpenAI",
    "OpenAIError",
    "PermissionDeniedError",
    "RateLimitError",
    "Stream",
    "Timeout",
    "UnprocessableEntityError",
    "WebSocketConnectionClosedError",
    "WebSocketQueueFullError",
    "omit",
    "pydantic_function_tool",
]


def __getattr__(name: str) -> Any:
    """Official top-level names the compat layer does not provide (``AzureOpenAI``, ...)."""
    raise refuse(f"openai.{name}", name)
