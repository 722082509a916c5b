"""A stream's lifetime: one request, started once, read by one pump, ended once.

The contract (DESIGN.md, "Lifetime of a stream"):

- A stream is **hot and single-use**. Nothing is read until it is started by ``async for``,
  ``final_completion()`` / ``final_response()``, ``until_done()`` or ``start()``. Subscribe
  first, then start: a subscriber attached before the start sees every event; one attached
  later sees later events (snapshots stay readable on the stream); one attached after the
  end gets the end (``on_completed`` or ``on_error``) at once. Subscribing never re-sends.
- ``aclose()`` (or leaving ``async with stream``) aborts the request and closes its
  connection; so does cancelling a task that consumes the stream, and so does the last
  subscriber disposing while the stream runs. No task, socket or subscription outlives it.
- Everything runs on the event loop's thread: the pump task reads the feed, and each read's
  payloads go through decode -> accumulate -> fan-out synchronously, with no ``await`` per
  event. Subscribers are called there too (the error policy is in :mod:`.fanout`).
- An error that ends the stream carries the snapshot so far (``error.partial``).
- A stream whose next event is overdue ends with :class:`~oxide_rx.APITimeoutError`: until
  its first output the ``first_event`` deadline applies (if set), then the ``idle`` gap
  (:mod:`oxide_rx._transport.watchdog` has the policy).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any, Protocol, TypeVar, cast, overload

from .._core.items import ItemExtractor
from .._core.metrics import StreamMetrics
from .._core.partial_json import JSONValue
from .._exceptions import APIConnectionError, APITimeoutError, OxideRxError, StreamTruncatedError
from .._pipeline.chains import Chain
from .._pipeline.sink import Sink
from .._transport.feed import Feed
from .._transport.watchdog import IdleWatchdog
from . import text
from .hot import CLOSE_GRACE_SECONDS, HotSource
from .items import iter_items
from .pump import close_quietly, push_batches

__all__ = ["CLOSE_GRACE_SECONDS", "StreamHandle"]

_E = TypeVar("_E")
_On = TypeVar("_On")
_Item = TypeVar("_Item")


class _Hub:
    """The sink at the end of the stream's chain: bound methods, no extra call per event."""

    __slots__ = ("on_completed", "on_error", "on_next")

    def __init__(
        self,
        on_next: Callable[[Any], None],
        on_error: Callable[[Exception], None],
        on_completed: Callable[[], None],
    ) -> None:
        self.on_next = on_next
        self.on_error = on_error
        self.on_completed = on_completed


class Accumulator(Protocol):
    """What the lifetime asks of a stream's sans-IO accumulator."""

    def has_output(self) -> bool:
        """Whether any output (text, refusal, reasoning, tool arguments) has arrived."""
        ...


class StreamHandle(HotSource[_E]):
    """A hot, single-use stream of typed events over one request.

    Use :class:`~oxide_rx.ChatStream` or :class:`~oxide_rx.ResponseStream` (from the client);
    this base holds the lifetime shared by both. Subclasses say how their chain is built
    (:meth:`_chain_into`), which event types are wire events (:attr:`_wire_types`) and what
    an error's partial snapshot is (:meth:`_partial`).
    """

    _wire_types: tuple[type[Any], ...] = ()

    def __init__(
        self,
        feed: Feed,
        accumulator: Accumulator,
        *,
        idle_timeout: float | None,
        started_at: float | None = None,
        first_event_timeout: float | None = None,
    ) -> None:
        self._feed = feed
        self.accumulator = accumulator
        """The sans-IO state the stream's events come from (snapshots live here)."""
        self._idle_timeout = idle_timeout
        self._first_event_timeout = first_event_timeout
        super().__init__()
        loop = asyncio.get_running_loop()
        self._clock = loop.time
        self.metrics = StreamMetrics()
        """Time to first token, output rate, stalls and total time, live (read it any time);
        frozen into a :class:`~oxide_rx.Metrics` event at the end. Recorded once per network
        read, on the loop's clock, from ``started_at`` (when the request was sent)."""
        self.metrics.start(loop.time() if started_at is None else started_at)
        self._watchdog: IdleWatchdog | None = None
        self._read: tuple[float, int] | None = None  # the read going through the chain
        self.headers: Mapping[str, str] = feed.headers
        """The response headers (case-insensitive for HTTP; not copied)."""
        self._chain: Chain | None = None

    # -- public surface -------------------------------------------------------------------

    @property
    def request_id(self) -> str | None:
        """The server's ``x-request-id`` for this request."""
        return self.headers.get("x-request-id")

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        """The event loop the stream belongs to (where it was opened; read it there)."""
        return self._done.get_loop()

    @property
    def started(self) -> bool:
        return self._task is not None

    @property
    def error(self) -> Exception | None:
        """What ended the stream, if it did not complete normally."""
        return self._error

    def start(self) -> None:
        """Begin reading (idempotent). Subscribe before this to see every event."""
        if self._task is not None or self._done.done():
            return
        self._chain = chain = self._chain_into(_Hub(self._fanout.emit, self._fail, self._complete))
        chain.accumulate.wire = self._fanout.wants(self._wire_types)
        self._task = asyncio.get_running_loop().create_task(self._pump(chain.ingress))

    async def aclose(self) -> None:
        """Abort: close the connection, end every subscriber, wait for the pump to exit."""
        await self._cancel_task()
        self._feed.abort()
        if not self._done.done():
            self._end(self._closed_error(), quiet=True)


    def iter_text(self, choice: int = 0) -> AsyncIterator[str]:
        """The answer's text as it arrives, pulled at the consumer's pace: whatever arrived
        while the consumer was busy comes as one item. Joined, the items are the whole text.
        Starts the stream; leaving the loop early stops listening (which aborts the request
        if nobody else listens); raises what ended the stream, after the text before it.

        >>> async for text in stream.iter_text():  # doctest: +SKIP
        ...     print(text, end="", flush=True)
        """
        return text.iter_text(self._attach, self.start, choice)

    def iter_snapshots(self, choice: int = 0) -> AsyncIterator[str]:
        """The text so far, each time the consumer asks and new text arrived; the final text
        last (what Gradio, Panel and NiceGUI generators yield; a slow consumer skips the
        intermediate texts).

        >>> async for text in stream.iter_snapshots():  # doctest: +SKIP
        ...     yield text
        """
        return text.iter_snapshots(self._attach, self.start, choice)

    @overload
    def items(
        self, path: str, item_type: None = None, *, tool: str | None = None, choice: int = 0
    ) -> AsyncIterator[JSONValue]: ...
    @overload
    def items(
        self, path: str, item_type: type[_Item], *, tool: str | None = None, choice: int = 0
    ) -> AsyncIterator[_Item]: ...
    def items(
        self, path: str, item_type: type[Any] | None = None, *, tool: str | None = None,
        choice: int = 0,
    ) -> AsyncIterator[Any]:
        """Each element of the array at ``path`` (``"cities[*]"``) in the structured answer,
        or with ``tool`` in the arguments of every call to that tool, as ``item_type``, the
        moment it closes (rules: :func:`oxide_rx.ops.items`). Starts the stream; leaving the
        loop early stops listening; invalid JSON or an element that does not validate raises
        :class:`~oxide_rx.DecodeError` after the elements before it.

        >>> async for city in stream.items("cities[*]", City):  # doctest: +SKIP
        ...     print(city.name)
        """
        extract = ItemExtractor(path, item_type, tool=tool, choice=choice)
        return iter_items(self._attach, self.start, extract)

    # -- what subclasses define -----------------------------------------------------------

    def _chain_into(self, sink: Sink[_E]) -> Chain:
        raise NotImplementedError

    def _partial(self) -> Any:
        """The snapshot an error carries."""
        return None

    def _output_started(self) -> bool:
        return self.accumulator.has_output()

    def _output_tokens(self) -> int | None:
        """The output token count the server reported, if it did."""
        return None

    # -- internals ------------------------------------------------------------------------

    def _subscribers_changed(self) -> None:
        chain = self._chain
        if chain is not None:
            # Building a wire event and fanning it out costs ~0.3 µs per event: skip it while
            # nobody can receive one (only on() callbacks for helper event types).
            chain.accumulate.wire = self._fanout.wants(self._wire_types)

    def _fail(self, error: Exception) -> None:
        self._end(error)

    def _complete(self) -> None:
        self._end(None)

    def _on_read(self, events: int) -> None:
        """A network read arrived (before it goes through the chain): the clock is read once
        here. The read is recorded once it went through (:meth:`_record_read`), when the
        accumulator can tell whether it carried output."""
        now = self._clock()
        if self._watchdog is not None:
            self._watchdog.progress(now)
        self._record_read()
        self._read = (now, events)

    def _record_read(self) -> None:
        read, self._read = self._read, None
        if read is not None:
            metrics = self.metrics
            output = not metrics.waiting_for_output or self._output_started()
            metrics.read(read[0], read[1], output=output)

    def _end(self, error: Exception | None, *, quiet: bool = False) -> None:
        if self._done.done():
            return
        metrics = self.metrics
        self._record_read()
        metrics.usage(self._output_tokens())
        metrics.end(self._clock())
        if self._fanout.observers:
            # Metrics is a member of both ChatEvent and ResponseEvent.
            self._fanout.emit(cast(_E, metrics.metrics()))
        super()._end(error, quiet=quiet)

    async def _pump(self, ingress: Sink[bytes]) -> None:
        task = asyncio.current_task()
        assert task is not None
        idle, first = self._idle_timeout, self._first_event_timeout
        watchdog = None
        if idle or first is not None:
            watchdog = IdleWatchdog(idle or None, task, first_event=first,
                                    output_started=self._output_started)
        self._watchdog = watchdog
        batches = aiter(self._feed)
        done = self._done
        try:
            await push_batches(batches, ingress, done.done, self._on_read)
        except asyncio.CancelledError:
            if watchdog is not None and watchdog.fired and not self._closing:
                task.uncancel()
                ingress.on_error(APITimeoutError(
                    f"No output arrived within {first:g} s (first_event timeout)"
                    if watchdog.fired == "first_event" else
                    f"No event arrived for {idle:g} s (idle timeout)"
                ))
            elif not self._closing:
                raise
        except OxideRxError as exc:
            ingress.on_error(exc)
        except Exception as exc:
            ingress.on_error(APIConnectionError(f"The stream broke: {type(exc).__name__}: {exc}"))
        finally:
            if watchdog is not None:
                watchdog.cancel()
            await close_quietly(batches)
            if self._error is None and done.done():
                await self._feed.finish()
            else:
                self._feed.abort()
            if not done.done():
                self._end(self._closed_error(), quiet=True)

    def _closed_error(self) -> StreamTruncatedError:
        error = StreamTruncatedError("The stream was closed before it finished.")
        error.partial = self._partial()
        return error
