"""The relay's page: one HTML file, one script, one stylesheet. No build step, no framework.

The script follows one generation through ``EventSource`` on ``generations/{id}/events``
(oxide_rx's typed SSE). The generation id lives in the page's URL (``?g=...``), so a reload
replays the generation from its first event and then follows it live: the answer appears
once, whole. A dropped connection resumes with ``Last-Event-ID`` (the browser does that).
"""

from __future__ import annotations

import functools
from importlib import resources

__all__ = ["asset"]


@functools.cache
def asset(name: str) -> bytes:
    """The bytes of a page file (``index.html``, ``app.js``, ``app.css``)."""
    return resources.files(__package__).joinpath(name).read_bytes()
