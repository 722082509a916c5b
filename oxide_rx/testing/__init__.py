"""A mock OpenAI server for tests, benchmarks and offline demos.

It is a real aiohttp server on loopback, so the client under test runs its whole network
path: sockets, chunked bodies, SSE framing, timeouts, disconnects. It builds its JSON from
plain dicts and never imports the client side of ``oxide_rx``.

Usage::

    from oxide_rx.testing import MockServer, Scenario, Fault

    async with MockServer() as server:
        server.enqueue(Scenario.error(429, headers={"retry-after": "1"}), Scenario.text("ok"))
        client = ox.OpenAI(api_key="test", base_url=server.base_url)
        ...
        assert server.requests[-1].json["model"] == "gpt-4o-mini"

Endpoints: ``POST /v1/chat/completions`` and ``POST /v1/responses`` (``stream`` true or
false), ``GET /v1/responses/{id}`` (JSON; ``?stream=true&starting_after=N`` replays a
background response's events after ``N``), ``POST /v1/responses/{id}/cancel``,
``GET /v1/responses`` upgraded to a WebSocket (the Responses API's WebSocket mode: one
``response.create`` text frame in, the same events out as JSON text frames; lanes, chaining
from connection-local state, steering, a connection limit and forced closes: see
:class:`WebSocketMode`, :meth:`MockServer.close_websockets`, ``Fault.close_after``),
``POST /v1/embeddings``, ``GET /v1/models``, ``GET /v1/models/{id}``. Every response has an
``x-request-id`` header; errors use ``{"error": {message, type, param, code}}``.

Choosing the answer. Each request to a model endpoint (chat, responses, embeddings) takes
the next scenario from :meth:`MockServer.enqueue`'s FIFO queue, or the server's default
(``MockServer(scenario=...)``, else :meth:`Scenario.default`: a deterministic four-line reply
built from the last user message, streamed as ~4-character deltas). A request can override
this without code access through headers (the queue is then not consumed):

``X-Mock-Scenario: name[:argument]``
    ``default``, ``text:<text>``, ``tool_calls`` (two parallel ``get_weather`` calls),
    ``function_calls`` (same), ``tool_use`` (those calls, then, to a request carrying their
    results, an answer from them), ``structured[:<json>]`` (a JSON answer; without an
    argument, three cities), ``refusal[:<text>]``, ``reasoning``,
    ``incomplete[:<reason>]``, ``error:<status>[:<message>]``,
    ``response_error[:<code>[:<message>]]``, ``replay:<name>``, ``synthetic[:<events>]``.

``X-Mock-Fault: key[=value], key[=value]; ...`` (``,`` or ``;`` between items)
    ``drop_after=N``  abort the TCP connection after N events (client: payload error);
    ``stall_after=N`` stop writing after N events, hold the connection (``stall_max=S``,
    default 60 s, then abort); ``trickle[=S]`` one byte per write, S seconds apart;
    ``keepalive[=S]`` only ``: keep-alive`` comments every S s for ``keepalive_max=S``
    (default 10 s), then a clean end; ``malformed_at=N`` cut event N's JSON in half;
    ``invalid_utf8_at=N`` invalid UTF-8 inside event N; ``oversized=BYTES`` insert one
    content delta of that size (``oversized_at=N``, default 1); ``endless_line[=BYTES]`` one
    ``data:`` line that never ends; ``gzip_bomb[=BYTES]`` gzip body inflating to BYTES;
    ``truncate[=N]`` clean end without the terminal marker (or after N events); ``html``
    200 with a ``text/html`` page; ``wrong_content_type`` 200 ``application/json`` body on a
    stream request; ``chunking=events|whole|N|random[:SEED]`` how bytes are cut into writes;
    ``headers_delay=S`` sleep before the headers; ``pace=S`` pause S before every event but
    the first; ``hold_after=N`` after N events wait for ``release_held()`` (``hold_max=S``,
    default 60 s, then abort).
    Events count from 0; ``N`` events means "once N events were written".

How each scenario looks on each API (Chat Completions / Responses):

- ``default``, ``text``: ``delta.content`` pieces, ``finish_reason: stop`` / a message item
  with ``response.output_text.delta`` pieces.
- ``tool_calls``: parallel ``delta.tool_calls`` by index / one ``function_call`` item per call
  (``stamp=True``: each chunk / event carries ``x_stamp``, ``time.monotonic_ns()`` at send).
- ``tool_use``: ``tool_calls``, or, when the request ends with tool results (chat ``tool``
  messages / ``function_call_output`` items), a text built from them (a tool runner's loop).
- ``structured``: the value's JSON as ``text``.
- ``refusal``: ``delta.refusal`` pieces / a ``refusal`` part with ``response.refusal.*``.
- ``reasoning``: the text only / a reasoning item (summary parts) and then a message.
- ``incomplete``: ``finish_reason: length`` / ``response.incomplete`` with the reason.
- ``error``: the HTTP status and JSON error body on both, with the scenario's headers.
- ``response_error``: a ``data: {"error": ...}`` frame and no ``[DONE]`` / an ``error`` event
  (nested shape) and then ``response.failed``. Non-streaming: HTTP 500.
- ``replay``: the recorded file, byte for byte, on both.
- ``synthetic``: N ``content`` chunks / N ``response.output_text.delta`` events (with
  ``x_stamp`` when stamped).

Chat honours ``n`` (choices interleaved one chunk at a time), ``stream_options.include_usage``
(``usage: null`` on every chunk, then a ``choices: []`` usage chunk before ``[DONE]``),
``stream_options.include_obfuscation`` (default on), ``logprobs`` and ``top_logprobs``.
Responses with ``background: true`` are stored: a non-streaming create returns the ``queued``
object and each ``GET`` advances it (``in_progress``, then its final state); a streaming
create can be resumed with ``GET …?stream=true&starting_after=N``. A scenario's fault applies
only to the first connection, so a resumed stream is clean. ``cancel`` turns a background
response that is still queued or in progress into ``cancelled``.

Bookkeeping, all observed by the server itself:

- :attr:`MockServer.requests`: every request in order, credential headers removed, each with
  ``received_at`` (the server's ``time.monotonic()``: measure retry waits from here);
- :attr:`MockServer.open_streams`: response bodies being written right now;
  :meth:`MockServer.wait_idle` waits until there are none;
- :attr:`MockServer.disconnects`: bodies whose client left before they ended;
  :meth:`MockServer.wait_for_disconnects` waits until there are ``n``;
- :attr:`MockServer.open_connections`: TCP connections open right now (an idle keep-alive
  connection in a client's pool counts), :attr:`MockServer.accepted_connections`: connections
  accepted since the start; :meth:`MockServer.wait_for_open_connections` waits until exactly
  ``n`` are open. A connection the client closed leaves ``open_connections``; a request that
  leaves ``accepted_connections`` as it was reused a pooled one.

- :meth:`MockServer.model_requests`: the requests to model endpoints (upstream requests made);
- :attr:`MockServer.held` / :meth:`MockServer.wait_for_held` / :meth:`MockServer.release_held`:
  streams paused by the ``hold_after`` fault until released.

Every ``wait_*`` takes a ``timeout`` (seconds) and raises ``TimeoutError`` when it passes.
"""

from __future__ import annotations

from typing import Any

from ._faults import Chunking, Fault
from ._scenarios import Scenario
from ._server import MockServer, RecordedRequest, mock_server, run
from ._websocket import WebSocketMessage, WebSocketMode

__all__ = ["Chunking", "Fault", "MockServer", "RecordedRequest", "Scenario", "WebSocketMessage",
           "WebSocketMode", "mock_server", "run"]


def __getattr__(name: str) -> Any:
    """``client_or_mock`` (a client on the mock when offline) is imported lazily, on first
    access, so that importing the mock server (as the pytest plugin does) never imports the
    client side of the package.
    """
    if name == "client_or_mock":
        from ._offline import client_or_mock

        return client_or_mock
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
