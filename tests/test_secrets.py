"""The API key never shows: not in reprs, errors, tracebacks or log records (any level), and it
never reaches another host through a redirect.

A canary key is used through every error path with DEBUG logging on for ``oxide_rx``,
``aiohttp`` and ``asyncio``; everything the user could print is searched for it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import traceback
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from aiohttp import web

import oxide_rx as ox
from oxide_rx.testing import Fault, MockServer, Scenario

CANARY = "sk-canary-7f3a9c1e5b2d4f60"
MESSAGES = [{"role": "user", "content": "Say hi."}]
MiB = 1024 * 1024


class _Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@contextlib.contextmanager
def _debug_logs() -> Iterator[_Capture]:
    """Every record of every logger, at DEBUG, for the duration."""
    capture = _Capture()
    root = logging.getLogger()
    names = ("oxide_rx", "aiohttp", "aiohttp.client", "aiohttp.internal", "asyncio")
    saved = [(logging.getLogger(n), logging.getLogger(n).level) for n in names]
    saved.append((root, root.level))
    root.addHandler(capture)
    for logger, _ in saved:
        logger.setLevel(logging.DEBUG)
    try:
        yield capture
    finally:
        root.removeHandler(capture)
        for logger, level in saved:
            logger.setLevel(level)


def _chain(error: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    todo: list[BaseException | None] = [error]
    while todo:
        current = todo.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        todo += [current.__cause__, current.__context__]


def _texts_of_error(error: BaseException) -> list[str]:
    texts = ["".join(traceback.format_exception(error))]
    for link in _chain(error):
        texts += [str(link), repr(link), repr(link.args)]
        texts += [repr(value) for value in vars(link).values()]
    return texts


def _texts_of_records(records: list[logging.LogRecord]) -> list[str]:
    formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")
    texts: list[str] = []
    for record in records:
        texts += [formatter.format(record), repr(record.args), str(record.msg)]
        if record.exc_info and record.exc_info[1] is not None:
            texts += _texts_of_error(record.exc_info[1])
    return texts


def _assert_no_canary(texts: list[str]) -> None:
    leaks = [text for text in texts if CANARY in text or CANARY[3:] in text]
    assert not leaks, f"the API key leaked into: {leaks[0][:300]!r}"


def _client(base_url: str, **kw: Any) -> ox.OpenAI:
    return ox.OpenAI(base_url=base_url, api_key=CANARY, max_retries=kw.pop("max_retries", 1), **kw)


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@asynccontextmanager
async def _raw_server(reply: bytes) -> AsyncIterator[str]:
    """A TCP server that answers every request with ``reply`` bytes and hangs up."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(64 * 1024)
        writer.write(reply)
        with contextlib.suppress(ConnectionError):
            await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    try:
        yield f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}/v1"
    finally:
        server.close()
        await server.wait_closed()


# --- the error paths ----------------------------------------------------------------------------

ErrorPath = Callable[[], Awaitable[tuple[BaseException, list[str]]]]


async def _stream_with(*scenarios: Scenario, **client_kw: Any) -> tuple[BaseException, list[str]]:
    """Run one chat stream against a mock that requires the canary key; return its error."""
    async with MockServer(api_key=CANARY) as server, _client(server.base_url, **client_kw) as c:
        server.enqueue(*scenarios)
        stream: ox.ChatStream | None = None
        try:
            stream = await c.chat.completions.create_stream(model="m", messages=MESSAGES)
            stream.on(ox.ContentDelta, lambda e: None)
            await asyncio.wait_for(stream.final_completion(), 10)
        except ox.OxideRxError as exc:
            extra = [repr(c), str(c)]
            if stream is not None:
                await stream.aclose()
                extra += [repr(stream), str(stream), repr(stream.headers), repr(stream.error)]
            return exc, extra
    raise AssertionError("the scenario did not fail")


async def _status_401() -> tuple[BaseException, list[str]]:
    async with MockServer(api_key="sk-someone-else") as server, _client(server.base_url) as c:
        with pytest.raises(ox.AuthenticationError) as info:
            await c.chat.completions.create_stream(model="m", messages=MESSAGES)
        return info.value, [repr(c)]


async def _status_429_retried() -> tuple[BaseException, list[str]]:
    return await _stream_with(*[Scenario.error(429, headers={"retry-after-ms": "1"})] * 2)


async def _status_500_non_streaming() -> tuple[BaseException, list[str]]:
    async with MockServer(api_key=CANARY) as server, _client(server.base_url) as c:
        server.enqueue(*[Scenario.error(500, headers={"retry-after-ms": "1"})] * 2)
        with pytest.raises(ox.InternalServerError) as info:
            await c.chat.completions.create(model="m", messages=MESSAGES)
        return info.value, []


async def _connection_refused() -> tuple[BaseException, list[str]]:
    async with _client(f"http://127.0.0.1:{_closed_port()}/v1", max_retries=0) as c:
        with pytest.raises(ox.APIConnectionError) as info:
            await c.chat.completions.create_stream(model="m", messages=MESSAGES)
        return info.value, []


async def _garbage_http_response() -> tuple[BaseException, list[str]]:
    reply = b"HTTP/1.1 200 OK\r\nContent-Length: nope\r\n\r\n"
    async with _raw_server(reply) as base_url, _client(base_url, max_retries=0) as c:
        with pytest.raises(ox.APIConnectionError) as info:
            await c.chat.completions.create_stream(model="m", messages=MESSAGES)
        return info.value, []


async def _headers_timeout() -> tuple[BaseException, list[str]]:
    scenario = Scenario.text("late", fault=Fault.delay_headers(2))
    return await _stream_with(scenario, timeout=ox.Timeout(headers=0.1), max_retries=0)


async def _idle_timeout() -> tuple[BaseException, list[str]]:
    scenario = Scenario.text("abcdefgh", fault=Fault.stall_after(2))
    return await _stream_with(scenario, timeout=ox.Timeout(idle=0.1))


async def _dropped() -> tuple[BaseException, list[str]]:
    return await _stream_with(Scenario.text("abcdefgh" * 4, fault=Fault.drop_after(3)))


async def _truncated() -> tuple[BaseException, list[str]]:
    return await _stream_with(Scenario.text("abcdefgh" * 4, fault=Fault.truncate(after=3)))


async def _malformed_json() -> tuple[BaseException, list[str]]:
    return await _stream_with(Scenario.text("abcdefgh", fault=Fault.malformed_json(2)))


async def _oversized_event() -> tuple[BaseException, list[str]]:
    scenario = Scenario.text("abcdefgh", fault=Fault.oversized_event(2 * MiB))
    return await _stream_with(scenario, max_event_size=MiB)


async def _endless_line() -> tuple[BaseException, list[str]]:
    scenario = Scenario.text("abcdefgh", fault=Fault.endless_line(2 * MiB))
    return await _stream_with(scenario, max_event_size=MiB)


async def _html_page() -> tuple[BaseException, list[str]]:
    return await _stream_with(Scenario.text("x", fault=Fault.html_error()))


async def _wrong_content_type() -> tuple[BaseException, list[str]]:
    return await _stream_with(Scenario.text("x", fault=Fault.wrong_type()))


async def _error_payload_mid_stream() -> tuple[BaseException, list[str]]:
    return await _stream_with(Scenario.response_error())


async def _responses_truncated() -> tuple[BaseException, list[str]]:
    async with MockServer(api_key=CANARY) as server, _client(server.base_url) as c:
        server.enqueue(Scenario.text("abcdefgh", fault=Fault.truncate()))
        stream = await c.responses.create_stream(model="m", input="hi")
        with pytest.raises(ox.StreamTruncatedError) as info:
            await asyncio.wait_for(stream.final_response(), 10)
        await stream.aclose()
        return info.value, [repr(stream)]


async def _raising_subscriber() -> tuple[BaseException, list[str]]:
    async with MockServer(api_key=CANARY) as server, _client(server.base_url) as c:
        stream = await c.chat.completions.create_stream(model="m", messages=MESSAGES)
        errors: list[Exception] = []

        def broken(event: Any) -> None:
            raise RuntimeError("a UI callback bug")

        stream.events.subscribe(broken, errors.append)
        await stream.final_completion()
        return errors[0], []


ERROR_PATHS: dict[str, ErrorPath] = {
    "401": _status_401,
    "429 retried": _status_429_retried,
    "500 non-streaming": _status_500_non_streaming,
    "connection refused": _connection_refused,
    "garbage http response": _garbage_http_response,
    "headers timeout": _headers_timeout,
    "idle timeout": _idle_timeout,
    "dropped mid-body": _dropped,
    "truncated": _truncated,
    "malformed json": _malformed_json,
    "oversized event": _oversized_event,
    "endless line": _endless_line,
    "html page": _html_page,
    "wrong content type": _wrong_content_type,
    "error payload": _error_payload_mid_stream,
    "responses truncated": _responses_truncated,
    "raising subscriber": _raising_subscriber,
}


@pytest.mark.parametrize("path", list(ERROR_PATHS))
async def test_the_canary_key_appears_in_no_error_repr_traceback_or_log(path: str) -> None:
    with _debug_logs() as capture:
        error, extra = await ERROR_PATHS[path]()
    _assert_no_canary(_texts_of_error(error) + extra + _texts_of_records(capture.records))


async def test_retries_are_logged_at_debug_without_the_key() -> None:
    with _debug_logs() as capture:
        await _status_429_retried()
    retry_lines = [r for r in capture.records if "retrying" in r.getMessage()]
    assert retry_lines
    _assert_no_canary(_texts_of_records(capture.records))


async def test_the_canary_reaches_the_intended_server() -> None:
    # Guards the test itself: the mock accepts only the canary, so the key really is sent.
    async with MockServer(api_key=CANARY) as server, _client(server.base_url) as client:
        stream = await client.chat.completions.create_stream(model="m", messages=MESSAGES)
        assert (await stream.final_completion()).choices[0].message.content


def test_the_client_repr_hides_the_key() -> None:
    client = ox.OpenAI(api_key=CANARY)
    _assert_no_canary([repr(client), str(client), repr(vars(client).keys())])
    assert "api_key=<set>" in repr(client)


async def test_a_redirect_is_not_followed_so_the_key_never_reaches_another_host() -> None:
    received: list[dict[str, str]] = []

    async def elsewhere(request: web.Request) -> web.Response:
        received.append(dict(request.headers))
        return web.json_response({})

    other = web.Application()
    other.router.add_route("*", "/{tail:.*}", elsewhere)
    other_runner = web.AppRunner(other, access_log=None)
    await other_runner.setup()
    await web.TCPSite(other_runner, "127.0.0.1", 0).start()
    target = f"http://127.0.0.1:{other_runner.addresses[0][1]}/v1/chat/completions"

    async def redirect(request: web.Request) -> web.Response:
        await request.read()
        return web.Response(status=307, headers={"Location": target})

    first = web.Application()
    first.router.add_route("*", "/{tail:.*}", redirect)
    first_runner = web.AppRunner(first, access_log=None)
    await first_runner.setup()
    await web.TCPSite(first_runner, "127.0.0.1", 0).start()
    base_url = f"http://127.0.0.1:{first_runner.addresses[0][1]}/v1"
    try:
        async with _client(base_url, max_retries=2) as client:
            with pytest.raises(ox.APIStatusError) as info:
                await client.chat.completions.create_stream(model="m", messages=MESSAGES)
            with pytest.raises(ox.APIStatusError):
                await client.chat.completions.create(model="m", messages=MESSAGES)
    finally:
        await first_runner.cleanup()
        await other_runner.cleanup()
    assert info.value.status_code == 307
    assert "redirect" in str(info.value)
    assert received == []
