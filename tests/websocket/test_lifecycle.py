"""A WebSocket session's lifetime: rotation before the server's connection limit (on an
injected clock shared with the mock), the limit itself, bounded sends, aborting a response,
a frame that is not JSON, and closing promptly even when the server ignores the close."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import struct
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from support import ClientFactory, tcp_server

import oxide_rx as ox
from oxide_rx.testing import Fault, MockServer, Scenario
from oxide_rx.types import responses as rt


class FakeClock:
    """Seconds that pass only when a test says so (shared by the client and the mock)."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(server: MockServer) -> FakeClock:
    """A fake clock shared with the mock, whose connections take requests for 60 s."""
    clock = FakeClock()
    server.websocket.clock, server.websocket.connection_limit = clock, 60.0
    server.enqueue(Scenario.text("early"), Scenario.text("late"))
    return clock


async def _answer(session: ox.ResponsesWebSocket | ox.Lane, text: str) -> str:
    stream = await session.create_stream(model="m", input=text)
    return (await asyncio.wait_for(stream.final_response(), 5)).output_text


async def test_the_session_rotates_before_the_connection_limit(
    server: MockServer, client: ox.OpenAI, clock: FakeClock
) -> None:
    async with await client.responses.connect(rotate_after=50.0, clock=clock) as session:
        assert await _answer(session, "one") == "early"
        first = session.response_id
        clock.now = 55.0  # past rotate_after, before the server's limit
        assert await _answer(session, "two") == "late"
    sent = [(m.connection, m.json.get("previous_response_id")) for m in server.websocket_messages]
    assert sent == [(1, None), (2, first)]  # a new connection, the chain unbroken
    assert server.websocket_upgrades == 2


async def test_a_request_refused_at_the_connection_limit_goes_out_on_a_new_connection(
    server: MockServer, client: ox.OpenAI, clock: FakeClock
) -> None:
    async with await client.responses.connect(rotate_after=None, clock=clock) as session:
        assert await _answer(session, "one") == "early"
        clock.now = 61.0
        assert await _answer(session, "two") == "late"
    sent = [(m.connection, m.json["input"]) for m in server.websocket_messages]
    assert sent == [(1, "one"), (1, "two"), (2, "two")]


async def test_requests_waiting_for_a_connection_are_bounded(
    server: MockServer, client: ox.OpenAI
) -> None:
    server.enqueue(Scenario.text("a"), Scenario.text("c"))
    reconnecting = asyncio.Event()
    policy = ox.ReconnectPolicy(initial_delay=0.3, max_delay=0.3)
    async with await client.responses.connect(reconnect=policy, max_queue_size=1000) as session:
        session.on_reconnect = lambda *_: reconnecting.set()
        await server.close_websockets(1012)
        first = asyncio.create_task(session.create_stream(model="m", input="a"))
        await asyncio.wait_for(reconnecting.wait(), 5)
        with pytest.raises(ox.WebSocketLimitError, match="send queue is full"):
            await session.lane("big").create_stream(model="m", input="x" * 2000)
        small = await session.lane("small").create_stream(model="m", input="c")
        a = await asyncio.wait_for((await first).final_response(), 5)
        c = await asyncio.wait_for(small.final_response(), 5)
    assert (a.output_text, c.output_text) == ("a", "c")
    assert sorted(m.json["input"] for m in server.websocket_messages) == ["a", "c"]


async def test_a_message_over_the_size_limit_is_refused_and_nothing_is_sent(
    server: MockServer, client: ox.OpenAI
) -> None:
    server.enqueue(Scenario.text("fine"))
    async with await client.responses.connect(max_message_size=200) as session:
        with pytest.raises(ox.WebSocketLimitError, match="max_message_size=200"):
            await session.create_stream(model="m", input="x" * 300)
        assert await _answer(session, "short") == "fine"  # the lane is not left busy
    assert [m.json["input"] for m in server.websocket_messages] == ["short"]


async def test_aborting_a_response_with_another_lane_busy_keeps_the_connection(
    server: MockServer, client: ox.OpenAI
) -> None:
    held = Fault.hold_after(3)
    server.enqueue(Scenario.text("aborted " * 20, fault=held), Scenario.text("kept " * 20),
                   Scenario.text("next"))
    async with await client.responses.connect() as session:
        doomed = await session.lane("a").create_stream(model="m", input="a")
        await server.wait_for_held()
        kept = await session.lane("b").create_stream(model="m", input="b")
        await doomed.aclose()
        server.release_held()
        assert (await asyncio.wait_for(kept.final_response(), 5)).output_text == "kept " * 20
        assert await _answer(session.lane("a"), "again") == "next"  # after the abandoned one
    assert server.websocket_upgrades == 1


async def test_aborting_the_only_response_closes_the_connection_and_the_next_reconnects(
    server: MockServer, client: ox.OpenAI
) -> None:
    server.enqueue(Scenario.text("aborted " * 20, fault=Fault.hold_after(3)),
                   Scenario.text("next"))
    async with await client.responses.connect() as session:
        doomed = await session.create_stream(model="m", input="a")
        await server.wait_for_held()
        await doomed.aclose()
        await server.wait_for_open_connections(0)  # the generation is no longer paid for
        assert await _answer(session, "b") == "next"
    assert server.websocket_upgrades == 2


async def test_a_frame_that_is_not_json_is_a_decode_error_with_the_partial(
    server: MockServer, client: ox.OpenAI, tmp_path: Path
) -> None:
    recording = tmp_path / "garbled.sse"
    created = '{"type":"response.created","response":{"id":"resp_g","status":"in_progress"}}'
    delta = ('{"type":"response.output_text.delta","item_id":"m","output_index":0,'
             '"content_index":0,"delta":"kept"}')
    recording.write_text(f"data: {created}\n\ndata: {delta}\n\ndata: <html>oops\n\n")
    server.enqueue(Scenario.replay(recording))
    async with await client.responses.connect() as session:
        stream = await session.create_stream(model="m", input="hi")
        with pytest.raises(ox.DecodeError) as info:
            await asyncio.wait_for(stream.final_response(), 5)
    assert isinstance(info.value.partial, rt.Response)
    assert info.value.partial.output_text == "kept"


# -- closing -------------------------------------------------------------------------------


def _switching_protocols(head: bytes) -> bytes:
    """The ``101`` answer to a WebSocket upgrade request head."""
    key = next(line.split(b":", 1)[1].strip() for line in head.split(b"\r\n")
               if line.lower().startswith(b"sec-websocket-key:"))
    accept = base64.b64encode(hashlib.sha1(key + b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11").digest())
    return (b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
            b"Connection: Upgrade\r\nSec-WebSocket-Accept: " + accept + b"\r\n\r\n")


def _frame(opcode: int, payload: bytes) -> bytes:
    return bytes([0x80 | opcode, len(payload)]) + payload


async def _read_client_frame(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    first, second = await reader.readexactly(2)
    length = second & 0x7F
    if length == 126:
        length = struct.unpack("!H", await reader.readexactly(2))[0]
    elif length == 127:
        length = struct.unpack("!Q", await reader.readexactly(8))[0]
    mask = await reader.readexactly(4)
    data = await reader.readexactly(length)
    return first & 0x0F, bytes(b ^ mask[i % 4] for i, b in enumerate(data))


@contextlib.asynccontextmanager
async def chatty_server(close_frames: list[bytes]) -> AsyncIterator[str]:
    """Accepts the upgrade, then sends a frame every 5 ms forever and never answers a close
    frame (it records the ones it gets): aiohttp alone would wait for it indefinitely."""

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        writer.write(_switching_protocols(head))

        async def read() -> None:
            while True:
                opcode, payload = await _read_client_frame(reader)
                if opcode == 0x8:
                    close_frames.append(payload)

        reading = asyncio.ensure_future(read())
        try:
            while not reading.done():
                writer.write(_frame(0x1, b'{"type":"keepalive"}'))
                await writer.drain()
                await asyncio.sleep(0.005)
        except ConnectionError:
            pass
        finally:
            reading.cancel()
            writer.close()

    async with tcp_server(serve) as port:
        yield f"http://127.0.0.1:{port}/v1"


async def test_aclose_returns_even_if_the_server_never_answers_the_close_frame() -> None:
    close_frames: list[bytes] = []
    async with chatty_server(close_frames) as base_url:
        client = ox.OpenAI(base_url=base_url, api_key="k", max_retries=0)
        session = await client.responses.connect(fallback="never")
        await asyncio.wait_for(session.aclose(), 2.5)  # a guard: it takes ~0.5 s at most
        await client.aclose()
    assert session.closed
    assert close_frames and struct.unpack("!H", close_frames[0][:2])[0] == 1000


async def test_a_silently_dead_connection_is_noticed_by_the_heartbeat() -> None:
    # The server upgrades, then neither answers pings nor sends anything: without a heartbeat
    # the response would wait for its idle timeout (600 s by default).
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        writer.write(_switching_protocols(head))
        with contextlib.suppress(ConnectionError):
            await reader.read()  # everything, answering nothing, until the client leaves
        writer.close()

    async with tcp_server(silent) as port:
        client = ox.OpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key="k", max_retries=0)
        async with await client.responses.connect(
                fallback="never", heartbeat=0.1,
                reconnect=ox.ReconnectPolicy(max_retries=0)) as session:
            stream = await session.create_stream(model="m", input="anyone there?")
            with pytest.raises(ox.WebSocketClosedError) as info:
                await asyncio.wait_for(stream.final_response(), 5)
        await client.aclose()
    assert info.value.close_code == 1006


async def test_a_message_over_max_event_size_is_a_limit_error_with_the_partial(
    server: MockServer, make_client: ClientFactory, tmp_path: Path
) -> None:
    created = '{"type":"response.created","response":{"id":"resp_big","status":"in_progress"}}'

    def delta(text: str) -> str:
        return ('{"type":"response.output_text.delta","item_id":"m","output_index":0,'
                f'"content_index":0,"delta":"{text}"}}')

    recording = tmp_path / "big.sse"
    recording.write_text("".join(f"data: {f}\n\n" for f in (created, delta("small"),
                                                             delta("x" * 5000))))
    server.enqueue(Scenario.replay(recording))
    client = make_client(max_retries=0, max_event_size=2000)
    async with await client.responses.connect() as session:
        stream = await session.create_stream(model="m", input="hi")
        with pytest.raises(ox.WebSocketLimitError, match="max_event_size") as info:
            await asyncio.wait_for(stream.final_response(), 5)
        assert isinstance(info.value.partial, rt.Response)
        assert info.value.partial.output_text == "small"
        with pytest.raises(ox.WebSocketClosedError):  # 1009 is not recoverable
            await session.create_stream(model="m", input="again")


async def test_a_request_right_after_an_abort_waits_for_the_old_connection_to_end(
    server: MockServer, client: ox.OpenAI
) -> None:
    server.enqueue(Scenario.text("aborted " * 20, fault=Fault.hold_after(3)),
                   Scenario.text("next"))
    async with await client.responses.connect() as session:
        doomed = await session.create_stream(model="m", input="a")
        await server.wait_for_held()
        await doomed.aclose()  # the connection is closing, not closed, when the next comes
        assert await _answer(session, "b") == "next"
    assert server.websocket_upgrades == 2
