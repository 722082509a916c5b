"""Adapters from a stream to what UI frameworks expect, and the terminal app.

Most Python UI and web frameworks take one of three shapes (see each function):

- an async iterator of text **deltas**: Streamlit's ``st.write_stream``;
- an async iterator of the **text so far**, paced: Gradio, Panel, NiceGUI generators;
- server-sent events **re-served to a browser**: aiohttp / FastAPI / Starlette responses.

Each adapter subscribes before it starts the stream, so it sees every event, and disposes its
subscription when the consumer stops (``break``, cancellation, client disconnect), which lets
the stream's lifetime rules abort the request when nobody else listens.

``iter_text`` / ``iter_snapshots`` are the plain iterators (pulled at the consumer's pace);
``metrics_of`` records time to first token, output rate and stalls (:class:`StreamMetrics`,
frozen as a :class:`Metrics` event). For Textual, see :mod:`oxide_rx.ui.textual` and the
``oxide-rx tui`` app in :mod:`oxide_rx.ui.tui` (both need the ``tui`` extra).
"""

from __future__ import annotations

from .._core.metrics import Metrics, StreamMetrics
from ._adapters import observe, sse_relay, text_deltas, text_snapshots
from ._iterators import iter_snapshots, iter_text
from ._metrics import metrics_of

__all__ = [
    "Metrics",
    "StreamMetrics",
    "iter_snapshots",
    "iter_text",
    "metrics_of",
    "observe",
    "sse_relay",
    "text_deltas",
    "text_snapshots",
]
