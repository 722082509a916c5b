"""Rx operators and sources for LLM streams (also available as ``oxide_rx.ops``).

The client builds its streams from these same pieces, so any byte source (a recorded file, a
WebSocket, a test list) can go through the same pipeline::

    import oxide_rx as ox

    events = ox.from_aiohttp(response).pipe(
        ox.ops.parse_sse(),
        ox.ops.decode(ox.types.chat.ChatCompletionChunk),
        ox.ops.accumulate_chat(),
    )
    events.pipe(ox.ops.of_type(ox.ContentDelta)).subscribe(lambda e: print(e.delta, end=""))

Every operator runs synchronously on the thread that pushes into it (the event loop's, for
the sources here); time-based ones take an asyncio scheduler, never reactivex's thread timer.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, overload

from reactivex import Observable, abc

from ._core.chat import ChatCompletionAccumulator
from ._core.items import ItemExtractor
from ._core.partial_json import JSONValue
from ._core.responses import ResponseAccumulator
from ._pipeline.chains import DONE_MARKER
from ._pipeline.pacing import sample_ui_impl
from ._pipeline.select import of_type_impl
from ._pipeline.sink import Sink, as_operator
from ._pipeline.smooth import DEFAULT_MAX_LATENCY, Chunking, smooth_impl
from ._pipeline.stages import (
    ChatAccumulateStage,
    ParseSSEStage,
    PayloadStage,
    ResponsesAccumulateStage,
    decode_stage,
)
from ._stream.items import ItemsStage
from ._stream.sources import from_aiohttp, from_async_iterable
from .events import ChatEvent, ResponseEvent
from .sse import DEFAULT_MAX_EVENT_SIZE, ServerSentEvent
from .types.chat import ChatCompletionChunk
from .types.responses import ResponseStreamEvent, UnknownEvent

__all__ = [
    "accumulate_chat",
    "accumulate_responses",
    "decode",
    "from_aiohttp",
    "from_async_iterable",
    "items",
    "of_type",
    "parse_sse",
    "sample_ui",
    "smooth",
]

_T = TypeVar("_T")
_A = TypeVar("_A")
_B = TypeVar("_B")
_C = TypeVar("_C")


def parse_sse(
    max_event_size: int | None = DEFAULT_MAX_EVENT_SIZE,
) -> Callable[[Observable[bytes]], Observable[ServerSentEvent]]:
    """Split network reads into server-sent events (WHATWG rules, any chunking).

    ::

        bytes:  --b"data: {..}\\n"--b"\\ndata: [DO"--b"NE]\\n\\n"--|
        events: ----------------------SSE({..})----------SSE([DONE])--|

    An event larger than ``max_event_size`` fails the stream with :class:`~oxide_rx.SSEError`
    (after the events completed before it).
    """

    def make(downstream: Sink[ServerSentEvent], stop: Callable[[], None]) -> Sink[bytes]:
        return ParseSSEStage(max_event_size, downstream)

    return as_operator(make)


def decode(
    target: type[_T] | Any, *, terminator: str | None = DONE_MARKER
) -> Callable[[Observable[ServerSentEvent | str | bytes]], Observable[_T]]:
    """Decode each event's data (or each payload) into ``target`` with one reusable msgspec
    decoder; the wire object's ``raw`` is set to the payload.

    ::

        events: --SSE({"id":..})--SSE({"id":..})--SSE([DONE])--...
        chunks: --Chunk-----------Chunk-----------|

    Completes at ``terminator`` (``"[DONE]"`` for Chat Completions; pass ``None`` for the
    Responses API, whose streams end with a terminal event). A body that ends without the
    terminator fails with :class:`~oxide_rx.StreamTruncatedError`; invalid JSON with
    :class:`~oxide_rx.DecodeError`; a Chat Completions ``{"error": {...}}`` payload with
    :class:`~oxide_rx.ResponseFailedError` (an :class:`~oxide_rx.APIError`).
    ``decode(oxide_rx.types.responses.ResponseStreamEvent)`` decodes unknown event types to
    ``UnknownEvent`` instead of failing.
    """

    def make(downstream: Sink[_T], stop: Callable[[], None]) -> Sink[ServerSentEvent | str | bytes]:
        return PayloadStage(decode_stage(target, terminator, downstream, stop))

    return as_operator(make)


def accumulate_chat(
    accumulator: ChatCompletionAccumulator | None = None,
) -> Callable[[Observable[ChatCompletionChunk]], Observable[ChatEvent]]:
    """Turn Chat Completions chunks into helper events, keeping snapshots.

    ::

        chunks: --c1(role)------c2("Hi")-----------c3(finish)----------|
        events: --Chunk---------Chunk,ContentDelta--Chunk,ContentDone,Done--|

    Pass your own :class:`ChatCompletionAccumulator` to read ``completion()`` afterwards.
    """

    def make(downstream: Sink[ChatEvent], stop: Callable[[], None]) -> Sink[ChatCompletionChunk]:
        state = accumulator if accumulator is not None else ChatCompletionAccumulator()
        return ChatAccumulateStage(state, downstream)

    return as_operator(make)


def accumulate_responses(
    accumulator: ResponseAccumulator | None = None,
) -> Callable[[Observable[ResponseStreamEvent | UnknownEvent]], Observable[ResponseEvent]]:
    """Turn Responses API events into themselves plus helper events, keeping the snapshot.

    ::

        wire:   --output_text.delta("Hi")------------response.completed------|
        events: --OutputTextDelta,ContentDelta-------ResponseCompleted,Usage,Done--|
    """

    def make(
        downstream: Sink[ResponseEvent], stop: Callable[[], None]
    ) -> Sink[ResponseStreamEvent | UnknownEvent]:
        state = accumulator if accumulator is not None else ResponseAccumulator()
        return ResponsesAccumulateStage(state, downstream, stop)

    return as_operator(make)


@overload
def items(
    path: str, item_type: None = None, *, tool: str | None = None, choice: int = 0
) -> Callable[[Observable[Any]], Observable[JSONValue]]: ...
@overload
def items(
    path: str, item_type: type[_T], *, tool: str | None = None, choice: int = 0
) -> Callable[[Observable[Any]], Observable[_T]]: ...
def items(
    path: str, item_type: type[Any] | None = None, *, tool: str | None = None, choice: int = 0
) -> Callable[[Observable[Any]], Observable[Any]]:
    """Each element of the array at ``path`` in streamed JSON, as ``item_type``, the moment
    it closes: from the structured answer (``ContentDelta`` s of ``choice``), or with
    ``tool``, from the arguments of every call to that tool.

    ::

        text:   --'{"cities": [{"name": "Os'--'lo"}, {"na'--'me": "Lima"}]}'--|
        items:  ----------------------------City("Oslo")-------City("Lima")-----|

    ``path``: keys joined by ``.`` ending in ``[*]`` (``"cities[*]"``; ``"[*]"`` for a root
    array; ``"rows[*].tags[*]"``). ``item_type``: a msgspec Struct, pydantic model, dataclass
    ... (``None``: plain JSON values). Subscribe before the stream starts: the parse needs
    every delta. Invalid JSON or an element that does not validate ends the item stream
    with :class:`~oxide_rx.DecodeError` (``error.partial``: the elements before it); the
    stream itself goes on.

    >>> stream.events.pipe(ox.ops.items("cities[*]", City)).subscribe(print)  # doctest: +SKIP
    """
    ItemExtractor(path)  # a bad path fails here, not at the first event

    def make(downstream: Sink[Any], stop: Callable[[], None]) -> Sink[Any]:
        # One extractor (its parsers) per subscription.
        return ItemsStage(ItemExtractor(path, item_type, tool=tool, choice=choice),
                          downstream, stop)

    return as_operator(make)


@overload
def of_type(cls: type[_A], /) -> Callable[[Observable[Any]], Observable[_A]]: ...
@overload
def of_type(
    cls: type[_A], cls2: type[_B], /
) -> Callable[[Observable[Any]], Observable[_A | _B]]: ...
@overload
def of_type(
    cls: type[_A], cls2: type[_B], cls3: type[_C], /
) -> Callable[[Observable[Any]], Observable[_A | _B | _C]]: ...
@overload
def of_type(*classes: type[Any]) -> Callable[[Observable[Any]], Observable[Any]]: ...
def of_type(*classes: type[Any]) -> Callable[[Observable[Any]], Observable[Any]]:
    """Keep only events of the given classes, typed as their union.

    ::

        events: --Chunk--ContentDelta--ToolCallDone--Done--|
        of_type(ToolCallDone):  ----------ToolCallDone--------|

    >>> stream.events.pipe(ox.ops.of_type(ox.ToolCallDone)).subscribe(run_tool)  # doctest: +SKIP

    Right on a stream's ``events`` it subscribes by class, as ``stream.on`` does: the
    stream's other events cost this subscriber nothing.
    """
    return of_type_impl(classes)


def sample_ui(
    interval: float, scheduler: abc.SchedulerBase | None = None
) -> Callable[[Observable[_T]], Observable[_T]]:
    """Pace updates for a UI: the first item at once, then the latest at most every
    ``interval`` seconds, and always the final item as soon as the source completes.

    ::

        source:    --a-b-c-d-----e-f|
        sample_ui: --a---c---d---e--f|     (interval = 4 dashes)

    Unlike ``debounce`` it updates during a steady token stream, and unlike ``throttle_first``
    it never drops the final snapshot. Timers run on the asyncio loop
    (``AsyncIOScheduler``) unless another scheduler is given.
    """
    return sample_ui_impl(interval, scheduler)


def smooth(
    chunking: Chunking = "word",
    *,
    max_latency: float = DEFAULT_MAX_LATENCY,
    scheduler: abc.SchedulerBase | None = None,
) -> Callable[[Observable[_T]], Observable[_T]]:
    """Re-chunk answer text into words (or lines, or pattern matches) and pace them evenly.

    ::

        deltas:  --"The qu"--"ick brown fox ju"-----------"mps."--|
        smooth:  --"The "----"quick "-"brown "-"fox "------"jumps."|

    ``ContentDelta`` text is cut into pieces: ``"word"`` (a word and its trailing spaces; in
    scripts written without spaces — Han, Kana, Hangul, Thai... — one character), ``"line"``,
    or a regular expression (a piece ends where a match ends). Each emitted ``ContentDelta``
    is a correct event: ``delta`` is the piece, ``snapshot`` the text up to and including it,
    ``choice`` / ``output_index`` as in the source.

    Pacing is **adaptive**: pieces go out at the pace the text arrives (measured over the
    recent deltas), so a burst reads evenly, and a piece that is complete when the previous
    one has been "read" goes out at once, so a fast stream is not slowed. No text is held
    more than ``max_latency`` seconds after it arrived (an unfinished word included).
    Completion or an error flushes what is pending at once.

    Other events keep their order relative to the text: one that arrives while text is
    pending goes out right after the piece that completes that text; with nothing pending it
    passes through at once. Timers run on the asyncio loop unless ``scheduler`` is given
    (a ``reactivex.testing.TestScheduler`` in tests).

    >>> stream.events.pipe(  # doctest: +SKIP
    ...     ox.ops.of_type(ox.ContentDelta), ox.ops.smooth(), ox.ops.sample_ui(0.05),
    ... ).subscribe(lambda e: view.update(e.snapshot))
    """
    return smooth_impl(chunking, max_latency=max_latency, scheduler=scheduler)
