"""The WebSocket handshake keeps the HTTP promises (issue 10, items 5 and 8): it never follows
a redirect (credentials stay with their origin), a refusal is a typed error whose chained and
hidden context never reaches aiohttp's request headers, and proxies come from the environment
(``HTTP_PROXY`` / ``HTTPS_PROXY`` / ``NO_PROXY``, either case) or ``proxy=``. The servers here
are raw asyncio sockets, not the project's mock, except where the mock is the far end."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import traceback
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

import aiohttp
import pytest
from support import ClientFactory, tcp_server

import oxide_rx as ox
from oxide_rx.testing import MockServer, Scenario

CANARY = "sk-canary-7f3a9c"
PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY",
                   "http_proxy", "https_proxy", "all_proxy", "no_proxy")

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


@dataclass
class RawServer:
    port: int
    heads: list[bytes] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@contextlib.asynccontextmanager
async def raw_server(answer: Callable[[RawServer, bytes], bytes] | None = None,
                     handler: Handler | None = None) -> AsyncIterator[RawServer]:
    """A server that records each request head and writes ``answer(server, head)``."""
    record = RawServer(0)

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            record.heads.append(head)
            if answer is not None:
                writer.write(answer(record, head))
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    async with tcp_server(handler or serve) as record.port:
        yield record


@pytest.fixture(autouse=True)
def no_proxy_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)


def _chain(error: BaseException) -> list[BaseException]:
    """The error and everything chained to it, explicitly or not."""
    seen: list[BaseException] = []
    todo: list[BaseException | None] = [error]
    while todo:
        current = todo.pop()
        if current is None or any(current is s for s in seen):
            continue
        seen.append(current)
        todo += [current.__cause__, current.__context__]
    return seen


async def test_the_handshake_never_follows_a_redirect_to_another_origin() -> None:
    async with raw_server() as elsewhere:
        def redirect(_: RawServer, head: bytes) -> bytes:
            return (f"HTTP/1.1 307 Temporary Redirect\r\nLocation: {elsewhere.url}/v1/responses"
                    "\r\nContent-Length: 0\r\n\r\n").encode()

        async with raw_server(redirect) as origin:
            client = ox.OpenAI(base_url=f"{origin.url}/v1", api_key=CANARY,
                               organization="org-canary", max_retries=0,
                               default_headers={"api-key": CANARY, "X-Api-Key": CANARY})
            with pytest.raises(ox.APIStatusError, match="redirects are not followed") as info:
                await client.responses.connect()
            await client.aclose()
    assert info.value.status_code == 307
    assert len(origin.heads) == 1 and b"upgrade: websocket" in origin.heads[0].lower()
    assert elsewhere.heads == []  # nothing, credentials least of all, reached the other origin


async def test_a_401_is_typed_and_nothing_chained_to_it_holds_the_key() -> None:
    body = (b'{"error":{"message":"Incorrect API key provided.","type":"invalid_request_error",'
            b'"param":null,"code":"invalid_api_key"}}')

    def refuse(_: RawServer, head: bytes) -> bytes:
        return (b"HTTP/1.1 401 Unauthorized\r\nContent-Type: application/json\r\n"
                b"x-request-id: req_401\r\nContent-Length: " + str(len(body)).encode()
                + b"\r\n\r\n" + body)

    async with raw_server(refuse) as server:
        client = ox.OpenAI(base_url=f"{server.url}/v1", api_key=CANARY, max_retries=0)
        with pytest.raises(ox.AuthenticationError) as info:
            await client.responses.connect()
        await client.aclose()
    error = info.value
    assert (error.code, error.request_id) == ("invalid_api_key", "req_401")
    assert f"Bearer {CANARY}".encode() in server.heads[0]  # the key was sent, to its origin
    assert error.__context__ is None and error.__cause__ is None
    for linked in _chain(error):
        assert not isinstance(linked, aiohttp.ClientResponseError)
        assert CANARY not in repr(linked) and CANARY not in str(linked)
    assert CANARY not in "".join(traceback.format_exception(error))


async def test_an_upgrade_answered_without_switching_protocols_is_typed() -> None:
    def plain(_: RawServer, head: bytes) -> bytes:
        return b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"

    async with raw_server(plain) as server:
        client = ox.OpenAI(base_url=f"{server.url}/v1", api_key=CANARY, max_retries=0)
        with pytest.raises(ox.WebSocketRefusedError, match="HTTP 200") as info:
            await client.responses.connect(fallback="never")
        await client.aclose()
    assert info.value.status == 200 and info.value.__context__ is None


async def test_a_handshake_that_never_answers_times_out() -> None:
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError):
            await reader.read()  # until the client gives up
        writer.close()

    async with raw_server(handler=silent) as server:
        client = ox.OpenAI(base_url=f"{server.url}/v1", api_key="k", max_retries=0)
        with pytest.raises(ox.APITimeoutError):
            await client.responses.connect(timeout=ox.Timeout(headers=0.2))
        await client.aclose()


async def test_refused_upgrades_are_retried_like_http_requests(
    server: MockServer, make_client: ClientFactory
) -> None:
    server.websocket.refuse_next = [503, 429]
    server.enqueue(Scenario.text("through"))
    client = make_client(max_retries=2)
    async with await client.responses.connect() as session:
        stream = await session.create_stream(model="m", input="hi")
        assert (await asyncio.wait_for(stream.final_response(), 5)).output_text == "through"
    assert [r.method for r in server.requests] == ["GET", "GET", "GET"]
    assert server.websocket_upgrades == 1


# -- proxies --------------------------------------------------------------------------------


@contextlib.asynccontextmanager
async def forward_proxy() -> AsyncIterator[RawServer]:
    """A forward proxy: ``CONNECT host:port`` tunnels, absolute-form requests are rewritten
    to origin-form and piped through (a WebSocket upgrade included)."""
    record = RawServer(0)

    async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError):
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        writer.close()

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        record.heads.append(head)
        method, target, _ = head.split(b"\r\n", 1)[0].decode().split(" ")
        if method == "CONNECT":
            host, port = target.rsplit(":", 1)
            up_reader, up_writer = await asyncio.open_connection(host, int(port))
            writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
        else:
            address = target.split("://", 1)[1]
            host_port, _, path = address.partition("/")
            host, port = host_port.rsplit(":", 1)
            up_reader, up_writer = await asyncio.open_connection(host, int(port))
            up_writer.write(f"{method} /{path} HTTP/1.1\r\n".encode()
                            + head.split(b"\r\n", 1)[1])
        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))

    async with tcp_server(serve) as record.port:
        yield record


async def _one_turn(client: ox.OpenAI, **options: str) -> str:
    async with await client.responses.connect(fallback="never", **options) as session:
        stream = await session.create_stream(model="m", input="via proxy?")
        return (await asyncio.wait_for(stream.final_response(), 5)).output_text


@pytest.mark.parametrize("variable", ["HTTP_PROXY", "http_proxy", "ALL_PROXY"])
async def test_the_handshake_goes_through_the_proxy_the_environment_names(
    server: MockServer, make_client: ClientFactory, monkeypatch: pytest.MonkeyPatch,
    variable: str,
) -> None:
    server.enqueue(Scenario.text("proxied"))
    async with forward_proxy() as proxy:
        monkeypatch.setenv(variable, proxy.url)
        assert await _one_turn(make_client(max_retries=0)) == "proxied"
    target = f"{server.base_url.replace('http', 'ws', 1)}/responses"
    assert [h.split(b"\r\n", 1)[0] for h in proxy.heads] == [
        f"GET {target} HTTP/1.1".encode()]


async def test_no_proxy_bypasses_it_and_proxy_option_overrides_the_environment(
    server: MockServer, make_client: ClientFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    server.enqueue(Scenario.text("direct"), Scenario.text("explicit"))
    async with forward_proxy() as proxy:
        monkeypatch.setenv("HTTP_PROXY", proxy.url)
        monkeypatch.setenv("NO_PROXY", "localhost,127.0.0.1")
        assert await _one_turn(make_client(max_retries=0)) == "direct"
        assert proxy.heads == []
        monkeypatch.delenv("HTTP_PROXY")
        assert await _one_turn(make_client(max_retries=0), proxy=proxy.url) == "explicit"
    assert len(proxy.heads) == 1


def test_websocket_urls_take_the_scheme_s_proxy_variable_and_no_proxy(
    monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://secure-proxy:3128")
    monkeypatch.setenv("http_proxy", "http://plain-proxy:3128")
    monkeypatch.setenv("no_proxy", ".internal.example")
    proxy_for = ox.OpenAI(api_key="k").proxy_for
    assert proxy_for("wss://api.openai.com/v1/responses") == "http://secure-proxy:3128"
    assert proxy_for("ws://127.0.0.1:8000/v1/responses") == "http://plain-proxy:3128"
    assert proxy_for("wss://llm.internal.example/v1/responses") is None


async def test_no_key_in_reprs_logs_or_errors_across_a_reconnect_refused_with_401(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    async with MockServer(api_key=CANARY) as server:
        server.enqueue(Scenario.text("one"))
        client = ox.OpenAI(base_url=server.base_url, api_key=CANARY, max_retries=0)
        session = await client.responses.connect(
            reconnect=ox.ReconnectPolicy(initial_delay=0.0),
            extra_headers={"X-Api-Key": CANARY, "OpenAI-Organization": CANARY})
        stream = await session.create_stream(model="m", input="one")
        assert (await asyncio.wait_for(stream.final_response(), 5)).output_text == "one"
        server.api_key = "sk-rotated"  # the key stops working, then the connection drops
        await server.close_websockets(1012)
        with pytest.raises(ox.AuthenticationError) as info:
            stream = await session.create_stream(model="m", input="two")
            await asyncio.wait_for(stream.final_response(), 5)
        shown = [repr(session), repr(session.default), repr(client), caplog.text,
                 "".join(traceback.format_exception(info.value))]
        shown += [repr(e) + str(e) for e in _chain(info.value)]
        await session.aclose()
        await client.aclose()
    assert info.value.status_code == 401
    assert not [text for text in shown if CANARY in text]
