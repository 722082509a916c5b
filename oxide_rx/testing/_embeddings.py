"""``/v1/embeddings`` and ``/v1/models`` bodies: small, deterministic, API-shaped."""

from __future__ import annotations

import base64
import hashlib
import math
import struct
from collections.abc import Mapping
from typing import Any

__all__ = ["MODELS", "embedding_vector", "embeddings_body", "model_object", "models_body"]

MODELS = (
    "gpt-4o-mini",
    "gpt-4o",
    "gpt-4.1-nano",
    "gpt-5-nano",
    "o3-mini",
    "text-embedding-3-small",
)
_CREATED = 1_700_000_000


def embedding_vector(text: str, dimensions: int = 8) -> list[float]:
    """A unit vector derived from ``text``: same text, same vector.

    >>> embedding_vector("hello") == embedding_vector("hello")
    True
    """
    raw: list[float] = []
    counter = 0
    while len(raw) < dimensions:
        digest = hashlib.sha256(f"{counter}\x00{text}".encode()).digest()
        raw.extend((byte - 127.5) / 127.5 for byte in digest)
        counter += 1
    vector = raw[:dimensions]
    norm = math.sqrt(sum(x * x for x in vector)) or 1.0
    return [x / norm for x in vector]


def _inputs(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and value and all(isinstance(v, int) for v in value):
        return [str(value)]  # one tokenised input
    if isinstance(value, list):
        return [v if isinstance(v, str) else str(v) for v in value]
    return [""]


def embeddings_body(body: Any) -> dict[str, Any]:
    """The ``/v1/embeddings`` response for a request body (``float`` or ``base64``)."""
    request = body if isinstance(body, Mapping) else {}
    dimensions = int(request.get("dimensions") or 8)
    as_base64 = request.get("encoding_format") == "base64"
    data = []
    tokens = 0
    for index, text in enumerate(_inputs(request.get("input"))):
        vector = embedding_vector(text, dimensions)
        tokens += max(1, len(text) // 4)
        embedding: Any = vector
        if as_base64:
            embedding = base64.b64encode(struct.pack(f"<{dimensions}f", *vector)).decode()
        data.append({"object": "embedding", "index": index, "embedding": embedding})
    return {
        "object": "list",
        "data": data,
        "model": str(request.get("model") or "text-embedding-3-small"),
        "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
    }


def model_object(model_id: str) -> dict[str, Any] | None:
    """The ``model`` object for a known id, else None."""
    if model_id not in MODELS:
        return None
    owner = "openai" if model_id.startswith("text-") else "system"
    return {"id": model_id, "object": "model", "created": _CREATED, "owned_by": owner}


def models_body() -> dict[str, Any]:
    """The ``/v1/models`` list."""
    return {"object": "list", "data": [model_object(m) for m in MODELS]}
