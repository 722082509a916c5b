"""Faults: what can go wrong on the wire, as a value you attach to a scenario.

A :class:`Fault` is a frozen bag of independent knobs. Constructors set one knob each and
``|`` merges two faults (the right side wins for knobs it sets), so
``Fault.drop_after(3) | Fault.chunking(7)`` drops the connection after three events that
were written seven bytes at a time.

Event positions count the SSE events of the body from 0 (for a non-streaming reply the whole
JSON body is one "event"). ``after=N`` means "once N events have been written".
"""

from __future__ import annotations

import dataclasses
import functools
import re
import zlib
from dataclasses import dataclass
from typing import Literal, TypeAlias

__all__ = ["Chunking", "Fault", "corrupt_json", "gzip_bomb_body", "inject_invalid_utf8"]

Chunking: TypeAlias = Literal["events", "whole"] | int | tuple[Literal["random"], int]
"""How body bytes are cut into writes: one write per event (default), the whole body in one
write, fixed ``int``-byte writes, or ``("random", seed)`` writes of 1 to 128 bytes."""

MiB = 1024 * 1024


@dataclass(frozen=True, kw_only=True)
class Fault:
    """A wire fault applied while the mock server writes a response.

    Attach one to a scenario: ``Scenario.text("hi", fault=Fault.drop_after(3))`` or
    ``scenario.with_fault(Fault.stall_after(1))``; or per request with the header
    ``X-Mock-Fault: drop_after=3`` (grammar in :meth:`parse`).

    >>> Fault.parse("drop_after=3, chunking=7") == Fault.drop_after(3) | Fault.chunking(7)
    True
    """

    drop_after_events: int | None = None
    """Abort the TCP connection after this many events: the client sees a broken chunked body."""
    stall_after_events: int | None = None
    """Stop writing after this many events and hold the connection open."""
    stall_max: float = 60.0
    """Longest stall; then the connection is aborted."""
    trickle_delay: float | None = None
    """Write the body one byte per write, sleeping this long between writes."""
    keepalive_interval: float | None = None
    """Send only ``: keep-alive`` comments at this interval, no events at all."""
    keepalive_max: float = 10.0
    """How long the keep-alive-only body lasts before it ends cleanly."""
    malformed_at: int | None = None
    """This event's JSON is cut in half (still framed as an SSE event)."""
    invalid_utf8_at: int | None = None
    """This event gets bytes that are not valid UTF-8 inside a JSON string."""
    oversized_bytes: int | None = None
    """Insert one content delta whose ``data:`` payload is this many bytes."""
    oversized_at: int = 1
    """Where the oversized event goes (before the event with this position)."""
    endless_line_bytes: int | None = None
    """The body is one ``data:`` line of this many bytes that never ends, then EOF."""
    gzip_bomb_bytes: int | None = None
    """``Content-Encoding: gzip`` body that inflates to this many bytes (mostly newlines)."""
    truncate_after_events: int | None = None
    """End the body cleanly after this many events (no terminal marker)."""
    truncate_terminal: bool = False
    """End the body cleanly just before its terminal marker (``[DONE]`` / final event)."""
    html_error_page: bool = False
    """Answer 200 with an HTML error page (``text/html``), as proxies do."""
    wrong_content_type: bool = False
    """Answer a stream request with the non-streaming ``application/json`` body."""
    chunking_mode: Chunking = "events"
    """How the body is cut into writes (see :data:`Chunking`)."""
    headers_delay: float = 0.0
    """Sleep this long before sending the response headers."""
    pace_interval: float = 0.0
    """Pause this long before every event but the first (a model that takes its time)."""
    hold_after_events: int | None = None
    """After this many events, wait for :meth:`MockServer.release_held` before going on."""
    hold_max: float = 60.0
    """Longest hold; then the connection is aborted."""
    close_after_events: int | None = None
    """WebSocket mode: close the connection with :attr:`close_code` after this many events."""
    close_code: int = 1011
    """The close code of :attr:`close_after_events` (1005: a close frame without a code;
    1006: no close frame, the connection is aborted; 1015: the reserved code on the wire)."""

    # --- constructors, one knob each -------------------------------------------------------

    @classmethod
    def drop_after(cls, events: int) -> Fault:
        """Abort the connection mid-body after ``events`` events (client: payload error)."""
        return cls(drop_after_events=events)

    @classmethod
    def stall_after(cls, events: int, *, max_seconds: float = 60.0) -> Fault:
        """Stop writing after ``events`` events until the client leaves (or ``max_seconds``)."""
        return cls(stall_after_events=events, stall_max=max_seconds)

    @classmethod
    def trickle(cls, delay: float = 0.0) -> Fault:
        """Send the body one byte per write, ``delay`` seconds apart."""
        return cls(trickle_delay=delay)

    @classmethod
    def keepalive_only(cls, interval: float = 0.05, *, max_seconds: float = 10.0) -> Fault:
        """Send nothing but ``: keep-alive`` comments every ``interval`` s, then end."""
        return cls(keepalive_interval=interval, keepalive_max=max_seconds)

    @classmethod
    def malformed_json(cls, at: int = 1) -> Fault:
        """Cut the JSON of event ``at`` in half."""
        return cls(malformed_at=at)

    @classmethod
    def invalid_utf8(cls, at: int = 1) -> Fault:
        """Put invalid UTF-8 bytes into a string of event ``at``."""
        return cls(invalid_utf8_at=at)

    @classmethod
    def oversized_event(cls, size: int = 2 * MiB, *, at: int = 1) -> Fault:
        """Insert one content delta whose ``data:`` payload is ``size`` bytes."""
        return cls(oversized_bytes=size, oversized_at=at)

    @classmethod
    def endless_line(cls, total: int = 4 * MiB) -> Fault:
        """Send one unterminated ``data:`` line of ``total`` bytes, then end the body."""
        return cls(endless_line_bytes=total)

    @classmethod
    def gzip_bomb(cls, inflated: int = 128 * MiB) -> Fault:
        """A gzip body of a few hundred KiB that inflates to ``inflated`` bytes."""
        return cls(gzip_bomb_bytes=inflated)

    @classmethod
    def truncate(cls, after: int | None = None) -> Fault:
        """End cleanly without the terminal marker, or after ``after`` events."""
        if after is None:
            return cls(truncate_terminal=True)
        return cls(truncate_after_events=after)

    @classmethod
    def html_error(cls) -> Fault:
        """Status 200 with ``text/html`` error page instead of the stream."""
        return cls(html_error_page=True)

    @classmethod
    def wrong_type(cls) -> Fault:
        """Status 200 with an ``application/json`` body on a stream request."""
        return cls(wrong_content_type=True)

    @classmethod
    def chunking(cls, mode: Chunking) -> Fault:
        """Control how the body is cut into writes (see :data:`Chunking`)."""
        return cls(chunking_mode=mode)

    @classmethod
    def delay_headers(cls, seconds: float) -> Fault:
        """Sleep ``seconds`` before sending the response headers."""
        return cls(headers_delay=seconds)

    @classmethod
    def pace(cls, seconds: float) -> Fault:
        """Pause ``seconds`` before every event but the first, as a slow model does."""
        return cls(pace_interval=seconds)

    @classmethod
    def hold_after(cls, events: int, *, max_seconds: float = 60.0) -> Fault:
        """Write ``events`` events, then wait until the test calls
        :meth:`MockServer.release_held` (or ``max_seconds`` pass: the connection is aborted).

        Unlike :meth:`stall_after` the body goes on once released, so a test can reach a
        "mid-stream" state by waiting on a condition instead of sleeping.
        """
        return cls(hold_after_events=events, hold_max=max_seconds)

    @classmethod
    def close_after(cls, events: int, code: int = 1011) -> Fault:
        """WebSocket mode: after ``events`` events, close the connection with ``code``."""
        return cls(close_after_events=events, close_code=code)

    # --- combination ------------------------------------------------------------------------

    def __or__(self, other: Fault) -> Fault:
        """Merge two faults; knobs that ``other`` sets (non-default) win."""
        changes = {
            field.name: getattr(other, field.name)
            for field in dataclasses.fields(other)
            if getattr(other, field.name) != field.default
        }
        return dataclasses.replace(self, **changes)

    @property
    def replaces_body(self) -> bool:
        """True when the fault sends its own body instead of the scenario's events."""
        return (
            self.html_error_page
            or self.wrong_content_type
            or self.gzip_bomb_bytes is not None
            or self.keepalive_interval is not None
            or self.endless_line_bytes is not None
        )

    # --- header grammar ---------------------------------------------------------------------

    @classmethod
    def parse(cls, spec: str) -> Fault:
        """Parse the ``X-Mock-Fault`` header: ``key[=value]`` items separated by ``,`` or ``;``.

        Keys: ``drop_after=N``, ``stall_after=N``, ``stall_max=S``, ``trickle[=S]``,
        ``keepalive[=S]``, ``keepalive_max=S``, ``malformed_at=N``, ``invalid_utf8_at=N``,
        ``oversized=BYTES``, ``oversized_at=N``, ``endless_line[=BYTES]``,
        ``gzip_bomb[=BYTES]``, ``truncate[=N]``, ``html``, ``wrong_content_type``,
        ``chunking=events|whole|N|random[:SEED]``, ``headers_delay=S``, ``pace=S``,
        ``hold_after=N``, ``hold_max=S``, ``close_after=N``, ``close_code=C`` (WebSocket).
        ``N`` counts events, ``S`` is seconds (float). Raises ``ValueError`` on unknown keys.

        >>> Fault.parse("stall_after=2; stall_max=0.5").stall_max
        0.5
        """
        fault = cls()
        for item in re.split(r"[,;]", spec):
            item = item.strip()
            if not item:
                continue
            key, _, value = item.partition("=")
            fault = fault | _parse_item(key.strip().lower(), value.strip())
        return fault


def _parse_chunking(value: str) -> Chunking:
    if value in ("events", "whole"):
        return value  # type: ignore[return-value]  # narrowed by the membership test
    if value.startswith("random"):
        _, _, seed = value.partition(":")
        return ("random", int(seed or 0))
    size = int(value)
    if size < 1:
        raise ValueError("chunking size must be >= 1")
    return size


def _parse_item(key: str, value: str) -> Fault:
    number = int(value) if value.isdigit() else None
    match key:
        case "drop_after":
            return Fault.drop_after(int(value))
        case "stall_after":
            return Fault.stall_after(int(value))
        case "stall_max":
            return Fault(stall_max=float(value))
        case "trickle":
            return Fault.trickle(float(value or 0))
        case "keepalive":
            return Fault(keepalive_interval=float(value or 0.05))
        case "keepalive_max":
            return Fault(keepalive_max=float(value))
        case "malformed_at" | "malformed":
            return Fault.malformed_json(int(value or 1))
        case "invalid_utf8_at" | "invalid_utf8":
            return Fault.invalid_utf8(int(value or 1))
        case "oversized":
            return Fault(oversized_bytes=int(value or 2 * MiB))
        case "oversized_at":
            return Fault(oversized_at=int(value))
        case "endless_line":
            return Fault.endless_line(int(value or 4 * MiB))
        case "gzip_bomb":
            return Fault.gzip_bomb(int(value or 128 * MiB))
        case "truncate":
            return Fault.truncate(number)
        case "html":
            return Fault.html_error()
        case "wrong_content_type":
            return Fault.wrong_type()
        case "chunking":
            return Fault.chunking(_parse_chunking(value))
        case "headers_delay":
            return Fault.delay_headers(float(value))
        case "pace":
            return Fault.pace(float(value))
        case "hold_after":
            return Fault.hold_after(int(value))
        case "hold_max":
            return Fault(hold_max=float(value))
        case "close_after":
            return Fault.close_after(int(value))
        case "close_code":
            return Fault(close_code=int(value))
    raise ValueError(f"unknown X-Mock-Fault key {key!r}")


# --- byte-level helpers used by the writer ----------------------------------------------------


def corrupt_json(frame: bytes) -> bytes:
    """The same SSE frame with the JSON of its ``data:`` line cut in half."""
    head, sep, rest = frame.partition(b"data: ")
    if not sep:
        return frame[: len(frame) // 2] + b"\n\n"
    payload = rest.rstrip(b"\r\n")
    return head + sep + payload[: max(1, len(payload) // 2)] + b"\n\n"


_STRING_STARTS = (b'"content":"', b'"delta":"', b'"refusal":"', b'"arguments":"')


def inject_invalid_utf8(frame: bytes) -> bytes:
    """The same frame with ``\\xff\\xfe`` inside a JSON string (text if possible)."""
    for marker in _STRING_STARTS:
        pos = frame.find(marker)
        if pos >= 0:
            cut = pos + len(marker)
            return frame[:cut] + b"\xff\xfe" + frame[cut:]
    end = frame.rfind(b"}")
    if end < 0:
        return frame + b"\xff\xfe"
    return frame[:end] + b',"x_invalid":"\xff\xfe"' + frame[end:]


@functools.lru_cache(maxsize=4)
def gzip_bomb_body(prefix: bytes, inflated: int, fill: bytes = b"\n") -> bytes:
    """A gzip member that inflates to ``prefix`` followed by ``fill`` up to ``inflated`` bytes.

    Built without ever holding the inflated data: one 1 MiB block is deflated with a full
    flush (which resets the compressor's window, so the same block always deflates to the
    same bytes) and that output is repeated; the CRC is updated block by block. Cached,
    because a test suite asks for the same bomb repeatedly.
    """
    block = fill * (MiB // len(fill))
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    head = compressor.compress(prefix) + compressor.flush(zlib.Z_FULL_FLUSH)
    repeat = compressor.compress(block) + compressor.flush(zlib.Z_FULL_FLUSH)
    crc = zlib.crc32(prefix)
    blocks = max(0, inflated - len(prefix)) // len(block)
    for _ in range(blocks):
        crc = zlib.crc32(block, crc)
    tail = compressor.flush(zlib.Z_FINISH)
    size = len(prefix) + blocks * len(block)
    header = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff"
    trailer = crc.to_bytes(4, "little") + (size & 0xFFFFFFFF).to_bytes(4, "little")
    return header + head + repeat * blocks + tail + trailer
