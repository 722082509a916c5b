"""A sans-IO decoder for server-sent events: bytes in, :class:`ServerSentEvent` objects out.

It follows the WHATWG HTML standard exactly ("Server-sent events", §9.2.5-§9.2.6):
https://html.spec.whatwg.org/multipage/server-sent-events.html#parsing-an-event-stream
https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation

Feed it network reads of any size; it never does I/O, so it works the same over aiohttp, a
recorded file or a test list::

    >>> decoder = SSEDecoder()
    >>> decoder.feed(b'data: {"a": 1}\\n\\nda')
    [ServerSentEvent(data='{"a": 1}', event='message', id='', retry=None)]
    >>> decoder.feed(b"ta: 2\\n\\n")
    [ServerSentEvent(data='2', event='message', id='', retry=None)]

Lines are split on bytes and each complete line is decoded once, so a read costs a few C-level
passes plus one small Python step per line; there is no per-byte Python loop. The common block
shapes (``data: ...`` and ``event: ...`` + ``data: ...``, LF-terminated) take one step per
*event* instead, and runs of blank lines are collapsed before splitting (see
:meth:`SSEDecoder.feed`).
"""

from __future__ import annotations

import re
from typing import Any

import msgspec

from oxide_rx._exceptions import SSEError

__all__ = ["DEFAULT_MAX_EVENT_SIZE", "SSEDecoder", "ServerSentEvent"]

DEFAULT_MAX_EVENT_SIZE = 128 * 1024 * 1024
"""Largest event data (and unterminated line) accepted, in bytes: room for base64 images."""

_BOM = b"\xef\xbb\xbf"
# A line carries its field name besides the data; allow that much on top of max_event_size so an
# event of exactly max_event_size bytes is accepted however its line arrives.
_LINE_SLACK = 64

# Where a block ends in an LF-only read: a line terminator and a blank line, plus any further
# blank lines. Those find nothing pending (the first one dispatched), so they change nothing
# and are skipped with the separator; a run of a million LFs is one match. (The regex split is
# also faster than bytes.split(b"\n\n"), whose search stumbles on every lone LF.)
_BLOCK_END = re.compile(rb"\n\n+")
# Event types by their whole `event: ` line (LF included), shared by every decoder: a stream
# uses a few dozen types, so the usual line is one lookup instead of being checked, cut and
# decoded per event. Only lines that passed those checks go in; the size bound keeps a hostile
# stream from growing it.
_EVENT_LINES: dict[bytes, str] = {}
_EVENT_LINES_MAX = 512

# Runs of blank lines with any terminators, for reads that split() handles: five or more CR/LF
# bytes hold at least three terminators (a CRLF is two bytes), so a terminator and two blank
# lines or more, the same as "\n\n". Runs of up to four are left alone: "\r\n\r\n" ends
# every block of a CRLF stream.
_TERMINATOR_RUN = re.compile(rb"[\r\n]{5,}")


class ServerSentEvent(msgspec.Struct, frozen=True, gc=False):
    """One dispatched event.

    >>> ServerSentEvent("hello")
    ServerSentEvent(data='hello', event='message', id='', retry=None)
    """

    data: str
    """The `data` lines of the event's block, joined with "\\n"."""
    event: str = "message"
    """The event type; "message" when the block had no (or an empty) `event` field."""
    id: str = ""
    """The last event ID at dispatch: it persists across events until an `id` field changes it."""
    retry: int | None = None
    """A valid `retry` value (milliseconds) from this event's own block, else None."""


class _LineSplitter:
    """Splits a byte stream into lines on CR, LF or CRLF, strips one leading BOM.

    A CR ending a read terminates its line at once (no waiting for the next read); an LF that
    starts the next read is then swallowed, so a CRLF split across reads is one terminator.

    >>> splitter = _LineSplitter(max_line=100)
    >>> splitter.split(b"a\\r"), splitter.split(b"\\nb"), splitter.flush()
    ([b'a'], [], [b'b'])
    """

    __slots__ = ("_after_cr", "_at_start", "_max_line", "_start", "partial", "plain")

    def __init__(self, max_line: int) -> None:
        self._max_line = max_line
        self.reset()

    def reset(self) -> None:
        """Forget the partial line; the next byte starts a new stream (a BOM is stripped again)."""
        self.partial = bytearray()  # the line so far, while its terminator has not come
        self._after_cr = False
        self._at_start = True
        self._start = b""
        # Past the stream start and no CR pending: a read without CR then needs none of
        # split()'s special cases, so the decoder may split it itself (take/keep).
        self.plain = False

    def take(self, chunk: bytes) -> bytes | None:
        """A read without CR, joined to the partial line before it (so it starts at a line start).

        ``None`` when it completes no line: it was added to the partial line. Only when
        :attr:`plain`; the unterminated end of the result must come back through :meth:`keep`.
        """
        partial = self.partial
        if not partial:
            return chunk
        partial += chunk
        if 0x0A not in chunk:
            if len(partial) > self._max_line:
                raise _line_too_long(len(partial), self._max_line)
            return None
        text = bytes(partial)
        partial.clear()
        return text

    def keep(self, tail: bytes) -> None:
        """Keep the unterminated last line of a read taken with :meth:`take`."""
        self.partial += tail

    def start(self, chunk: bytes) -> bytes:
        """At the stream start: strip a leading BOM and go :attr:`plain` as soon as the read
        shows whether there is one, so the first read (often the largest) takes the fast path
        too. A read too short to tell is returned as is, for :meth:`split`."""
        if not self._at_start or len(self._start) + len(chunk) < len(_BOM):
            return chunk
        chunk = self._start + chunk
        self._start = b""
        self._at_start = False
        self.plain = True
        return chunk[len(_BOM):] if chunk.startswith(_BOM) else chunk

    def check(self) -> None:
        """Fail if the unterminated line kept so far is over the limit (checked after the
        read's complete lines were handled, so none of them is lost)."""
        if len(self.partial) > self._max_line:
            raise _line_too_long(len(self.partial), self._max_line)

    def split(self, chunk: bytes) -> list[bytes]:
        """Complete lines of ``chunk`` (terminators removed); keeps the unterminated rest."""
        if self._at_start:
            # One leading BOM is ignored, even split across reads; later ones are content
            # (the stream is UTF-8 decoded, which strips one leading BOM).
            # https://html.spec.whatwg.org/multipage/server-sent-events.html#parsing-an-event-stream
            chunk = self._start + chunk
            if len(chunk) < 3 and _BOM.startswith(chunk):
                self._start = chunk
                return []
            self._at_start = False
            self._start = b""
            self.plain = not self._after_cr
            if chunk.startswith(_BOM):
                chunk = chunk[3:]
        if self._after_cr:
            # The line before was ended by a CR at the end of a read: an LF now completes CRLF.
            if not chunk:
                return []
            self._after_cr = False
            self.plain = True
            if chunk[0] == 0x0A:
                chunk = chunk[1:]
        partial = self.partial
        if partial:
            partial += chunk
            if 0x0A not in chunk and 0x0D not in chunk:
                if len(partial) > self._max_line:
                    raise _line_too_long(len(partial), self._max_line)
                return []
            chunk = bytes(partial)
            partial.clear()
        # A hostile "newline bomb" would otherwise cost a list entry and a loop step per line.
        chunk = _TERMINATOR_RUN.sub(b"\n\n", chunk)
        # Lines end with CRLF, LF or CR, and nothing else (not U+2028, VT, FF, ...).
        # https://html.spec.whatwg.org/multipage/server-sent-events.html#parsing-an-event-stream
        # Membership is tested with ints (0x0D is CR): that is a plain memchr, while a bytes
        # needle goes through the buffer protocol and costs several times more per read.
        if 0x0D not in chunk:
            lines = chunk.split(b"\n")
            tail = lines.pop()
        else:
            # bytes.splitlines() breaks at exactly CR, LF and CRLF, in one pass; it drops the
            # empty piece after a final terminator, so the tail is the last line only when the
            # chunk does not end with one.
            lines = chunk.splitlines()
            last = chunk[-1]
            if last == 0x0D:
                self._after_cr = True
                self.plain = False
                tail = b""
            elif last == 0x0A:
                tail = b""
            else:
                tail = lines.pop()
        if tail:
            partial += tail  # checked by check(), after the lines are handled
        return lines

    def flush(self) -> list[bytes]:
        """At end of input: the unterminated last line, if any, then a fresh start."""
        rest = bytes(self.partial) or self._start
        self.reset()
        return [rest] if rest else []


class SSEDecoder:
    """Incremental decoder of an ``text/event-stream`` body, one instance per stream.

    ``max_event_size`` bounds, in bytes, both the data of one event and one line still waiting
    for its terminator, so memory stays within about ``max_event_size`` plus one read; exceeding
    it raises :class:`~oxide_rx.SSEError` (the decoder must then be :meth:`reset` before reuse).
    ``None`` removes the limit.

    >>> decoder = SSEDecoder()
    >>> decoder.feed(b"retry: 3000\\nid: 7\\nevent: ping\\ndata: a\\ndata: b\\n\\n")
    [ServerSentEvent(data='a\\nb', event='ping', id='7', retry=3000)]
    >>> decoder.last_event_id, decoder.retry
    ('7', 3000)
    >>> decoder.feed(b"data: pending, never terminated")
    []
    >>> decoder.finish()
    []
    """

    __slots__ = (
        "_block_retry",
        "_data",
        "_data_size",
        "_event_type",
        "_id_buffer",
        "_last_event_id",
        "_lines",
        "_max_data",
        "_more_data",
        "_pending",
        "_retry",
    )

    def __init__(self, max_event_size: int | None = DEFAULT_MAX_EVENT_SIZE) -> None:
        if max_event_size is not None and max_event_size < 0:
            raise ValueError(f"max_event_size must be >= 0 or None, not {max_event_size}")
        limit = (1 << 62) if max_event_size is None else max_event_size
        self._max_data = limit
        self._lines = _LineSplitter(limit + _LINE_SLACK)
        self._last_event_id = ""
        self._retry: int | None = None
        self._id_buffer = ""
        self._clear_block()

    def _clear_block(self) -> None:
        # The event being built: its first data line, the further ones, and their total size.
        self._data: bytes | None = None
        self._more_data: list[bytes] | None = None
        self._data_size = 0
        self._event_type = b""
        self._block_retry: int | None = None
        # Lines of the current block were interpreted (it may hold data, an id, ...).
        self._pending = False

    @property
    def last_event_id(self) -> str:
        """The last event ID string: set when a block ends (even one without data), "" if none.

        https://html.spec.whatwg.org/multipage/server-sent-events.html#concept-event-stream-last-event-id
        """
        return self._last_event_id

    @property
    def retry(self) -> int | None:
        """The reconnection time in milliseconds: the last valid `retry` value, else None.

        https://html.spec.whatwg.org/multipage/server-sent-events.html#concept-event-stream-reconnection-time
        """
        return self._retry

    def reset(self) -> None:
        """Forget the partial line and event, as for a new connection; keeps the last event ID.

        The next byte is the start of a new stream, so a leading BOM is stripped again.
        """
        self._lines.reset()
        self._id_buffer = self._last_event_id
        self._clear_block()

    def finish(self) -> list[ServerSentEvent]:
        """End of stream: a pending event without its blank line is discarded (always ``[]``).

        "Once the end of the file is reached, any pending data must be discarded"
        (https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation).
        The decoder is then ready for a new stream.
        """
        self.reset()
        return []

    def feed(self, chunk: bytes) -> list[ServerSentEvent]:
        """Decode one read; returns the events it completed, in order.

        An error (:class:`~oxide_rx.SSEError`, an event or line over ``max_event_size``)
        carries the events the same read completed before it in ``error.events``: deliver
        them, then fail.
        """
        events: list[ServerSentEvent] = []
        self._feed(chunk, events, False)
        return events

    def feed_data(self, chunk: bytes) -> list[bytes]:
        """Like :meth:`feed`, but only each event's data, as bytes, undecoded: what a client
        that decodes JSON payloads itself needs (no event objects are built).

        >>> SSEDecoder().feed_data(b"event: x\\ndata: {}\\n\\ndata: [DONE]\\n\\n")
        [b'{}', b'[DONE]']
        """
        payloads: list[bytes] = []
        self._feed(chunk, payloads, True)
        return payloads

    def _feed(self, chunk: bytes, events: list[Any], data_only: bool) -> None:
        try:
            splitter = self._lines
            if not splitter.plain:
                chunk = splitter.start(chunk)
            if not splitter.plain or 0x0D in chunk:
                lines = splitter.split(chunk)
                if lines:
                    self._interpret(lines, events, data_only)
            else:
                self._feed_plain(chunk, events, data_only)
            splitter.check()
        except SSEError as exc:
            exc.events = events
            raise

    def _feed_plain(self, chunk: bytes, events: list[Any], data_only: bool) -> None:
        """The fast path, for reads without CR (every API stream): split the read into blocks
        at blank lines, so the usual block is one loop step instead of one per line plus the
        blank one."""
        splitter = self._lines
        # `text` starts at a line start: the partial line is in front of it.
        if splitter.partial:
            text = splitter.take(chunk)
            if text is None:
                return
        else:
            text = chunk
        if data_only and len(text) <= self._max_data:
            # The usual read: complete blocks of one shape, data taken in a few C passes.
            start = self._close_pending_block(text, events) if self._pending else 0
            end = text.rfind(b"\n\n") + 2
            if start >= 0 and end > start + 1:
                payloads = _uniform_payloads(text[start:end])
                if payloads is not None:
                    events.extend(payloads)
                    start = end
            if start > 0:
                text = text[start:]  # what the fast path did not take (the line loop's)
        blocks = _BLOCK_END.split(text)
        rest = blocks.pop()  # after the last blank line: lines of a block still open
        tail = b""
        if rest:
            rest, newline, tail = rest.rpartition(b"\n")
            rest_lines = rest.split(b"\n") if newline else None
        else:
            rest_lines = None
        max_data = self._max_data
        may_exceed = len(text) > max_data  # else no block can hold too much data
        event_id = self._last_event_id
        append = events.append
        # Lines of the first block may have come in earlier reads: then it is not one piece.
        pending = self._pending
        for block in blocks:
            if not pending:
                # Shortcuts that give exactly what the line loop gives, for the two shapes that
                # make up API streams: one `data: ` line, or an `event: ` line and a `data: `
                # line (the Responses API). Nothing is pending, so the last event ID stands.
                head, found, data = block.partition(b"data: ")
                if found and 0x0A not in data:
                    if not head:
                        if may_exceed and len(data) > max_data:
                            raise _too_large(len(data), max_data)
                        append(data if data_only else ServerSentEvent(
                            data.decode("utf-8", "replace"), "message", event_id, None
                        ))
                        continue
                    event_type = _EVENT_LINES.get(head)
                    # Else `head` must be exactly one `event: ` line, LF-terminated.
                    if event_type is None and head.startswith(b"event: ") and (
                        head.find(0x0A) == len(head) - 1
                    ):
                        name = head[7:-1]
                        event_type = name.decode("utf-8", "replace") if name else "message"
                        if len(_EVENT_LINES) < _EVENT_LINES_MAX:
                            _EVENT_LINES[head] = event_type
                    if event_type is not None:
                        if may_exceed and len(data) > max_data:
                            raise _too_large(len(data), max_data)
                        append(data if data_only else ServerSentEvent(
                            data.decode("utf-8", "replace"), event_type, event_id, None
                        ))
                        continue
            pending = False  # the block's blank line dispatches whatever was pending
            lines = block.split(b"\n")
            lines.append(b"")
            self._interpret(lines, events, data_only)
            event_id = self._last_event_id
        if rest_lines is not None:
            self._interpret(rest_lines, events, data_only)
        if tail:
            splitter.keep(tail)  # an unterminated line, checked against the limit last

    def _close_pending_block(self, text: bytes, events: list[Any]) -> int:
        """Run the lines that end the block an earlier read left open through the line loop;
        returns where the next block starts in ``text`` (-1: the block is still open)."""
        if text.startswith(b"\n"):  # the blank line right away
            self._interpret([b""], events, True)
            return 1
        blank = text.find(b"\n\n")
        if blank < 0:
            return -1
        lines = text[:blank].split(b"\n")
        lines.append(b"")
        self._interpret(lines, events, True)
        return blank + 2

    def _interpret(self, lines: list[bytes], events: list[Any], data_only: bool) -> None:
        """Interpret complete lines (terminators removed), appending dispatched events."""
        # The loop runs once per line: state lives in locals until it ends.
        max_data = self._max_data
        data = self._data
        more_data = self._more_data
        data_size = self._data_size
        event_type = self._event_type
        block_retry = self._block_retry
        id_buffer = self._id_buffer
        last_event_id = self._last_event_id
        for line in lines:
            if not line:
                # A blank line dispatches the event.
                # https://html.spec.whatwg.org/multipage/server-sent-events.html#dispatchMessage
                # Step 1 runs even when no event follows, so `id` alone updates the last event ID.
                last_event_id = id_buffer
                if data is not None:
                    # Data lines are joined with LF (the spec's trailing LF is never added).
                    if more_data is not None:
                        data = b"\n".join(more_data)
                        more_data = None
                    events.append(data if data_only else ServerSentEvent(
                        data.decode("utf-8", "replace"),
                        event_type.decode("utf-8", "replace") if event_type else "message",
                        id_buffer,
                        block_retry,
                    ))
                    data = None
                event_type = b""
                block_retry = None
                continue
            # A field line: name, colon, value; a leading colon makes a comment.
            # https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation
            # Splitting and comparing bytes gives what the decoded line would: ':' and ' ' are
            # ASCII, and U+FFFD (for invalid UTF-8) never is.
            if line.startswith(b"data: "):
                value = line[6:]
                name = b"data"
            else:
                colon = line.find(b":")
                if colon == 0:
                    continue  # a comment (keep-alives are comments too)
                if colon < 0:
                    name, value = line, b""
                else:
                    # One space after the colon is not part of the value.
                    name = line[:colon]
                    value = line[colon + 1 :]
                    if value.startswith(b" "):
                        value = value[1:]
            if name == b"data":
                if data is None:
                    data = value
                    data_size = len(value)
                else:
                    if more_data is None:
                        more_data = [data]
                    more_data.append(value)
                    data_size += 1 + len(value)
                if data_size > max_data:
                    raise _too_large(data_size, max_data)
            elif name == b"event":
                event_type = value
            elif name == b"id":
                # An id containing NUL is ignored (the last event ID is sent back in a header).
                if 0x00 not in value:
                    id_buffer = value.decode("utf-8", "replace")
            elif name == b"retry" and value.isdigit():
                # ASCII digits only (bytes.isdigit), else ignored; the reconnection time
                # changes at once, not at dispatch.
                self._retry = block_retry = int(value)
            # Any other field name is ignored.
        self._data = data
        self._more_data = more_data
        self._data_size = data_size
        self._event_type = event_type
        self._block_retry = block_retry
        self._id_buffer = id_buffer
        self._last_event_id = last_event_id
        self._pending = bool(lines[-1])  # a blank line last: the block was dispatched


def _uniform_payloads(blocks: bytes) -> list[bytes] | None:
    """The data of every block of ``blocks`` (complete blocks, ending with a blank line) when
    each is exactly ``data: <data>`` or each is exactly ``event: <type>`` + ``data: <data>``:
    the shapes API streams use. ``None`` for anything else (the line loop decides then).

    The shape is checked, and the data cut out, with whole-read C operations instead of a
    Python step per block. Such blocks carry no ``id``, so the last event ID does not change.

    >>> _uniform_payloads(b"data: 1\\n\\ndata: 2\\n\\n")
    [b'1', b'2']
    >>> _uniform_payloads(b"data: 1\\ndata: 2\\n\\n") is None  # two data lines: the line loop
    True
    """
    if blocks.startswith(b"data: "):
        # Split at the separators `\n\ndata: `: the blocks are all one `data: ` line exactly
        # when their two line feeds each are all there are (no piece holds another).
        payloads = blocks.split(b"\n\ndata: ")
        if blocks.count(b"\n") != 2 * len(payloads):
            return None
        payloads[0] = payloads[0][6:]
        payloads[-1] = payloads[-1][:-2]
        return payloads
    if not blocks.startswith(b"event: "):
        return None
    # Each block is three lines, the last one empty; the data lines joined split at
    # `\ndata: ` into exactly one piece per block, since no line holds a line feed.
    lines = blocks.split(b"\n")
    lines.pop()  # the empty piece after the last line feed
    count, extra = divmod(len(lines), 3)
    if extra or any(lines[2::3]):
        return None
    payloads = b"\n".join(lines[1::3]).split(b"\ndata: ")
    if len(payloads) != count or not payloads[0].startswith(b"data: "):
        return None
    if b"\n".join(lines[0::3]).count(b"\nevent: ") != count - 1:
        return None
    payloads[0] = payloads[0][6:]
    return payloads


def _too_large(size: int, limit: int) -> SSEError:
    return SSEError(
        f"SSE event too large: its data exceeds max_event_size ({size} > {limit} bytes)"
    )


def _line_too_long(size: int, limit: int) -> SSEError:
    return SSEError(
        f"SSE line too long: {size} bytes without a line terminator, "
        f"over the limit of {limit} bytes (max_event_size)"
    )
