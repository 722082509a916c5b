"""``client.responses.connect()`` of the synchronous client: the async connection
(:mod:`._websocket`) run on the compat client's loop thread, behind blocking methods.

>>> with client.responses.connect() as connection:          # doctest: +SKIP
...     connection.response.create(model="gpt-5.4-mini", input="Hi")
...     for event in connection:
...         print(event.type)
"""

from __future__ import annotations

from collections.abc import Coroutine, Iterator
from typing import Any, Protocol, TypeVar

from ._websocket import (
    AsyncResponsesConnection,
    AsyncResponsesConnectionManager,
    HandlerMethods,
    HandlerRegistry,
    Settings,
    WebSocketConnectionClosedError,
)

__all__ = ["ResponsesConnection", "ResponsesConnectionManager"]

_T = TypeVar("_T")


class Runner(Protocol):
    """The synchronous client's loop thread (``compat/_loop.py`` ``LoopThread``)."""

    def run(self, coro: Coroutine[Any, Any, _T]) -> _T: ...


class ResponsesResponseResource:
    def __init__(self, connection: ResponsesConnection) -> None:
        self._connection = connection

    def create(self, **params: Any) -> None:
        self._connection._run(self._connection._async.response.create(**params))

    def steer(self, *, input: Any, previous_response_id: str) -> None:
        self._connection._run(self._connection._async.response.steer(
            input=input, previous_response_id=previous_response_id))


class ResponsesConnection(HandlerMethods):
    """The blocking connection: the async one, run on the compat client's loop thread."""

    def __init__(self, connection: AsyncResponsesConnection, runner: Runner) -> None:
        self._async = connection
        self._run = runner.run
        self.response = ResponsesResponseResource(self)

    def recv(self) -> Any:
        return self._run(self._async.recv())

    def recv_bytes(self) -> bytes:
        return self._run(self._async.recv_bytes())

    def parse_event(self, data: str | bytes) -> Any:
        return self._async.parse_event(data)

    def __iter__(self) -> Iterator[Any]:
        while True:
            try:
                yield self.recv()
            except WebSocketConnectionClosedError:
                if not self._run(self._async._reconnected()):
                    if self._async._closed_by_us or self._async._closed_code == 1000:
                        return
                    raise

    def send(self, event: Any) -> None:
        self._run(self._async.send(event))

    def send_raw(self, data: bytes | str) -> None:
        self._run(self._async.send_raw(data))

    def close(self, *, code: int = 1000, reason: str = "") -> None:
        self._run(self._async.close(code=code, reason=reason))

    def _registry(self) -> HandlerRegistry:
        return self._async._handlers

    def dispatch_events(self) -> None:
        for event in self:
            for handler in self._async._handlers.due(event):
                handler(event)


class ResponsesConnectionManager(HandlerMethods):
    """``with client.responses.connect(...) as connection:`` (or ``.enter()``)."""

    def __init__(self, settings: Settings, runner: Runner, **options: Any) -> None:
        self._async = AsyncResponsesConnectionManager(settings, **options)
        self._runner = runner
        self._connection: ResponsesConnection | None = None

    def send(self, event: Any) -> None:
        self._async.send(event)

    def _registry(self) -> HandlerRegistry:
        return self._async._handlers

    def __enter__(self) -> ResponsesConnection:
        self._connection = ResponsesConnection(self._runner.run(self._async.enter()),
                                               self._runner)
        return self._connection

    enter = __enter__

    def __exit__(self, *exc_info: object) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None
