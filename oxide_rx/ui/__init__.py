"""Adapters from a stream to what UI frameworks expect.

Most Python UI and web frameworks take one of three shapes (see each function):

- an async iterator of text **deltas**: Streamlit's ``st.write_stream``;
- an async iterator of the **text so far**, paced: Gradio, Panel, NiceGUI generators;
- server-sent events **re-served to a browser**: aiohttp / FastAPI / Starlette responses.

Each adapter subscribes before it starts the stream, so it sees every event, and disposes its
subscription when the consumer stops (``break``, cancellation, client disconnect), which lets
the stream's lifetime rules abort the request when nobody else listens. For Textual, see
:mod:`oxide_rx.ui.textual` (needs the ``ui`` extra).
"""

from __future__ import annotations

from ._adapters import observe, sse_relay, text_deltas, text_snapshots

__all__ = ["observe", "sse_relay", "text_deltas", "text_snapshots"]
