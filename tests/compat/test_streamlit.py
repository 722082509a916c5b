"""Streamlit's ``st.write_stream`` over a compat stream renders the text, as it does over the
official client's: Streamlit recognises OpenAI chunks by their class, and compat's are the
official classes."""

from __future__ import annotations

import pytest

testing = pytest.importorskip(
    "streamlit.testing.v1", reason="streamlit is not installed (it is in the test extra)")

SCRIPT = """
import streamlit as st
from {module} import OpenAI

client = OpenAI(api_key="sk-test", base_url={base_url!r})
stream = client.chat.completions.create(
    model="m", messages=[{{"role": "user", "content": "Hi"}}], stream=True,
    extra_headers={{"X-Mock-Scenario": "text:Streamed through **Streamlit**."}})
st.session_state["written"] = st.write_stream(stream)
"""


def _render(module: str, base_url: str) -> tuple[str, object]:
    script = SCRIPT.format(module=module, base_url=base_url)
    app = testing.AppTest.from_string(script, default_timeout=30).run()
    assert not app.exception, app.exception
    return app.markdown[0].value, app.session_state["written"]


def test_write_stream_renders_a_compat_stream_as_an_official_one(base_url: str) -> None:
    official = _render("openai", base_url)
    compat = _render("oxide_rx.compat", base_url)
    assert compat == official == ("Streamed through **Streamlit**.",
                                  "Streamed through **Streamlit**.")
