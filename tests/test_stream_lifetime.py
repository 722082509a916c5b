"""The stream lifetime contract (DESIGN.md "Lifetime of a stream") over a real socket."""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import tracemalloc
from typing import Any

import pytest
from reactivex import operators as rx_ops
from support import ClientFactory, other_tasks, tcp_server

import oxide_rx as ox
from oxide_rx.testing import Fault, MockServer, Scenario

MESSAGES = [{"role": "user", "content": "Write a haiku about Rust programming."}]


@pytest.fixture
def client(make_client: ClientFactory) -> ox.OpenAI:
    """No retries: an HTTP error reaches the test as it came."""
    return make_client(max_retries=0)


async def _stream(client: ox.OpenAI, **params: Any) -> ox.ChatStream:
    return await client.chat.completions.create_stream(
        model="gpt-4o-mini", messages=MESSAGES, **params
    )


async def test_subscribers_attached_before_start_see_every_event(client: ox.OpenAI) -> None:
    stream = await _stream(client)
    seen_a: list[Any] = []
    seen_b: list[Any] = []
    stream.events.subscribe(seen_a.append)
    stream.on(ox.Event, seen_b.append)
    completion = await stream.final_completion()
    await stream.aclose()
    assert seen_a == seen_b
    assert isinstance(seen_a[0], ox.Chunk)
    deltas = "".join(e.delta for e in seen_a if isinstance(e, ox.ContentDelta))
    assert deltas == completion.choices[0].message.content
    assert any(isinstance(e, ox.Done) for e in seen_a)


async def test_two_subscribers_cause_one_request(server: MockServer, client: ox.OpenAI) -> None:
    stream = await _stream(client)
    texts: list[str] = []
    deltas = stream.events.pipe(ox.ops.of_type(ox.ContentDelta))
    deltas.subscribe(lambda e: texts.append(e.delta))
    stream.events.pipe(rx_ops.filter(lambda e: isinstance(e, ox.Done))).subscribe(texts.append)
    async for _ in stream:
        pass
    await stream.final_completion()
    assert len([r for r in server.requests if r.path.endswith("/chat/completions")]) == 1
    await stream.aclose()


async def test_of_type_on_a_stream_gives_the_filtered_events_and_the_end(
    client: ox.OpenAI,
) -> None:
    # `of_type` on `stream.events` subscribes by class in the fan-out (the other events cost
    # it nothing): the same events, in the same order, as filtering everything, and the end.
    stream = await _stream(client)
    everything: list[Any] = []
    typed: list[Any] = []
    ends: list[Any] = []
    stream.events.subscribe(everything.append)
    stream.events.pipe(ox.ops.of_type(ox.ContentDelta, ox.Done)).subscribe(
        typed.append, ends.append, lambda: ends.append("completed")
    )
    await stream.final_completion()
    await stream.aclose()
    assert typed == [e for e in everything if isinstance(e, (ox.ContentDelta, ox.Done))]
    assert isinstance(typed[-1], ox.Done)
    assert ends == ["completed"]
    late: list[Any] = []  # subscribed after the end: completed at once
    stream.events.pipe(ox.ops.of_type(ox.ContentDelta)).subscribe(
        late.append, late.append, lambda: late.append("completed"))
    assert late == ["completed"]


async def test_of_type_on_a_stream_fails_with_the_partial_and_detaches_a_faulty_subscriber(
    server: MockServer, client: ox.OpenAI
) -> None:
    server.enqueue(Scenario.text("z" * 200, fault=Fault.drop_after(5)))
    stream = await _stream(client)
    errors: list[Exception] = []
    faulty: list[Exception] = []
    deltas: list[str] = []

    def breaks(event: ox.ContentDelta) -> None:
        raise RuntimeError("a UI bug")

    stream.events.pipe(ox.ops.of_type(ox.ContentDelta)).subscribe(
        lambda e: deltas.append(e.delta), errors.append)
    stream.events.pipe(ox.ops.of_type(ox.ContentDelta)).subscribe(breaks, faulty.append)
    with pytest.raises(ox.APIConnectionError):
        await stream.final_completion()
    await stream.aclose()
    assert [str(e) for e in faulty] == ["a UI bug"]  # detached at its first event
    assert len(errors) == 1 and isinstance(errors[0], ox.APIConnectionError)
    assert errors[0].partial is not None
    assert "".join(deltas) == errors[0].partial.choices[0].message.content != ""


async def test_nothing_is_read_before_start(server: MockServer, client: ox.OpenAI) -> None:
    stream = await _stream(client)
    await server.wait_idle()  # the whole body has been sent, and nothing read it
    assert stream.request_id  # headers are in as soon as create_stream returns
    assert not stream.started
    assert stream.current_content() == ""
    await stream.aclose()


async def test_late_subscriber_sees_later_events_and_the_end(client: ox.OpenAI) -> None:
    stream = await _stream(client)
    await stream.until_done()
    ended: list[str] = []
    stream.events.subscribe(on_next=ended.append, on_completed=lambda: ended.append("done"))
    assert ended == ["done"]
    assert stream.current_content()
    await stream.aclose()


async def test_aclose_mid_stream_closes_the_connection_and_leaves_no_task(
    server: MockServer, make_client: ClientFactory
) -> None:
    server.enqueue(Scenario.text("x" * 400, fault=Fault.stall_after(3)))
    client = make_client()
    before = other_tasks()
    stream = await client.chat.completions.create_stream(model="m", messages=MESSAGES)
    got_first = asyncio.Event()
    stream.on(ox.ContentDelta, lambda e: got_first.set())
    stream.start()
    await asyncio.wait_for(got_first.wait(), 5)
    await stream.aclose()
    await server.wait_for_disconnects(1, timeout=5)
    await server.wait_idle(timeout=5)
    await server.wait_for_open_connections(0)
    await client.aclose()
    assert stream.finished
    assert other_tasks() <= before


async def test_cancelling_the_consuming_task_aborts_the_request(
    server: MockServer, client: ox.OpenAI
) -> None:
    server.enqueue(Scenario.text("y" * 400, fault=Fault.stall_after(2)))
    stream = await _stream(client)
    started = asyncio.Event()

    async def consume() -> None:
        async for event in stream:
            if isinstance(event, ox.ContentDelta):
                started.set()

    task = asyncio.create_task(consume())
    await asyncio.wait_for(started.wait(), 5)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await server.wait_for_disconnects(1, timeout=5)
    await asyncio.wait_for(stream.aclose(), 5)
    assert stream.finished
    await stream.aclose()


async def test_last_subscriber_disposing_aborts_the_request(
    server: MockServer, client: ox.OpenAI
) -> None:
    server.enqueue(Scenario.text("z" * 400, fault=Fault.stall_after(2)))
    stream = await _stream(client)
    first = asyncio.Event()
    subscription = stream.on(ox.ContentDelta, lambda e: first.set())
    stream.start()
    await asyncio.wait_for(first.wait(), 5)
    subscription.dispose()
    await server.wait_for_disconnects(1, timeout=5)
    with pytest.raises(ox.StreamTruncatedError):
        await asyncio.wait_for(stream.final_completion(), 5)
    await stream.aclose()


async def test_a_raising_subscriber_is_detached_and_the_others_keep_every_event(
    client: ox.OpenAI, caplog: pytest.LogCaptureFixture
) -> None:
    stream = await _stream(client)
    healthy: list[Any] = []
    faulty_errors: list[Exception] = []
    calls = 0

    def faulty(event: Any) -> None:
        nonlocal calls
        calls += 1
        raise ValueError("bug in a UI callback")

    stream.events.subscribe(faulty, faulty_errors.append)
    stream.events.subscribe(healthy.append)
    with caplog.at_level(logging.ERROR, logger="oxide_rx"):
        completion = await stream.final_completion()
    await stream.aclose()
    assert calls == 1
    assert [type(e) for e in faulty_errors] == [ValueError]
    assert "subscriber raised" in caplog.text
    text = "".join(e.delta for e in healthy if isinstance(e, ox.ContentDelta))
    assert text == completion.choices[0].message.content


async def test_callbacks_run_on_the_event_loop_thread(client: ox.OpenAI) -> None:
    stream = await _stream(client)
    threads: set[int] = set()
    stream.events.pipe(ox.ops.sample_ui(0.001)).subscribe(
        lambda e: threads.add(threading.get_ident())
    )
    stream.on(ox.Event, lambda e: threads.add(threading.get_ident()))
    await stream.until_done()
    await stream.aclose()
    assert threads == {threading.get_ident()}


async def test_async_for_yields_events_in_order_and_ends(client: ox.OpenAI) -> None:
    stream = await _stream(client)
    kinds = [type(e).__name__ async for e in stream]
    await stream.aclose()
    assert kinds[0] == "Chunk"
    assert "ContentDelta" in kinds
    assert kinds.index("ContentDone") < kinds.index("Done")


async def test_http_error_raises_from_create_stream_before_any_event(
    server: MockServer, client: ox.OpenAI
) -> None:
    server.enqueue(Scenario.error(404, message="No such model", code="model_not_found"))
    with pytest.raises(ox.NotFoundError) as info:
        await client.chat.completions.create_stream(model="nope", messages=MESSAGES)
    assert info.value.status_code == 404
    assert info.value.code == "model_not_found"
    assert info.value.request_id


async def test_async_with_stream_aborts_on_exit(server: MockServer, client: ox.OpenAI) -> None:
    server.enqueue(Scenario.text("w" * 400, fault=Fault.stall_after(2)))
    stream = await _stream(client)
    async with stream:
        async for event in stream:
            if isinstance(event, ox.ContentDelta):
                break
    await server.wait_for_disconnects(1, timeout=5)
    assert stream.finished
    await stream.aclose()


async def test_raw_chunks_reach_every_subscriber_that_can_receive_them(
    server: MockServer, client: ox.OpenAI
) -> None:
    server.enqueue(Scenario.synthetic(events=40, delta="abcd", interval=0.002))
    stream = await _stream(client)
    typed: list[Any] = []
    stream.on(ox.ContentDelta, typed.append)  # cannot receive Chunk: none needed yet
    everything: list[Any] = []
    halfway = asyncio.Event()

    def attach_late(event: ox.ContentDelta) -> None:
        if len(typed) == 10 and not everything:
            stream.events.subscribe(everything.append)
            halfway.set()

    stream.on(ox.ContentDelta, attach_late)
    as_events: list[Any] = []
    stream.on(ox.Event, as_events.append)  # Event is Chunk's base: gets every Chunk
    await stream.final_completion()
    await stream.aclose()
    assert halfway.is_set()
    chunks = [e for e in as_events if isinstance(e, ox.Chunk)]
    deltas = [e for e in as_events if isinstance(e, ox.ContentDelta)]
    assert len(chunks) >= len(deltas) == len(typed) > 40  # a role chunk with "" first
    late_chunks = [e for e in everything if isinstance(e, ox.Chunk)]
    assert late_chunks and late_chunks[-1] == chunks[-1]


@pytest.mark.parametrize("api", ["chat", "responses"])
async def test_a_finished_stream_leaves_no_generator_for_the_garbage_collector(
    client: ox.OpenAI, api: str
) -> None:
    """Streams close their readers themselves when they end (at ``[DONE]``, before the body's
    EOF): nothing is left for the loop's async-generator finalizer, which would close it
    later, from the garbage collector, with a thread-safe wake-up and a task per stream."""
    import gc
    import sys

    finalized: list[str] = []
    firstiter, finalizer = sys.get_asyncgen_hooks()

    def record(agen: Any) -> None:
        finalized.append(agen.__qualname__)
        if finalizer is not None:
            finalizer(agen)

    sys.set_asyncgen_hooks(firstiter=firstiter, finalizer=record)
    try:
        for _ in range(3):
            if api == "chat":
                await (await _stream(client)).final_completion()
            else:
                stream = await client.responses.create_stream(model="gpt-4o-mini", input="Hi")
                await stream.final_response()
        gc.collect()
        await asyncio.sleep(0)
    finally:
        sys.set_asyncgen_hooks(firstiter=firstiter, finalizer=finalizer)
    assert finalized == []


async def test_an_idle_stream_holds_no_copy_of_its_last_network_read(
    make_client: ClientFactory,
) -> None:
    # One 512 KiB event (its bulk a field the library does not model), then the server stalls:
    # the stream keeps the delta's text, not the read nor the payload (thousands of streams
    # waiting on slow models would each hold their last read otherwise).
    padding = "x" * (512 * 1024)
    event = json.dumps({"id": "c1", "object": "chat.completion.chunk", "created": 1,
                        "model": "m", "padding": padding,
                        "choices": [{"index": 0, "delta": {"content": "hi"}}]})
    release = asyncio.Event()

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
                     b"Connection: close\r\n\r\n" + f"data: {event}\n\n".encode())
        await writer.drain()
        await asyncio.wait_for(release.wait(), 10)
        writer.close()

    async with tcp_server(serve) as port:
        client = make_client(base_url=f"http://127.0.0.1:{port}/v1")
        tracemalloc.start()
        try:
            before = tracemalloc.get_traced_memory()[0]
            stream = await _stream(client)
            arrived = asyncio.Event()
            stream.on(ox.ContentDelta, lambda _: arrived.set())
            stream.start()
            await asyncio.wait_for(arrived.wait(), 10)
            await asyncio.sleep(0)  # the pump is back to waiting for the next read
            held = tracemalloc.get_traced_memory()[0] - before
        finally:
            tracemalloc.stop()
        assert stream.current_content() == "hi"
        assert held < 128 * 1024, f"{held} bytes held by an idle stream"
        release.set()
        await stream.aclose()


async def test_a_cancelled_waiter_leaves_the_stream_to_the_other_waiters(
    server: MockServer, client: ox.OpenAI
) -> None:
    server.enqueue(Scenario.text("one two three", fault=Fault.hold_after(2)))
    stream = await _stream(client)
    first = asyncio.create_task(stream.final_completion())
    second = asyncio.create_task(stream.final_completion())
    await asyncio.sleep(0)  # both are waiting
    first.cancel()
    with pytest.raises(asyncio.CancelledError):
        await first
    server.release_held()
    completion = await asyncio.wait_for(second, 10)
    assert completion.choices[0].message.content == "one two three"
    assert not stream.error
