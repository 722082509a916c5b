"""The Responses API's WebSocket mode at the transport level: the handshake, close codes,
the reconnect delays, proxies, and the errors a connection can end with.

The handshake (:func:`open_websocket`) is an HTTP ``GET /v1/responses`` upgraded to a
WebSocket, with the requester's credentials and headers. It keeps the promises the HTTP
requests keep (``_transport/requester.py``):

- **No redirects.** aiohttp's ``ws_connect`` follows redirects and would forward ``api-key``,
  ``X-Api-Key`` and organization headers to another origin; a middleware on the handshake's
  own session stops at any answer that is not ``101``, so a 3xx is an
  :class:`~oxide_rx.APIStatusError` saying redirects are not followed.
- **Typed refusals, with the server's reason.** A non-101 answer is read (bounded) like an
  HTTP error body: ``401`` is an :class:`~oxide_rx.AuthenticationError` with the API's code.
  The error is raised outside any ``except`` block, so neither its ``__cause__`` nor its
  hidden ``__context__`` reaches aiohttp's request (whose headers hold the bearer key).
- **Retries before the upgrade only**, on the same statuses and with the same backoff as
  HTTP requests; **proxies** from the requester (``HTTPS_PROXY`` / ``HTTP_PROXY`` /
  ``NO_PROXY``, the client's ``proxy=``: :meth:`Requester.proxy_for`).

The connection itself (reading frames, sending, closing fast) is
:mod:`oxide_rx._transport.websocket_link`; the session on top (lanes, chaining, reconnects)
is :mod:`oxide_rx._client.websocket`.
"""

from __future__ import annotations

import asyncio
import random
import re
import ssl
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import aiohttp

from .._exceptions import APIConnectionError, APIError, APIStatusError, OxideRxError
from .bodies import read_status_error
from .errors import connection_error
from .requester import Requester
from .retry import MAX_RETRY_AFTER, backoff_delay, retry_after, should_retry
from .timeouts import Timeout

__all__ = [
    "CLOSE_GRACE_SECONDS",
    "MESSAGE_TOO_BIG",
    "RECOVERABLE_CLOSE_CODES",
    "ReconnectPolicy",
    "WebSocketClosedError",
    "WebSocketLimitError",
    "WebSocketRefusedError",
    "WebSocketUsageError",
    "close_code_of",
    "is_recoverable_close",
    "open_websocket",
    "websocket_url",
]

CLOSE_GRACE_SECONDS = 0.5
"""How long closing waits, in all, for the server to answer our close frame before the
socket is closed anyway (aiohttp waits up to 10 s per frame received meanwhile)."""

RECOVERABLE_CLOSE_CODES = frozenset({1001, 1005, 1006, 1011, 1012, 1013, 1015})
"""Close codes worth reconnecting after (RFC 6455 §7.4.1; the official SDKs' table): going
away, no status, abnormal closure (a dropped connection), internal error, service restart,
try again later, TLS failure. 1000 and the protocol/policy codes end the session."""

NO_STATUS = 1005
ABNORMAL = 1006
MESSAGE_TOO_BIG = 1009
TLS_FAILURE = 1015
# Codes a peer must not put on the wire; aiohttp reports one as a protocol error, and the
# code the peer sent is what it meant.
_RESERVED_CODE = re.compile(r"Invalid close code: (1005|1006|1015)\b")


def is_recoverable_close(code: int) -> bool:
    """Whether a connection closed with ``code`` is worth a reconnect.

    >>> is_recoverable_close(1012), is_recoverable_close(1000), is_recoverable_close(1008)
    (True, False, False)
    """
    return code in RECOVERABLE_CLOSE_CODES


def close_code_of(message: aiohttp.WSMessage | None, exception: BaseException | None) -> int:
    """The close code a connection ended with, as the official SDKs count it.

    A close frame gives its code (an empty one is 1005, "no status"); a protocol error its
    own code (1002, 1009 ...); a TLS error 1015; anything else (a dropped connection) 1006.

    >>> close_code_of(aiohttp.WSMessage(aiohttp.WSMsgType.CLOSE, 0, ""), None)
    1005
    """
    if message is not None and message.type is aiohttp.WSMsgType.CLOSE:
        return int(message.data) or NO_STATUS
    error = exception
    while error is not None:
        if isinstance(error, ssl.SSLError):
            return TLS_FAILURE
        if isinstance(error, aiohttp.WebSocketError):
            reserved = _RESERVED_CODE.search(str(error))
            return int(reserved.group(1)) if reserved else int(error.code)
        error = error.__cause__ or error.__context__
    return ABNORMAL


@dataclass(frozen=True, slots=True)
class ReconnectPolicy:
    """How a WebSocket session reconnects after a recoverable close (the official SDK's
    defaults): up to ``max_retries`` attempts in a row without progress (any event received
    resets the count), waiting ``min(initial_delay * 2**(attempt-1), max_delay)`` scaled by a
    jitter in [0.75, 1] before each. ``max_retries=0`` never reconnects.

    >>> ReconnectPolicy().delay(3, jitter=1.0), ReconnectPolicy().delay(9, jitter=0.0)
    (2.0, 6.0)
    """

    max_retries: int = 5
    initial_delay: float = 0.5
    max_delay: float = 8.0

    def __post_init__(self) -> None:
        if self.max_retries < 0 or self.initial_delay < 0 or self.max_delay < 0:
            raise ValueError(f"reconnect settings must not be negative: {self}")

    def delay(self, attempt: int, jitter: float | None = None) -> float:
        """Seconds to wait before reconnect ``attempt`` (1-based); ``jitter`` in [0, 1] is
        drawn at random when not given."""
        base = min(self.initial_delay * 2.0 ** min(attempt - 1, 64), self.max_delay)
        draw = random.random() if jitter is None else jitter
        return base * (0.75 + 0.25 * draw)


class WebSocketClosedError(APIConnectionError):
    """The WebSocket connection is closed and will not come back: closed by the caller, by
    the server with a code that is not recoverable, or reconnects were spent.

    ``close_code`` is the code it closed with (``None`` when closed by the caller);
    ``unsent`` holds the client messages (JSON text) that were never sent.
    """

    def __init__(
        self, message: str, *, close_code: int | None = None, unsent: Sequence[str] = ()
    ) -> None:
        super().__init__(message)
        self.close_code = close_code
        self.unsent: list[str] = list(unsent)


class WebSocketLimitError(OxideRxError):
    """A WebSocket budget would be exceeded: the send queue (``max_queue_size`` bytes waiting
    for a connection), the size of one message, or the number of lanes. Nothing was sent."""


class WebSocketUsageError(OxideRxError, ValueError):
    """A WebSocket session was asked for something it cannot do (a second response on a busy
    lane, ``background`` over WebSocket, steering with nothing to steer, a bad lane name)."""


class WebSocketRefusedError(APIConnectionError):
    """The server answered the upgrade without becoming a WebSocket (a proxy that strips the
    ``Upgrade`` header, a server without the mode). ``status`` is its HTTP status."""

    def __init__(self, message: str, *, status: int) -> None:
        super().__init__(message)
        self.status = status


def websocket_url(base_url: str) -> str:
    """``https://host/v1`` -> ``wss://host/v1/responses`` (and http -> ws).

    >>> websocket_url("http://127.0.0.1:8000/v1")
    'ws://127.0.0.1:8000/v1/responses'
    """
    scheme, rest = base_url.split("://", 1)
    return f"{'wss' if scheme == 'https' else 'ws'}://{rest.rstrip('/')}/responses"


async def open_websocket(
    requester: Requester,
    timeout: Timeout,
    *,
    extra_headers: Mapping[str, str] | None = None,
    extra_query: Mapping[str, str] | None = None,
    proxy: str | None = None,
    max_retries: int | None = None,
    heartbeat: float | None = None,
) -> aiohttp.ClientWebSocketResponse:
    """Open a WebSocket to ``{base_url}/responses`` with the requester's credentials.

    ``heartbeat``: after that many seconds without a frame, ping; no pong within half of it
    closes the connection (1006), so a silently dead connection is noticed.

    ``proxy`` (else the requester's ``proxy_for``: ``proxy=``, then the environment) carries the
    handshake. Statuses the HTTP requests retry (429, 5xx ...) and connection errors are
    retried up to ``max_retries`` (default: the requester's) with backoff. Raises
    :class:`~oxide_rx.APIStatusError` subclasses for refusals (3xx included: redirects are
    not followed), :class:`WebSocketRefusedError` for an answer that is not an upgrade, and
    :class:`~oxide_rx.APIConnectionError` / :class:`~oxide_rx.APITimeoutError`.
    """
    url = websocket_url(requester.base_url)
    headers = requester.headers(stream=True, extra=extra_headers)
    headers.pop("Content-Type", None)
    headers.pop("Accept", None)
    query = {**requester.default_query, **(extra_query or {})} or None
    if proxy is None:
        proxy = requester.proxy_for(url)
    retries_allowed = requester.max_retries if max_retries is None else max_retries
    retries = 0
    while True:
        failure, delay = await _handshake(requester, url, headers, query, proxy, timeout,
                                          heartbeat)
        if isinstance(failure, aiohttp.ClientWebSocketResponse):
            return failure
        if delay is None or retries >= retries_allowed:
            failure.retries = retries
            # Raised here, outside any `except`: no __context__ leads back to the request.
            raise failure
        retries += 1
        await asyncio.sleep(delay)


class _Refused(Exception):
    """Carries a typed error out of the handshake's middleware (never escapes)."""

    def __init__(self, error: APIError) -> None:
        super().__init__()
        self.error = error


async def _handshake(
    requester: Requester,
    url: str,
    headers: dict[str, str],
    query: dict[str, str] | None,
    proxy: str | None,
    timeout: Timeout,
    heartbeat: float | None,
) -> tuple[aiohttp.ClientWebSocketResponse | APIError, float | None]:
    """One attempt: the open WebSocket, or the typed error and the delay before a retry
    (``None``: do not retry). Never raises an aiohttp error."""

    async def stop_unless_upgraded(
        request: aiohttp.ClientRequest, handler: aiohttp.ClientHandlerType
    ) -> aiohttp.ClientResponse:
        response = await handler(request)
        if response.status == 101:
            return response
        error: APIError = await read_status_error(response, timeout)
        if response.status < 300:
            error = WebSocketRefusedError(
                f"The server answered the WebSocket upgrade with HTTP {response.status}.",
                status=response.status,
            )
        raise _Refused(error)

    # A session of its own for the middleware, on the requester's connection pool.
    session = aiohttp.ClientSession(
        connector=requester.session.connector,
        connector_owner=False,
        timeout=aiohttp.ClientTimeout(total=None, sock_connect=timeout.connect),
        middlewares=(stop_unless_upgraded,),
    )
    error: APIError
    delay: float | None
    try:
        async with asyncio.timeout(timeout.headers):
            ws = await session.ws_connect(
                url,
                headers=headers,
                params=query,
                proxy=proxy,
                max_msg_size=requester.max_event_size or 0,
                autoping=True,
                heartbeat=heartbeat,
                timeout=aiohttp.ClientWSTimeout(ws_receive=None, ws_close=CLOSE_GRACE_SECONDS),
            )
        return ws, None
    except _Refused as refused:
        error = refused.error
        delay = _retry_delay(error)
    except aiohttp.WSServerHandshakeError as exc:
        # 101 with bad upgrade headers: something in between does not speak WebSocket.
        error = WebSocketRefusedError(
            f"The server's WebSocket upgrade is invalid ({exc.message}).", status=exc.status
        )
        delay = None
    except (TimeoutError, aiohttp.ClientError, OSError) as exc:
        error = connection_error(exc)
        delay = backoff_delay(0)
    finally:
        await session.close()
    return error, delay


def _retry_delay(error: APIError) -> float | None:
    if not isinstance(error, APIStatusError) or not should_retry(error.status_code, error.headers):
        return None
    requested = retry_after(error.headers)
    if requested is not None and requested > MAX_RETRY_AFTER:
        return None
    return requested if requested is not None and requested > 0 else backoff_delay(0)
