"""Generations through the relay: snapshots for late joiners, resume by id, the policies
(leaving is not a cancel, unwatched stops on virtual time, explicit stop, bounds)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import msgspec
import pytest
from conftest import SECRET
from reactivex.testing import TestScheduler
from relay_support import wait_for

import oxide_rx as ox
from oxide_rx.relay import LogLimits, MemoryLog, Relay, RelayPolicy, records
from oxide_rx.sse import ServerSentEvent, SSEDecoder
from oxide_rx.testing import Fault, MockServer, Scenario

TEXT = "The quick brown fox jumps over the lazy dog. " * 3
CHAT = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Hi"}]}


def parse(data: bytes) -> list[ServerSentEvent]:
    decoder = SSEDecoder()
    return decoder.feed(data) + decoder.finish()


def text_of(events: list[ServerSentEvent]) -> str:
    return "".join(msgspec.json.decode(e.data)["delta"] for e in events
                   if e.event == "ContentDelta")


async def read_all(relay: Relay, generation_id: str, protocol: str = "oxide",
                   after: str | None = None) -> bytes:
    chunks = [c async for c in relay.frames(generation_id, protocol, after)]  # type: ignore[arg-type]
    return b"".join(chunks)


async def final_records(relay: Relay, generation_id: str) -> tuple[records.Final, records.End]:
    final = end = None
    async for record in relay.records(generation_id):
        if isinstance(record, records.Final):
            final = record
        if isinstance(record, records.End):
            end = record
    assert final is not None and end is not None
    return final, end


async def test_every_protocol_relays_a_whole_generation(relay: Relay, mock: MockServer) -> None:
    mock.enqueue(Scenario.text(TEXT))
    started = await relay.start("chat", dict(CHAT))
    assert started.created
    events = parse(await read_all(relay, started.id))
    assert events[0].event == "generation"
    assert text_of(events) == TEXT
    assert events[-1].event == "end"
    assert msgspec.json.decode(events[-1].data)["status"] == "completed"
    ui = await read_all(relay, started.id, "ui")
    assert ui.endswith(b"data: [DONE]\n\n")
    chat = await read_all(relay, started.id, "chat")
    assert chat.endswith(b"data: [DONE]\n\n")
    assert len(mock.model_requests()) == 1


async def test_late_joiner_gets_everything_once(relay: Relay, mock: MockServer) -> None:
    mock.enqueue(Scenario.text(TEXT, fault=Fault.hold_after(5)))
    started = await relay.start("chat", dict(CHAT))
    early = asyncio.create_task(read_all(relay, started.id))
    await mock.wait_for_held()
    def encoded() -> int:
        channel = relay.channel(started.id, "oxide")
        return channel.encoded if channel is not None else 0

    await wait_for(lambda: encoded() >= 4)
    late = asyncio.create_task(read_all(relay, started.id))  # joins mid-stream
    await wait_for(lambda: relay.viewers(started.id) == 2)
    mock.release_held()
    early_events, late_events = parse(await early), parse(await late)
    assert text_of(early_events) == text_of(late_events) == TEXT
    assert [e.id for e in early_events] == [e.id for e in late_events]


async def test_resume_from_any_id_gives_the_rest_exactly(relay: Relay, mock: MockServer) -> None:
    mock.enqueue(Scenario.text(TEXT))
    started = await relay.start("chat", dict(CHAT))
    whole = parse(await read_all(relay, started.id))
    for n, event in enumerate(whole):
        rest = parse(await read_all(relay, started.id, after=event.id))
        assert [(e.event, e.data) for e in rest] == [(e.event, e.data) for e in whole[n + 1:]]


async def test_resume_mid_stream_loses_nothing(relay: Relay, mock: MockServer) -> None:
    mock.enqueue(Scenario.text(TEXT, fault=Fault.hold_after(6)))
    started = await relay.start("chat", dict(CHAT))
    seen: list[ServerSentEvent] = []
    decoder = SSEDecoder()
    async with relay.viewer(started.id, "oxide") as viewer:
        while not any(e.event == "ContentDelta" for e in seen) or mock.held == 0:
            seen += decoder.feed(await viewer.next() or b"")
    # The viewer left mid-stream; it comes back with its last id.
    resumed = asyncio.create_task(read_all(relay, started.id, after=seen[-1].id))
    await wait_for(lambda: relay.viewers(started.id) == 1)
    mock.release_held()
    assert text_of(seen + parse(await resumed)) == TEXT


async def test_a_viewer_leaving_does_not_cancel(relay: Relay, mock: MockServer) -> None:
    mock.enqueue(Scenario.text(TEXT, fault=Fault.hold_after(3)))
    started = await relay.start("chat", dict(CHAT))
    async with relay.viewer(started.id, "oxide") as viewer:
        await viewer.next()
    await mock.wait_for_held()
    mock.release_held()
    final, end = await final_records(relay, started.id)
    assert end.status == "completed"
    assert mock.disconnects == 0
    assert msgspec.json.decode(final.data)["choices"][0]["message"]["content"] == TEXT


@pytest.fixture
def scheduler() -> TestScheduler:
    return TestScheduler()


@pytest.fixture
async def timed_relay(client: ox.OpenAI, scheduler: TestScheduler) -> AsyncIterator[Relay]:
    policy = RelayPolicy(unwatched_timeout=30)
    async with Relay(client, policy=policy, scheduler=scheduler) as relay:
        yield relay


async def test_unwatched_generation_stops_on_virtual_time(
    timed_relay: Relay, scheduler: TestScheduler, mock: MockServer
) -> None:
    mock.enqueue(Scenario.text(TEXT, fault=Fault.hold_after(4)))
    started = await timed_relay.start("chat", dict(CHAT))
    await mock.wait_for_held()
    scheduler.advance_by(29.9)
    assert timed_relay.wait_end  # still running: no end record yet
    assert await timed_relay.wait_end(started.id, 0.05) is None
    scheduler.advance_by(0.1)
    final, end = await final_records(timed_relay, started.id)
    assert end.status == "unwatched"
    await mock.wait_for_disconnects(1)
    partial = msgspec.json.decode(final.data)["choices"][0]["message"]["content"]
    assert partial and TEXT.startswith(partial)


async def test_a_watched_generation_keeps_going_until_unwatched(
    timed_relay: Relay, scheduler: TestScheduler, mock: MockServer
) -> None:
    mock.enqueue(Scenario.text(TEXT, fault=Fault.hold_after(4)))
    started = await timed_relay.start("chat", dict(CHAT))
    await mock.wait_for_held()
    async with timed_relay.viewer(started.id, "ui"):
        scheduler.advance_by(3600)
        assert await timed_relay.wait_end(started.id, 0.05) is None
    scheduler.advance_by(29)
    assert await timed_relay.wait_end(started.id, 0.05) is None
    scheduler.advance_by(1)
    end = await timed_relay.wait_end(started.id, 5)
    assert end is not None and end.status == "unwatched"


async def test_explicit_stop_cancels_upstream_and_keeps_the_partial(
    relay: Relay, mock: MockServer
) -> None:
    mock.enqueue(Scenario.text(TEXT, fault=Fault.hold_after(5)))
    started = await relay.start("chat", dict(CHAT))
    await mock.wait_for_held()
    end = await relay.stop(started.id)
    assert end is not None and end.status == "stopped"
    await mock.wait_for_disconnects(1)
    final, _ = await final_records(relay, started.id)
    partial = msgspec.json.decode(final.data)["choices"][0]["message"]["content"]
    events = parse(await read_all(relay, started.id))
    assert text_of(events) == partial and TEXT.startswith(partial) and partial != TEXT
    ui = await read_all(relay, started.id, "ui")
    assert b'"type":"abort"' in ui and ui.endswith(b"data: [DONE]\n\n")


async def test_a_bound_stops_the_generation_with_a_typed_error(
    client: ox.OpenAI, mock: MockServer
) -> None:
    log = MemoryLog(LogLimits(entries_per_generation=6))
    async with Relay(client, log=log) as relay:
        mock.enqueue(Scenario.text(TEXT, fault=Fault.pace(0.001)))
        started = await relay.start("chat", dict(CHAT))
        final, end = await final_records(relay, started.id)
    assert end.status == "failed" and end.error_type == "RelayLimitError"
    assert TEXT.startswith(msgspec.json.decode(final.data)["choices"][0]["message"]["content"])
    await mock.wait_for_disconnects(1)


async def test_upstream_http_error_raises_at_start_and_is_logged(
    relay: Relay, mock: MockServer
) -> None:
    mock.enqueue(Scenario.error(400, "bad model"))
    with pytest.raises(ox.BadRequestError):
        await relay.start("chat", dict(CHAT), key="bad-one")
    end = await relay.wait_end("bad-one", 5)
    assert end is not None and end.status == "failed" and end.error_type == "BadRequestError"


async def test_upstream_failure_mid_stream_reaches_every_protocol(
    relay: Relay, mock: MockServer
) -> None:
    mock.enqueue(Scenario.response_error())
    started = await relay.start("chat", dict(CHAT))
    _, end = await final_records(relay, started.id)
    assert end.status == "failed" and end.error_type == "ResponseFailedError"
    assert b'"type":"error"' in await read_all(relay, started.id, "ui")
    assert b'data: {"error":' in await read_all(relay, started.id, "chat")


async def test_each_event_is_encoded_once_per_protocol_not_per_viewer(
    relay: Relay, mock: MockServer
) -> None:
    mock.enqueue(Scenario.text(TEXT, fault=Fault.hold_after(1)))
    started = await relay.start("chat", dict(CHAT))
    async with relay.viewer(started.id, "ui") as watcher:
        readers = [asyncio.create_task(read_all(relay, started.id, "ui")) for _ in range(20)]
        await wait_for(lambda: relay.viewers(started.id) == 21)
        mock.release_held()
        bodies = await asyncio.gather(*readers)
        while await watcher.next() is not None:
            pass
        channel = relay.channel(started.id, "ui")
        assert channel is not None
        entries = await relay.log.read(started.id)
        assert channel.encoded == len(entries) > 20  # once per entry, for 21 viewers
    assert len(set(bodies)) == 1


async def test_joining_by_key_shares_one_upstream_request(
    relay: Relay, mock: MockServer
) -> None:
    mock.enqueue(Scenario.text(TEXT))
    first = await relay.start("chat", dict(CHAT), key="shared-1")
    second = await relay.start("chat", dict(CHAT), key="shared-1")
    assert first.created and not second.created and first.id == second.id == "shared-1"
    await relay.wait_end("shared-1", 5)
    assert len(mock.model_requests()) == 1


async def test_no_secret_anywhere(relay: Relay, mock: MockServer) -> None:
    mock.enqueue(Scenario.response_error())
    started = await relay.start("chat", dict(CHAT))
    everything = b"".join([await read_all(relay, started.id, p)  # type: ignore[arg-type]
                           for p in ("oxide", "ui", "chat")])
    everything += b"".join(e.data for e in await relay.log.read(started.id))
    everything += repr(relay).encode() + repr(await relay.info(started.id)).encode()
    assert SECRET.encode() not in everything


async def test_any_node_serves_viewers_and_stops_what_another_node_owns(
    client: ox.OpenAI, mock: MockServer
) -> None:
    shared = MemoryLog()  # two relays on one log: two nodes, as with a Redis log
    async with Relay(client, log=shared, node="a") as node_a, Relay(
        client, log=shared, node="b"
    ) as node_b:
        mock.enqueue(Scenario.text(TEXT, fault=Fault.hold_after(4)))
        started = await node_a.start("chat", dict(CHAT))
        assert await shared.owner(started.id) == "a"
        await mock.wait_for_held()
        viewer = asyncio.create_task(read_all(node_b, started.id))
        await wait_for(lambda: node_b.viewers(started.id) == 1)
        end = await node_b.stop(started.id)  # asked on b, carried out by a
        assert end is not None and end.status == "stopped"
        await mock.wait_for_disconnects(1)
        assert text_of(parse(await viewer)) == (await final_text(node_b, started.id))


async def final_text(relay: Relay, generation_id: str) -> str:
    final, _ = await final_records(relay, generation_id)
    content: str = msgspec.json.decode(final.data)["choices"][0]["message"]["content"]
    return content


async def test_a_request_waiting_for_the_whole_answer_counts_as_watching(
    timed_relay: Relay, scheduler: TestScheduler, mock: MockServer
) -> None:
    mock.enqueue(Scenario.text(TEXT, fault=Fault.hold_after(4)))
    started = await timed_relay.start("chat", dict(CHAT))
    await mock.wait_for_held()
    with timed_relay.watching(started.id):
        scheduler.advance_by(3600)
        assert await timed_relay.wait_end(started.id, 0.05) is None
    mock.release_held()
    end = await timed_relay.wait_end(started.id, 5)
    assert end is not None and end.status == "completed"
