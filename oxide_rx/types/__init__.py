"""Wire types: msgspec Structs mirroring the OpenAI API.

* :mod:`oxide_rx.types.chat` — Chat Completions (``ChatCompletionChunk``, ``ChatCompletion``).
* :mod:`oxide_rx.types.responses` — Responses API stream events and the ``Response`` object.
* :mod:`oxide_rx.types.shared` — the common Struct base.

Import the module you need; this package imports nothing on its own, so using one API never
loads the other's types.
"""

from __future__ import annotations
