"""Adapters from a stream to what UI frameworks expect, and the terminal app.

Most Python UI and web frameworks take one of three shapes (see each function):

- an async iterator of text **deltas**: Streamlit's ``st.write_stream``;
- an async iterator of the **text so far**, paced: Gradio, Panel, NiceGUI generators;
- server-sent events **re-served to a browser**: aiohttp / FastAPI / Starlette responses.

Each adapter subscribes before it starts the stream, so it sees every event, and disposes its
subscription when the consumer stops (``break``, cancellation, client disconnect), which lets
the stream's lifetime rules abort the request when nobody else listens.

``iter_text`` / ``iter_snapshots`` are the streams' plain iterators (pulled at the consumer's
pace) as functions. Time to first token, output rate and stalls are on every stream
(``stream.metrics``, and a :class:`~oxide_rx.Metrics` event at the end). For Textual, see
:mod:`oxide_rx.ui.textual` and the ``oxide-rx tui`` app in :mod:`oxide_rx.ui.tui` (both need
the ``tui`` extra).
"""

from __future__ import annotations

from ._adapters import observe, sse_relay, text_deltas, text_snapshots
from ._iterators import iter_snapshots, iter_text

__all__ = [
    "iter_snapshots",
    "iter_text",
    "observe",
    "sse_relay",
    "text_deltas",
    "text_snapshots",
]
