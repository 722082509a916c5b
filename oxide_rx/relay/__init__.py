"""Relay one paid generation to many viewers: browsers, ``useChat`` front ends, official SDKs.

``oxide-rx serve --port 8080`` runs it; :func:`relay_app` mounts it in your aiohttp app::

    import oxide_rx as ox
    from aiohttp import web
    from oxide_rx.relay import Relay, relay_app

    async def make_app() -> web.Application:
        app = web.Application()
        relay = Relay(ox.OpenAI.from_env())
        app.add_subapp("/relay/", relay_app(relay))
        return app

The pieces, one job each:

- :mod:`~oxide_rx.relay.records`: what is stored per event (one compact msgspec record);
- :mod:`~oxide_rx.relay.log`: :class:`GenerationLog` (the interface) and :class:`MemoryLog`,
  with :class:`LogLimits` and typed errors; :mod:`~oxide_rx.relay.redis_log`: ``RedisLog``,
  the same interface on Redis Streams for several nodes (``pip install 'oxide_rx[redis]'``;
  its keys and scripts in :mod:`~oxide_rx.relay.redis_keys`, replies and errors in
  :mod:`~oxide_rx.relay.redis_wire`);
- :mod:`~oxide_rx.relay.protocols`: one encoder per wire protocol (oxide_rx typed SSE, the
  Vercel AI SDK UI message stream, OpenAI-compatible chat and Responses streams);
- :mod:`~oxide_rx.relay.fanout`: each event encoded once per protocol, shared by all viewers;
- :mod:`~oxide_rx.relay.relay`: :class:`Relay`, the policies (:class:`RelayPolicy`);
  :mod:`~oxide_rx.relay.generation`: the owner side (upstream events in, log entries out);
  :mod:`~oxide_rx.relay.watchers`: viewers per node, shared for the unwatched policy;
  :mod:`~oxide_rx.relay.orphans`: the end written for an owner that died;
- :mod:`~oxide_rx.relay.app`: the aiohttp application, the page's and generations' routes;
  :mod:`~oxide_rx.relay.routes_vercel`, :mod:`~oxide_rx.relay.routes_openai`: the other
  protocols' endpoints; :mod:`~oxide_rx.relay.http`: what they share;
  :mod:`~oxide_rx.relay.page`: the page (HTML, script, stylesheet);
- :mod:`~oxide_rx.relay.adapters`: :func:`encode_stream` for one stream in any framework;
- :mod:`~oxide_rx.relay.serve`: ``oxide-rx serve``.
"""

from __future__ import annotations

from .adapters import encode_stream
from .app import GENERATION_HEADER, relay_app
from .fanout import ViewerTooSlow
from .log import (
    Entry,
    GenerationLog,
    GenerationNotFound,
    InvalidEventId,
    LogLimits,
    MemoryLog,
    OwnerLost,
    RelayError,
    RelayLimitError,
)
from .relay import Relay, RelayPolicy, Started

__all__ = [
    "GENERATION_HEADER",
    "Entry",
    "GenerationLog",
    "GenerationNotFound",
    "InvalidEventId",
    "LogLimits",
    "MemoryLog",
    "OwnerLost",
    "Relay",
    "RelayError",
    "RelayLimitError",
    "RelayPolicy",
    "Started",
    "ViewerTooSlow",
    "encode_stream",
    "relay_app",
]
