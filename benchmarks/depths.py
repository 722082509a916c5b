"""Where native's cost per event goes, without the network: the gap to the floor, by depth.

    python benchmarks/depths.py [--events 20000] [--read-size 16384]

One stream of each API is fetched once from the benchmark's mock server (the bytes figure 1
reads). Its body is then replayed in ``--read-size`` pieces, in this process, through
cumulative depths of the path a stream runs, each timed on process CPU (best of 9 runs):

==========  ==================================================================================
floor       the floor contender's loop: split on blank lines, one msgspec decode of the fields
            it reads (``contenders.py``)
sse         oxide_rx's SSE decoder alone (``SSEDecoder.feed_data``)
decode      + the decode stage: the whole chunk / wire event, ``raw`` kept
accumulate  + the accumulate stage: snapshots and helper events (no wire events, as a stream
            with no wire subscriber)
native      + the fan-out and one ``ContentDelta`` callback (``stream.on``)
==========  ==================================================================================

The loop around the pieces is the same at every depth, so the differences between rows are
what each layer costs per event; aiohttp and the event loop, which cost every contender the
same, are left out (figure 1 has them).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import time
from collections.abc import Callable
from typing import Any

import aiohttp
from contenders import _HEADERS, FLOOR_REQUESTS
from server import Profile, start_server

import oxide_rx as ox
from oxide_rx._core.chat import ChatCompletionAccumulator
from oxide_rx._core.responses import ResponseAccumulator
from oxide_rx._pipeline.chains import Chain, chat_chain, responses_chain
from oxide_rx._pipeline.sink import Sink
from oxide_rx._pipeline.stages import ChunkDecodeStage, EventDecodeStage
from oxide_rx._stream.fanout import FanOut, TypedCallback
from oxide_rx.sse import SSEDecoder

DEPTHS = ("floor", "sse", "decode", "accumulate", "native")
ROUNDS = 9


async def _fetch(base_url: str) -> dict[str, bytes]:
    """The raw body of one stream per API (the floor contender's request)."""
    bodies = {}
    async with aiohttp.ClientSession() as session:
        for api, (path, body, _) in FLOOR_REQUESTS.items():
            async with session.post(base_url + path, data=body, headers=_HEADERS) as response:
                bodies[api] = await response.read()
    return bodies


def _floor(api: str, reads: list[bytes]) -> None:
    """The floor contender's work on each read (``contenders.FLOOR_REQUESTS``)."""
    read = FLOOR_REQUESTS[api][2]
    rest = b""
    for data in reads:
        rest, _ = read(rest, data, _ignore)


def _ignore(_: int | None) -> None:
    return None


class _Sink:
    """The end of the cut chain: ``on_next`` drops each item unless given a callable."""

    def __init__(self, on_next: Callable[[Any], None] = lambda _: None) -> None:
        self.on_next = on_next

    def on_error(self, error: Exception) -> None:
        raise error

    def on_completed(self) -> None:
        pass


def _ingress(api: str, depth: str) -> Sink[bytes]:
    """Where payloads go in, for the stream's chain cut after ``depth``."""
    if depth == "decode":
        return (ChunkDecodeStage if api == "chat" else EventDecodeStage)(_Sink())
    sink = _Sink()
    if depth == "native":
        fanout: FanOut[ox.Event] = FanOut(lambda: None)
        fanout.attach(TypedCallback((ox.ContentDelta,), lambda event: None))
        sink = _Sink(fanout.emit)
    chain: Chain = (chat_chain(ChatCompletionAccumulator(), sink) if api == "chat"
                    else responses_chain(ResponseAccumulator(), sink))
    chain.accumulate.wire = False
    return chain.ingress


def _run(api: str, depth: str, reads: list[bytes]) -> None:
    if depth == "floor":
        _floor(api, reads)
        return
    decoder = SSEDecoder()
    if depth == "sse":
        for data in reads:
            decoder.feed_data(data)
        return
    push = _ingress(api, depth).on_next
    for data in reads:
        for payload in decoder.feed_data(data):
            push(payload)


def _best(api: str, depth: str, reads: list[bytes]) -> float:
    """The least process CPU time of ``ROUNDS`` runs, in seconds."""
    times = []
    for _ in range(ROUNDS):
        gc.collect()
        start = time.process_time()
        _run(api, depth, reads)
        times.append(time.process_time() - start)
    return min(times)


def measure(events: int, read_size: int) -> dict[str, dict[str, float]]:
    """ns per event at each depth, per API."""
    server = start_server({"depths": Profile(events=events, chunking=read_size)})
    try:
        bodies = asyncio.run(_fetch(server.urls["depths"]))
    finally:
        server.stop()
    table: dict[str, dict[str, float]] = {}
    for api, body in bodies.items():
        reads = [body[i:i + read_size] for i in range(0, len(body), read_size)]
        table[api] = {depth: _best(api, depth, reads) / events * 1e9 for depth in DEPTHS}
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--read-size", type=int, default=16_384)
    args = parser.parse_args()
    table = measure(args.events, args.read_size)
    print(f"ns per event, {args.events:,} events, {args.read_size:,}-byte reads (best of "
          f"{ROUNDS}); each depth includes the ones above it but the floor")
    for api, row in table.items():
        cells = "  ".join(f"{depth} {value:6.0f}" for depth, value in row.items())
        print(f"  {api:9} {cells}  native/floor {row['native'] / row['floor']:.2f}")


if __name__ == "__main__":
    main()
