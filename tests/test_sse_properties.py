"""Property tests for SSEDecoder: junk never breaks it, chunking never matters, and it agrees
with a deliberately naive whole-body reading of WHATWG HTML §9.2.6 (decode, split, interpret)."""

from __future__ import annotations

import itertools
import re

from hypothesis import given, settings
from hypothesis import strategies as st

from oxide_rx import SSEError
from oxide_rx.sse import ServerSentEvent, SSEDecoder

_TERMINATOR = re.compile("\r\n|\r|\n")


def reference_decode(body: bytes) -> tuple[list[ServerSentEvent], str, int | None]:
    """Events, last event ID and reconnection time, straight from the spec's wording."""
    text = body.decode("utf-8", "replace").removeprefix("\ufeff")
    lines = _TERMINATOR.split(text)[:-1]  # the unterminated rest is discarded at end of stream
    data, event_type, id_buffer, last_event_id = "", "", "", ""
    retry: int | None = None
    block_retry: int | None = None
    events = []
    for line in lines:
        if line == "":
            last_event_id = id_buffer
            if data:
                event = ServerSentEvent(data[:-1], event_type or "message", id_buffer, block_retry)
                events.append(event)
            data, event_type, block_retry = "", "", None
            continue
        if line.startswith(":"):
            continue
        name, colon, value = line.partition(":")
        if colon and value.startswith(" "):
            value = value[1:]
        if name == "data":
            data += value + "\n"
        elif name == "event":
            event_type = value
        elif name == "id" and "\0" not in value:
            id_buffer = value
        elif name == "retry" and value and all(c in "0123456789" for c in value):
            retry = block_retry = int(value)
    return events, last_event_id, retry


def decode_in(
    reads: list[bytes], max_event_size: int | None = None
) -> tuple[list[ServerSentEvent], str, int | None]:
    decoder = SSEDecoder(max_event_size=max_event_size)
    events = [event for read in reads for event in decoder.feed(read)]
    last_event_id, retry = decoder.last_event_id, decoder.retry
    return events + decoder.finish(), last_event_id, retry


def split_at(body: bytes, cuts: list[int]) -> list[bytes]:
    bounds = [0, *sorted(cuts), len(body)]
    return [body[start:end] for start, end in itertools.pairwise(bounds)]


# Field values: any text without line terminators, including NUL, BOM, colons and U+2028.
values = st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\r\n"), max_size=12)
field_lines = st.one_of(
    st.builds("data: {}".format, values),
    st.builds("data:{}".format, values),
    st.just("data"),
    st.builds("event: {}".format, st.sampled_from(["", "delta", "done", " x"])),
    st.builds("id: {}".format, st.one_of(values, st.just("a\0b"))),
    st.just("id"),
    st.builds("retry: {}".format, st.one_of(st.integers(0, 10**6).map(str), values)),
    st.builds(":{}".format, values),
    st.just(""),
    st.builds("{}: {}".format, st.sampled_from(["foo", "Data", "\ufeffdata", "dat"]), values),
)
terminators = st.sampled_from(["\n", "\r", "\r\n"])


@st.composite
def streams(draw: st.DrawFn) -> bytes:
    """A body of random field, comment and blank lines with mixed terminators."""
    lines = draw(st.lists(st.tuples(field_lines, terminators), max_size=30))
    bom = draw(st.sampled_from(["", "\ufeff"]))
    tail = draw(st.sampled_from(["", "data: unterminated", "\r"]))
    return (bom + "".join(line + eol for line, eol in lines) + tail).encode("utf-8")


@st.composite
def chunked(draw: st.DrawFn, bodies: st.SearchStrategy[bytes]) -> tuple[bytes, list[bytes]]:
    body = draw(bodies)
    cuts = draw(st.lists(st.integers(0, len(body)), max_size=len(body) + 4))
    return body, split_at(body, cuts)


@settings(max_examples=300, deadline=None)
@given(chunked(st.binary(max_size=300)), st.one_of(st.none(), st.integers(0, 64)))
def test_junk_bytes_raise_nothing_but_sse_error(
    body_and_reads: tuple[bytes, list[bytes]], max_event_size: int | None
) -> None:
    _, reads = body_and_reads
    try:
        events, _, _ = decode_in(reads, max_event_size)
    except SSEError:
        return
    assert all(isinstance(event.data, str) for event in events)


@settings(max_examples=200, deadline=None)
@given(chunked(st.binary(max_size=300).map(lambda junk: b"data: a\n\n" + junk)))
def test_junk_decodes_like_the_reference(body_and_reads: tuple[bytes, list[bytes]]) -> None:
    body, reads = body_and_reads
    assert decode_in(reads) == reference_decode(body)


@settings(max_examples=300, deadline=None)
@given(chunked(streams()))
def test_any_chunking_gives_the_same_events(body_and_reads: tuple[bytes, list[bytes]]) -> None:
    body, reads = body_and_reads
    assert decode_in(reads) == decode_in([body])


@settings(max_examples=300, deadline=None)
@given(streams())
def test_whole_body_matches_the_reference(body: bytes) -> None:
    assert decode_in([body]) == reference_decode(body)


@settings(max_examples=100, deadline=None)
@given(streams())
def test_one_byte_reads_match_the_reference(body: bytes) -> None:
    reads = [body[i : i + 1] for i in range(len(body))]
    assert decode_in(reads) == reference_decode(body)


@st.composite
def encoded_events(draw: st.DrawFn) -> tuple[list[ServerSentEvent], bytes]:
    """Events with ids and types, written out the way a server would (any terminator)."""
    expected, out = [], []
    last_id = ""
    for _ in range(draw(st.integers(0, 8))):
        data = draw(st.lists(values, min_size=1, max_size=3))
        event_type = draw(st.sampled_from(["message", "delta", "response.completed"]))
        new_id = draw(st.one_of(st.none(), st.text("abc123", min_size=1, max_size=4)))
        eol = draw(terminators)
        lines = [f"event: {event_type}"] + [f"data: {line}" for line in data]
        if new_id is not None:
            lines.append(f"id: {new_id}")
            last_id = new_id
        out.append("".join(line + eol for line in lines) + eol)
        if draw(st.booleans()):
            out.append(": keep-alive" + eol + eol)
        expected.append(ServerSentEvent("\n".join(data), event_type, last_id))
    return expected, "".join(out).encode("utf-8")


@settings(max_examples=200, deadline=None)
@given(encoded_events(), st.data())
def test_encoded_events_come_back_unchanged(
    case: tuple[list[ServerSentEvent], bytes], data: st.DataObject
) -> None:
    expected, body = case
    cuts = data.draw(st.lists(st.integers(0, len(body)), max_size=20))
    assert decode_in(split_at(body, cuts))[0] == expected


def data_in(reads: list[bytes], max_event_size: int | None = None) -> list[str]:
    """Every event's data through ``feed_data`` (payload bytes, decoded as ``feed`` does)."""
    decoder = SSEDecoder(max_event_size=max_event_size)
    return [payload.decode("utf-8", "replace") for read in reads
            for payload in decoder.feed_data(read)]


# API-shaped blocks, with the deviations a hostile or unusual server adds now and then.
payloads = st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\r\n"),
                   max_size=20)
api_blocks = st.one_of(
    st.builds("data: {}\n\n".format, payloads),
    st.builds("event: {}\ndata: {}\n\n".format, st.sampled_from(["x", "response.y", ""]),
              payloads),
    st.sampled_from([": ping\n\n", "id: 7\ndata: z\n\n", "data: a\ndata: b\n\n", "\n",
                     "data:tight\n\n", "event: e\n\n", "retry: 5\n\n", "event:x\ndata: q\n\n"]),
)


@st.composite
def api_streams(draw: st.DrawFn) -> bytes:
    uniform = draw(st.booleans())
    if uniform:  # one shape throughout: the fast path's case
        shape = draw(st.sampled_from(["data: {}\n\n", "event: t\ndata: {}\n\n"]))
        blocks = [shape.format(p) for p in draw(st.lists(payloads, max_size=25))]
    else:
        blocks = draw(st.lists(api_blocks, max_size=25))
    tail = draw(st.sampled_from(["", "data: open", "event: t\n", "event: t\ndata: x\n"]))
    return ("".join(blocks) + tail).encode("utf-8")


@settings(max_examples=400, deadline=None)
@given(chunked(st.one_of(api_streams(), streams())))
def test_feed_data_gives_every_events_data(body_and_reads: tuple[bytes, list[bytes]]) -> None:
    body, reads = body_and_reads
    assert data_in(reads) == [event.data for event in reference_decode(body)[0]]


@settings(max_examples=200, deadline=None)
@given(chunked(api_streams()), st.integers(0, 30))
def test_feed_data_limits_event_size_like_feed(
    body_and_reads: tuple[bytes, list[bytes]], max_event_size: int
) -> None:
    _, reads = body_and_reads
    try:
        expected = [event.data for event in decode_in(reads, max_event_size)[0]]
    except SSEError:
        expected = None
    try:
        got: list[str] | None = data_in(reads, max_event_size)
    except SSEError:
        got = None
    assert got == expected
