"""Streamlit: ``st.write_stream`` of an oxide_rx stream.

    pip install streamlit
    streamlit run examples/adapters/streamlit_app.py

``st.write_stream`` runs an async generator on an event loop of its own, a new one on every
rerun. A stream (and a client's connections) belong to the loop that opened them, so the
stream is opened *inside* the generator, on Streamlit's loop: ``ox.ui.text_deltas`` takes a
function that opens the stream and calls it there. Handing it a stream opened elsewhere (with
``asyncio.run``, or in a cached resource) fails at once with a message saying this.
Offline (no OPENAI_API_KEY) it answers from the built-in mock server.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import streamlit as st

import oxide_rx as ox
from oxide_rx.testing import client_or_mock


async def answer(messages: list[dict[str, str]]) -> AsyncIterator[str]:
    # The client is opened on this run's loop too, and closed when the answer is complete.
    async with client_or_mock() as client:
        async for piece in ox.ui.text_deltas(
            lambda: client.chat.completions.create_stream(model="gpt-4o-mini",
                                                          messages=messages)
        ):
            yield piece


st.title("oxide_rx + Streamlit")
history: list[dict[str, str]] = st.session_state.setdefault("history", [])
for message in history:
    st.chat_message(message["role"]).write(message["content"])
if prompt := st.chat_input("Ask something"):
    history.append({"role": "user", "content": prompt})
    st.chat_message("user").write(prompt)
    with st.chat_message("assistant"):
        text = st.write_stream(answer(list(history)))
    history.append({"role": "assistant", "content": str(text)})
