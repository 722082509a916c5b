"""The mock server: an aiohttp app on loopback that speaks the OpenAI HTTP API."""

from __future__ import annotations

import asyncio
import collections
import re
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from ssl import SSLContext
from types import TracebackType
from typing import Any, Self

import msgspec
from aiohttp import web

from ._chat import ChatParams, chat_completion, chat_stream
from ._connections import ConnectionBook
from ._embeddings import embeddings_body, model_object, models_body
from ._faults import Fault
from ._http import Counters, decode_json, error_response, json_response
from ._plan import BodyPlan
from ._responses import ResponseRun, ResponsesParams
from ._scenarios import (
    DefaultScenario,
    ErrorScenario,
    ReplayScenario,
    ResponseErrorScenario,
    Scenario,
    error_body,
)
from ._store import ResponseStore
from ._websocket import WebSocketHub, WebSocketMessage, WebSocketMode
from ._writer import write_body

__all__ = ["MockServer", "RecordedRequest", "mock_server", "run"]

_CREDENTIAL_HEADERS = frozenset(
    {"authorization", "api-key", "x-api-key", "proxy-authorization", "cookie"}
)
_BACKLOG = 4096
_EVENT_END = re.compile(rb"(?<=\n\n)|(?<=\r\n\r\n)|(?<=\r\r)")


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the server saw it. Credential headers are never kept.

    ``received_at`` is the server's :func:`time.monotonic` when the request's body was in,
    so tests can measure the gaps between requests (retry waits) from the server's side.

    >>> RecordedRequest("POST", "/v1/responses", {}, {"model": "m"}, {}).json["model"]
    'm'
    """

    method: str
    path: str
    query: dict[str, str]
    json: Any
    headers: dict[str, str]
    received_at: float = 0.0


class MockServer:
    """A real OpenAI-compatible HTTP server on ``127.0.0.1`` for tests, benchmarks and demos.

    Each request to a model endpoint (chat completions, responses, embeddings) takes the next
    enqueued :class:`Scenario`, or the default one when the queue is empty.

    >>> async def demo() -> None:
    ...     async with MockServer() as server:
    ...         server.enqueue(Scenario.error(503), Scenario.text("ok"))
    ...         print(server.base_url)  # http://127.0.0.1:<port>/v1
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        api_key: str | None = None,
        scenario: Scenario | None = None,
        recordings_dir: str | Path | None = None,
        websocket: WebSocketMode | None = None,
        ssl: SSLContext | None = None,
    ) -> None:
        self.host = host
        self.ssl = ssl
        """A server-side TLS context: serve HTTPS (and ``wss``) instead of plain HTTP."""
        self.port = port
        self.api_key = api_key
        self.default_scenario = scenario or DefaultScenario()
        self.recordings_dir = Path(recordings_dir) if recordings_dir is not None else None
        self.requests: list[RecordedRequest] = []
        self._queue: collections.deque[Scenario] = collections.deque()
        self._counters = Counters()
        self._store = ResponseStore(self._counters)
        self._connections = ConnectionBook()
        self._websockets = WebSocketHub(websocket or WebSocketMode(), self._counters)
        self._runner: web.AppRunner | None = None
        self._listener: asyncio.Server | None = None

    # --- lifecycle --------------------------------------------------------------------------

    async def start(self) -> None:
        """Bind and start serving (``async with`` does this for you)."""
        self._runner = web.AppRunner(self._app(), access_log=None, shutdown_timeout=0.25)
        await self._runner.setup()
        handlers = self._runner.server
        assert handlers is not None
        # What web.TCPSite does, with each connection counted on its way in and out, and a
        # deep listen queue: benchmarks and soak tests open connections by the thousand.
        self._listener = await asyncio.get_running_loop().create_server(
            self._connections.counting(handlers), self.host, self.port, backlog=_BACKLOG,
            ssl=self.ssl,
        )
        self.port = self._listener.sockets[0].getsockname()[1]

    async def close(self) -> None:
        """Stop serving; streams still open are cut without counting as disconnects."""
        self._counters.closing = True
        if self._listener is not None:
            self._listener.close()  # no new connections; the runner closes the open ones
            self._listener = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>/v1`` (``https`` with ``ssl``): the client's ``base_url``."""
        return f"{'https' if self.ssl is not None else 'http'}://{self.host}:{self.port}/v1"

    # --- scripting and observation ----------------------------------------------------------

    def enqueue(self, *scenarios: Scenario) -> None:
        """Queue answers, first in first out; one is used per model request."""
        self._queue.extend(scenarios)

    @property
    def open_streams(self) -> int:
        """Number of response bodies being written right now."""
        return self._counters.open

    @property
    def disconnects(self) -> int:
        """Number of bodies whose client went away before the body ended."""
        return self._counters.disconnects

    async def wait_for_disconnects(self, n: int, timeout: float = 5.0) -> None:
        """Wait until :attr:`disconnects` reaches ``n``; ``TimeoutError`` otherwise."""
        await self._wait(lambda: self._counters.disconnects >= n, timeout)

    @property
    def held(self) -> int:
        """Number of bodies waiting at a :meth:`Fault.hold_after` point right now."""
        return self._counters.held

    async def wait_for_held(self, n: int = 1, timeout: float = 5.0) -> None:
        """Wait until :attr:`held` reaches ``n``; ``TimeoutError`` otherwise."""
        await self._wait(lambda: self._counters.held >= n, timeout)

    def release_held(self) -> None:
        """Let every body held by :meth:`Fault.hold_after` go on (and later ones pass)."""
        self._counters.released.set()

    def model_requests(self, path: str = "") -> list[RecordedRequest]:
        """The recorded ``POST`` requests to model endpoints whose path ends with ``path``
        (``"/chat/completions"``, ``"/responses"``): how many upstream requests were made."""
        models = ("/v1/chat/completions", "/v1/responses", "/v1/embeddings")
        return [r for r in self.requests
                if r.method == "POST" and r.path in models and r.path.endswith(path)]

    async def wait_idle(self, timeout: float = 5.0) -> None:
        """Wait until no body is being written; ``TimeoutError`` otherwise."""
        await self._wait(lambda: self._counters.open == 0, timeout)

    @property
    def open_connections(self) -> int:
        """TCP connections open right now, as the server sees them: accepted and not yet closed
        by either side (a client's idle keep-alive connection counts)."""
        return self._connections.open

    @property
    def accepted_connections(self) -> int:
        """TCP connections accepted since the server started. A request that does not raise
        it was served on a connection the client reused."""
        return self._connections.accepted

    async def wait_for_open_connections(self, n: int, timeout: float = 5.0) -> None:
        """Wait until exactly ``n`` connections are open (:attr:`open_connections`);
        ``TimeoutError`` otherwise. ``n=0``: every client connection is closed."""
        await self._wait(lambda: self._connections.open == n, timeout)

    # --- WebSocket mode -----------------------------------------------------------------------

    @property
    def websocket(self) -> WebSocketMode:
        """How the WebSocket endpoint behaves (change its fields between requests)."""
        return self._websockets.mode

    @property
    def websocket_messages(self) -> list[WebSocketMessage]:
        """Every message clients sent on a WebSocket, in order, with its connection number."""
        return self._websockets.messages

    @property
    def websocket_upgrades(self) -> int:
        """WebSocket connections accepted since the start (a reconnect adds one)."""
        return self._websockets.upgrades

    async def close_websockets(self, code: int = 1001) -> None:
        """Close every open WebSocket connection with ``code`` now (1005 sends a close frame
        without a code, 1006 aborts the connection, 1015 puts the reserved code on the wire)."""
        await self._websockets.close_all(code)

    async def _wait(self, predicate: Callable[[], bool], timeout: float) -> None:
        async with asyncio.timeout(timeout):
            while not predicate():
                await asyncio.sleep(0.005)

    # --- plumbing ---------------------------------------------------------------------------

    def _app(self) -> web.Application:
        app = web.Application(middlewares=[self._middleware], client_max_size=64 * 1024 * 1024)
        app.on_response_prepare.append(self._stamp_request_id)
        app.router.add_post("/v1/chat/completions", self._chat)
        app.router.add_post("/v1/responses", self._responses_create)
        app.router.add_get("/v1/responses", self._responses_websocket)
        app.router.add_get("/v1/responses/{id}", self._store.get)
        app.router.add_post("/v1/responses/{id}/cancel", self._store.cancel)
        app.router.add_post("/v1/embeddings", self._embeddings)
        app.router.add_get("/v1/models", self._models)
        app.router.add_get("/v1/models/{id}", self._model)
        app.router.add_route("*", "/{tail:.*}", self._not_found)
        return app

    @web.middleware
    async def _middleware(
        self, request: web.Request, handler: Callable[[web.Request], Any]
    ) -> web.StreamResponse:
        raw = await request.read()
        body = decode_json(raw)
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _CREDENTIAL_HEADERS}
        self.requests.append(
            RecordedRequest(
                request.method, request.path, dict(request.query), body, headers, time.monotonic()
            )
        )
        expected = f"Bearer {self.api_key}"
        if self.api_key is not None and request.headers.get("Authorization") != expected:
            return error_response(401, "Incorrect API key provided.", code="invalid_api_key")
        if raw and body is None and request.method == "POST":
            return error_response(400, "We could not parse the JSON body of your request.")
        response: web.StreamResponse = await handler(request)
        return response

    async def _stamp_request_id(self, request: web.Request, response: web.StreamResponse) -> None:
        response.headers["x-request-id"] = "req_" + uuid.uuid4().hex
        response.headers.setdefault("openai-processing-ms", "1")

    def _take(self, request: web.Request) -> Scenario:
        """The scenario for this request: header override, else the queue, else the default."""
        header = request.headers.get("X-Mock-Scenario")
        if header:
            scenario = Scenario.parse(header)
        elif self._queue:
            scenario = self._queue.popleft()
        else:
            scenario = self.default_scenario
        fault = request.headers.get("X-Mock-Fault")
        return scenario.with_fault(Fault.parse(fault)) if fault else scenario

    async def _write(
        self, request: web.Request, plan: BodyPlan, fault: Fault | None, **kw: Any
    ) -> web.StreamResponse:
        return await write_body(request, plan, fault, self._counters, **kw)

    async def _send_json(
        self, request: web.Request, payload: Any, scenario: Scenario | None, status: int = 200
    ) -> web.StreamResponse:
        fault = scenario.fault if scenario is not None else None
        headers = dict(scenario.headers) if isinstance(scenario, ErrorScenario) else None
        if fault is None:
            return json_response(payload, status, headers)
        plan = BodyPlan(frames=[msgspec.json.encode(payload)], content_type="application/json")
        return await self._write(request, plan, fault, status=status, headers=headers)

    async def _early(self, request: web.Request, scenario: Scenario) -> web.StreamResponse | None:
        """Answers that do not depend on the API: HTTP errors and recordings."""
        if isinstance(scenario, ErrorScenario):
            return await self._send_json(request, scenario.body(), scenario, scenario.status)
        if isinstance(scenario, ReplayScenario):
            path = self._recording(scenario.source)
            if path is None:
                message = f"mock: no recording {scenario.source!r}"
                return error_response(404, message, code="not_found")
            frames = [f for f in _EVENT_END.split(path.read_bytes()) if f]
            return await self._write(request, BodyPlan(frames=frames), scenario.fault)
        return None

    def _recording(self, source: str) -> Path | None:
        candidates = [Path(source)]
        if self.recordings_dir is not None:
            candidates += [self.recordings_dir / source, self.recordings_dir / f"{source}.sse"]
        return next((p for p in candidates if p.is_file()), None)

    def _scenario_for(self, request: web.Request) -> Scenario | web.Response:
        try:
            return self._take(request)
        except ValueError as exc:
            return error_response(400, f"mock: {exc}")

    async def _begin(self, request: web.Request) -> tuple[Scenario, Any] | web.StreamResponse:
        """The scenario and JSON body of a model request, or the answer that replaces it
        (a bad scenario header, an HTTP error scenario, a recording)."""
        scenario = self._scenario_for(request)
        if isinstance(scenario, web.Response):
            return scenario
        early = await self._early(request, scenario)
        if early is not None:
            return early
        body = decode_json(await request.read())
        return scenario.for_request(body), body

    async def _server_error(
        self, request: web.Request, scenario: ResponseErrorScenario
    ) -> web.StreamResponse:
        """A ``response_error`` scenario without streaming: HTTP 500 with its code."""
        error = error_body(scenario.message, "server_error", scenario.code)
        return await self._send_json(request, error, scenario, 500)

    # --- handlers ---------------------------------------------------------------------------

    async def _chat(self, request: web.Request) -> web.StreamResponse:
        begun = await self._begin(request)
        if isinstance(begun, web.StreamResponse):
            return begun
        scenario, body = begun
        params = ChatParams.from_body(body)
        if isinstance(body, dict) and body.get("stream"):
            return await self._write(request, chat_stream(scenario, params), scenario.fault)
        if isinstance(scenario, ResponseErrorScenario):
            return await self._server_error(request, scenario)
        return await self._send_json(request, chat_completion(scenario, params), scenario)

    async def _responses_create(self, request: web.Request) -> web.StreamResponse:
        begun = await self._begin(request)
        if isinstance(begun, web.StreamResponse):
            return begun
        scenario, body = begun
        params = ResponsesParams.from_body(body)
        stream = isinstance(body, dict) and bool(body.get("stream"))
        run = ResponseRun(scenario, params)
        if params.background:
            # Generated up front and kept whole, so that any later connection can resume it.
            frames = list(run.events())
            self._store.keep(run, frames, "in_progress" if stream else "queued")
            if not stream:
                return await self._send_json(request, run.snapshot("queued"), scenario)
            try:
                plan = run.plan(iter(frames))
                return await self._write(request, plan, scenario.fault)
            finally:
                self._store.finished(run)
        if not stream and isinstance(scenario, ResponseErrorScenario):
            return await self._server_error(request, scenario)
        if not stream:
            payload = run.json_body()
            self._store.keep(run, None, payload["status"])
            return await self._send_json(request, payload, scenario)
        resp = await self._write(request, run.plan(), scenario.fault)
        if run.final is not None:
            self._store.keep(run, None, run.final["status"])
        return resp

    async def _responses_websocket(self, request: web.Request) -> web.StreamResponse:
        return await self._websockets.serve(request, self._take, self._recording)

    async def _embeddings(self, request: web.Request) -> web.StreamResponse:
        begun = await self._begin(request)
        if isinstance(begun, web.StreamResponse):
            return begun
        scenario, body = begun
        return await self._send_json(request, embeddings_body(body), scenario)

    async def _models(self, request: web.Request) -> web.StreamResponse:
        return json_response(models_body())

    async def _model(self, request: web.Request) -> web.StreamResponse:
        model = model_object(request.match_info["id"])
        if model is None:
            message = f"The model '{request.match_info['id']}' does not exist"
            return error_response(404, message, code="model_not_found")
        return json_response(model)

    async def _not_found(self, request: web.Request) -> web.StreamResponse:
        return error_response(404, f"mock: no route for {request.method} {request.path}")


@asynccontextmanager
async def mock_server(
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    api_key: str | None = None,
    scenario: Scenario | None = None,
    recordings_dir: str | Path | None = None,
    websocket: WebSocketMode | None = None,
) -> AsyncIterator[str]:
    """A running :class:`MockServer`, yielding only its ``base_url``.

    >>> async def demo() -> None:
    ...     async with mock_server() as base_url:
    ...         print(base_url)
    """
    server = MockServer(
        host=host, port=port, api_key=api_key, scenario=scenario, recordings_dir=recordings_dir,
        websocket=websocket,
    )
    async with server:
        yield server.base_url


def run(host: str = "127.0.0.1", port: int = 8765, **kw: Any) -> None:
    """Serve until interrupted (Ctrl-C); used by ``oxide-rx mock-server --port N``."""

    async def serve() -> None:
        async with MockServer(host=host, port=port, **kw) as server:
            print(f"oxide_rx mock server listening on {server.base_url}", flush=True)
            while True:
                await asyncio.sleep(3600)

    started = time.monotonic()
    try:
        asyncio.run(serve())
    except KeyboardInterrupt:
        print(f"mock server stopped after {time.monotonic() - started:.0f} s", flush=True)
