"""Sans-IO Responses API accumulator: wire events in, helper events and a ``Response`` out.

No I/O, no asyncio, no Rx: feed it decoded events (from SSE, a WebSocket or a list) and it
returns, for each, the helper events it causes::

    >>> from oxide_rx.types.responses import decode_event
    >>> acc = ResponseAccumulator()
    >>> out = acc.handle_event(decode_event(
    ...     b'{"type":"response.output_text.delta","item_id":"msg_1","output_index":0,'
    ...     b'"content_index":0,"delta":"Hi","sequence_number":3}'))
    >>> out, acc.current_content()
    ([ContentDelta(delta='Hi', snapshot='Hi', choice=0, output_index=0)], 'Hi')

Rules worth knowing:

* **De-duplication only across a resume.** A plain stream never drops an event for its
  ``sequence_number``: a server that numbers every event ``0``, or restarts its numbering,
  loses nothing. Whoever reconnects says so with :meth:`ResponseAccumulator.resume_after`
  (``starting_after``): from then on, events of that response at or below that number are
  replays and ignored (``None``), so reconnecting from any earlier point delivers every
  event once. A lifecycle event of *another* response (a new id) lifts the rule: its
  numbering is its own (:mod:`oxide_rx._core.replays`). Events without a
  ``sequence_number`` are always handled.
* **No ``response.created`` needed.** Resumed streams start later; the snapshot starts from
  whatever lifecycle event comes first, and items seen only through their deltas get a
  placeholder item (empty ids) that ``output_item.done`` replaces. A function call met
  mid-arguments gets its ``ToolCallDone`` at ``output_item.done``, when its ``call_id`` and
  ``name`` are known, instead of at ``function_call_arguments.done``.
* **Server values win.** ``*.done`` events and ``output_item.done`` replace what the deltas
  built; a terminal event's response is taken as is, with ``output`` back-filled from the
  accumulated items when the server left it empty.
* **Failure is data.** An ``error`` event or ``response.failed`` sets :attr:`failure` and
  :attr:`terminal`; its helper events are still returned (the stream delivers them, then
  raises).
  After an ``error`` event the snapshot's ``status`` is ``"failed"`` and its ``error`` holds
  the code and message, so a stream's ``error.partial`` says what happened.
* **Cost.** Each delta appends to a :class:`~oxide_rx._core.text.TextBuffer`; snapshots are built
  when read, so per-event cost does not grow with the output.
* **Structured output.** ``ContentDone.parsed`` (with ``text_format``) and
  ``ToolCallDone.parsed_arguments`` (with ``tool_types``) are validated with
  :func:`oxide_rx._core.parsing.parse_as`; text that does not validate gives ``None``, not an error,
  because a ``*.done`` event cannot tell whether the response is about to end ``incomplete``
  (cut-short JSON is expected then). Without a registered tool type, arguments are decoded as
  JSON (``None`` if they are not JSON).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import msgspec

from oxide_rx import events as ev
from oxide_rx._core.parsing import parse_as
from oxide_rx._core.partial import PartialDocument
from oxide_rx._core.replays import ReplayFilter
from oxide_rx._core.response_completion import completion_events
from oxide_rx._core.response_items import (
    DONE_FIELDS,
    STREAMED_KINDS,
    ItemState,
    PartState,
    call_identity,
)
from oxide_rx._core.response_lifecycle import LifecycleCheck
from oxide_rx._core.structured import with_parsed_content
from oxide_rx._core.text import FOLD, TextBuffer
from oxide_rx._exceptions import DecodeError, ResponseFailedError
from oxide_rx.events import ResponseEvent
from oxide_rx.types import responses as rt

__all__ = ["ResponseAccumulator"]

_Out = list[ResponseEvent]
_Handler = Callable[["ResponseAccumulator", Any, _Out], None]


class ResponseAccumulator:
    """Accumulates one response's stream events into helper events and a ``Response``.

    ``text_format``: a type to parse the output text into (``ContentDone.parsed``).
    ``tool_types``: function name → argument type (``ToolCallDone.parsed_arguments``).

    >>> from oxide_rx.types.responses import decode_event
    >>> acc = ResponseAccumulator()
    >>> out = acc.handle_event(decode_event(
    ...     b'{"type":"response.function_call_arguments.delta","item_id":"fc_1",'
    ...     b'"output_index":0,"delta":"[1,","sequence_number":5}'))
    >>> out[0].arguments_snapshot, acc.response().output[0].arguments
    ('[1,', '[1,')
    """

    terminal: bool
    """A terminal event was seen (completed / incomplete / failed / done, or ``error``)."""
    failure: ResponseFailedError | None
    """Set by an ``error`` event or ``response.failed`` (``code``, ``message`` from the server)."""
    last_sequence_number: int | None
    """The highest ``sequence_number`` handled so far: where to resume after."""

    def __init__(
        self, *, text_format: type | None = None, tool_types: Mapping[str, type] | None = None,
        lenient_events: bool = False, check_lifecycle: bool = False, read_to_end: bool = False,
    ) -> None:
        self.read_to_end = read_to_end
        """Terminal events (and ``error``) do not end the stream: it ends with the body, as
        the official client reads it (``terminal`` stays false; ``failure`` is still set)."""
        self.lenient_events = lenient_events
        """Events of a known type with bad fields pass as ``UnknownEvent`` instead of failing
        the stream (the chain's decode stage reads this; ``oxide_rx.compat`` sets it)."""
        self.lifecycle = LifecycleCheck() if check_lifecycle else None
        """With ``check_lifecycle``: the official helper's lifecycle rules, checked before each
        event (``RuntimeError`` s; see :mod:`oxide_rx._core.response_lifecycle`)."""
        self.text_format = text_format
        self.tool_types: Mapping[str, type] = tool_types or {}
        self.terminal = False
        self.failure = None
        self.last_sequence_number = None
        self._replays = ReplayFilter()
        self._base: rt.Response | None = None
        self._final: rt.Response | None = None
        self._items: dict[int, ItemState] = {}
        self._snapshot: rt.Response | None = None
        self._arguments: dict[int, PartialDocument] = {}  # by output index
        self._documents: dict[TextBuffer, PartialDocument] = {}  # structured text parts
        if text_format is not None:
            # ContentDelta.parsed: swapped in here so that a stream without a structured
            # format keeps the plain per-event path, with no test per delta.
            self.handle_event = self._handle_structured_event  # type: ignore[method-assign]

    # ------------------------------------------------------------------ public

    def resume_after(self, sequence_number: int | None) -> None:
        """The next events come from a reconnection with ``starting_after=sequence_number``
        (a resumed background stream, or ``retrieve_stream``): until another resume or
        another response, events at or below it are replays of handled ones, dropped.

        >>> from oxide_rx.types.responses import decode_event
        >>> acc = ResponseAccumulator()
        >>> acc.resume_after(4)
        >>> acc.handle_event(decode_event(
        ...     b'{"type":"response.output_text.delta","item_id":"m","output_index":0,'
        ...     b'"content_index":0,"delta":"old","sequence_number":4}')) is None
        True
        """
        self._replays.resume(sequence_number, self.response_id)
        last = self.last_sequence_number
        if sequence_number is not None and (last is None or sequence_number > last):
            self.last_sequence_number = sequence_number

    def handle_event(
        self, event: rt.ResponseStreamEvent | rt.UnknownEvent
    ) -> list[ResponseEvent] | None:
        """Handle one wire event; returns the helper events it causes, or ``None`` when the
        event is a replay after :meth:`resume_after` (drop it)."""
        seq = event.sequence_number
        if seq is not None:
            replays = self._replays
            if replays.after is not None and replays.is_replay(seq, event):
                return None
            last = self.last_sequence_number
            if last is None or seq > last:
                self.last_sequence_number = seq
        if self.lifecycle is not None:
            self.lifecycle.see_event(event)
        self._snapshot = None
        out: _Out = []
        if type(event) is rt.OutputTextDelta:
            # Nearly every event of a stream: handled here, without a dispatch and a call.
            index = event.output_index
            state = self._items.get(index)
            part = None if state is None else state.parts.get(event.content_index)
            if part is None:
                part = self._part(index, event.item_id, event.content_index, rt.Message)
            # TextBuffer.append, inline (see TextBuffer). Positional arguments: msgspec
            # matches keywords by name, which costs more.
            delta = event.delta
            buffer = part.buffer
            pending = buffer.pending
            pending.append(delta)
            length = buffer.length = buffer.length + len(delta)
            if len(pending) >= FOLD:
                buffer.fold()
            out.append(ev._LazyContentDelta(delta, "", 0, index, buffer, length))
            if event.logprobs:  # often an empty list: no LogprobsDelta then
                part.logprobs.extend(event.logprobs)
                out.append(ev.LogprobsDelta(event.logprobs, None, 0, index))
            return out
        handler = _HANDLERS.get(type(event))
        if handler is not None:
            handler(self, event, out)
        return out

    def _handle_structured_event(
        self, event: rt.ResponseStreamEvent | rt.UnknownEvent
    ) -> list[ResponseEvent] | None:
        # The class's handle_event, not the instance's (that is this wrapper): a subclass's
        # override runs too, where naming ResponseAccumulator would skip it.
        out = type(self).handle_event(self, event)
        return None if out is None else with_parsed_content(out, self._documents,
                                                            self.text_format)

    def response(self) -> rt.Response:
        """The response so far (the final one once :attr:`terminal`). Never mutated later."""
        if self._snapshot is None:
            self._snapshot = self._build()
        return self._snapshot

    def output_item(self, output_index: int) -> Any:
        """The item at ``output_index`` as accumulated so far (``None`` if none was seen)."""
        state = self._items.get(output_index)
        return None if state is None else state.build()

    def current_content(self) -> str:
        """All output text so far, across message items, in output order."""
        return self.response().output_text

    def has_output(self) -> bool:
        """Whether any output (text, refusal, reasoning, arguments ...) has arrived."""
        return any(state.has_output() for state in self._items.values())

    @property
    def response_id(self) -> str | None:
        """The response's id, once a lifecycle event has carried it."""
        base = self._final or self._base
        return base.id if base is not None and base.id else None

    def events_to_complete(self, final: rt.Response) -> list[rt.ResponseStreamEvent]:
        """The wire events this stream still misses to end as ``final`` (the response as
        retrieved once it could no longer be streamed): the rest of each text and of each
        call's arguments, the ``*.done`` events, ``output_item.done``, the terminal event.
        Fed back through :meth:`handle_event`, they give the helper events (``ContentDone``,
        ``ToolCallDone``, ``Done`` ...) an uncut stream would have given."""
        after = self.last_sequence_number
        return completion_events(self._items, final, 0 if after is None else after + 1)

    # ------------------------------------------------------------------ lifecycle

    def _on_lifecycle(self, event: Any, out: _Out) -> None:
        self._base = event.response

    def _on_terminal(self, event: Any, out: _Out) -> None:
        response: rt.Response = event.response
        self._base = self._final = response
        self.terminal = not self.read_to_end
        if isinstance(event, rt.ResponseFailed) and self.failure is None:
            error = response.error
            self.failure = ResponseFailedError(
                (error.message if error else None) or "The response failed.",
                body=msgspec.to_builtins(error) if error else None,
                code=error.code if error else None,
            )
        if response.usage is not None:
            out.append(ev.Usage(response.usage))
        status = response.status or event.type.removeprefix("response.")
        reason = response.incomplete_details.reason if response.incomplete_details else None
        out.append(ev.Done(status, reason=reason))

    def _on_error(self, event: rt.ErrorEvent, out: _Out) -> None:
        self.terminal = not self.read_to_end
        if self.failure is None:
            self.failure = ResponseFailedError(
                event.effective_message or "The response failed.",
                body=msgspec.to_builtins(event),
                code=event.effective_code,
                type=event.error.type if event.error else None,
                param=event.effective_param,
            )
        # The stream ends here (a ``response.failed`` that may follow is not waited for), so
        # the snapshot says "failed" itself; a later ``response.failed`` replaces it.
        base = self._base or rt.Response(status="in_progress")
        error = rt.ResponseError(code=self.failure.code, message=self.failure.message)
        self._base = msgspec.structs.replace(base, status="failed", error=error)

    # ------------------------------------------------------------------ items

    def _item(self, index: int, item_id: str | None, kind: type) -> ItemState:
        state = self._items.get(index)
        if state is None:  # resumed mid-item: a placeholder until output_item.done
            state = self._items[index] = ItemState(ItemState.placeholder(kind, item_id))
        return state

    def _on_item_added(self, event: rt.OutputItemAdded, out: _Out) -> None:
        self._items[event.output_index] = ItemState(event.item)

    def _on_item_done(self, event: rt.OutputItemDone, out: _Out) -> None:
        state = self._items.get(event.output_index)
        if state is None:
            state = self._items[event.output_index] = ItemState(event.item)
        for index in sorted(state.parts):
            self._close_part(state.parts[index], event.output_index, out)
        for index in sorted(state.summaries):
            self._close_part(state.summaries[index], event.output_index, out)
        item = event.item
        if isinstance(item, rt.FunctionCall) and not state.tool_done:
            state.item = item
            self._tool_done(state, event.output_index, item.arguments, out)
        state.finish(item)

    def _on_part_added(self, event: rt.ContentPartAdded, out: _Out) -> None:
        kind = rt.Reasoning if isinstance(event.part, rt.ReasoningTextPart) else rt.Message
        state = self._item(event.output_index, event.item_id, kind)
        state.parts[event.content_index] = PartState(event.part)

    def _on_part_done(self, event: rt.ContentPartDone, out: _Out) -> None:
        kind = rt.Reasoning if isinstance(event.part, rt.ReasoningTextPart) else rt.Message
        part = self._part(event.output_index, event.item_id, event.content_index, kind)
        self._close_part(part, event.output_index, out)
        part.finish(event.part)

    def _part(self, index: int, item_id: str, content_index: int, kind: type,
              part_type: type = rt.OutputTextPart) -> PartState:
        state = self._items.get(index)
        parts = (state or self._item(index, item_id, kind)).parts
        part = parts.get(content_index)
        if part is None:
            part = parts[content_index] = PartState(PartState.placeholder(part_type))
        return part

    # ------------------------------------------------------------------ text parts

    def _on_refusal_delta(self, event: rt.RefusalDelta, out: _Out) -> None:
        index = event.output_index
        part = self._part(index, event.item_id, event.content_index, rt.Message, rt.RefusalPart)
        length = part.append(event.delta)
        out.append(ev._LazyRefusalDelta(event.delta, "", 0, index, part.buffer, length))

    def _on_reasoning_text_delta(self, event: rt.ReasoningTextDelta, out: _Out) -> None:
        index = event.output_index
        part = self._part(index, event.item_id, event.content_index, rt.Reasoning,
                          rt.ReasoningTextPart)
        length = part.append(event.delta)
        out.append(ev._LazyReasoningDelta(event.delta, "", 0, index, part.buffer, length))

    def _on_text_done(self, event: Any, out: _Out) -> None:
        kind: type
        part_type: type
        if isinstance(event, rt.ReasoningTextDone):
            kind, part_type, text = rt.Reasoning, rt.ReasoningTextPart, event.text
        elif isinstance(event, rt.RefusalDone):
            kind, part_type, text = rt.Message, rt.RefusalPart, event.refusal
        else:
            kind, part_type, text = rt.Message, rt.OutputTextPart, event.text
        part = self._part(event.output_index, event.item_id, event.content_index, kind, part_type)
        part.set_text(text)
        if isinstance(event, rt.OutputTextDone) and event.logprobs is not None:
            part.logprobs = list(event.logprobs)
        self._close_part(part, event.output_index, out)

    def _on_annotation(self, event: rt.OutputTextAnnotationAdded, out: _Out) -> None:
        part = self._part(event.output_index, event.item_id, event.content_index, rt.Message)
        annotations = part.annotations
        if event.annotation_index < len(annotations):
            annotations[event.annotation_index] = event.annotation
        else:
            annotations.append(event.annotation)

    def _on_summary_part_added(self, event: rt.ReasoningSummaryPartAdded,
                               out: _Out) -> None:
        state = self._item(event.output_index, event.item_id, rt.Reasoning)
        state.summaries[event.summary_index] = PartState(event.part)

    def _on_summary_part_done(self, event: rt.ReasoningSummaryPartDone,
                              out: _Out) -> None:
        part = self._summary(event.output_index, event.item_id, event.summary_index)
        self._close_part(part, event.output_index, out)
        part.finish(event.part)

    def _summary(self, index: int, item_id: str, summary_index: int) -> PartState:
        summaries = self._item(index, item_id, rt.Reasoning).summaries
        part = summaries.get(summary_index)
        if part is None:
            part = summaries[summary_index] = PartState(PartState.placeholder(rt.SummaryTextPart))
        return part

    def _on_summary_delta(self, event: rt.ReasoningSummaryTextDelta, out: _Out) -> None:
        part = self._summary(event.output_index, event.item_id, event.summary_index)
        length = part.append(event.delta)
        out.append(ev._LazyReasoningDelta(event.delta, "", 0, event.output_index, part.buffer,
                                           length))

    def _on_summary_done(self, event: rt.ReasoningSummaryTextDone, out: _Out) -> None:
        part = self._summary(event.output_index, event.item_id, event.summary_index)
        part.set_text(event.text)
        self._close_part(part, event.output_index, out)

    def _close_part(self, part: PartState, index: int, out: _Out) -> None:
        """Emit the part's *Done* helper event, once."""
        if part.closed:
            return
        part.closed = True
        text = part.text()
        if part.kind is rt.OutputTextPart:
            parsed = None if self.text_format is None else _parse(self.text_format, text)
            out.append(ev.ContentDone(text, parsed=parsed, output_index=index))
        elif part.kind is rt.RefusalPart:
            out.append(ev.RefusalDone(text, output_index=index))
        elif part.kind is rt.SummaryTextPart or part.kind is rt.ReasoningTextPart:
            out.append(ev.ReasoningDone(text, output_index=index))

    # ------------------------------------------------------------------ tool calls

    def _on_arguments_delta(self, event: rt.FunctionCallArgumentsDelta,
                            out: _Out) -> None:
        state = self._item(event.output_index, event.item_id, rt.FunctionCall)
        buffer = state.stream_buffer()
        buffer.append(event.delta)
        call_id, name = call_identity(state.item)
        document = self._arguments.get(event.output_index)
        if document is None:
            document = self._arguments[event.output_index] = PartialDocument()
        if event.delta:
            document.append(event.delta)  # parsed when parsed_arguments is read
        if self.tool_types:  # typed partial arguments for a tool with a registered type
            document.target = self.tool_types.get(name)
        out.append(ev._LazyToolCallDelta(
            event.output_index, call_id, name, event.delta, "", 0, event.output_index,
            buffer, len(buffer), document,
        ))

    def _on_arguments_done(self, event: rt.FunctionCallArgumentsDone, out: _Out) -> None:
        state = self._item(event.output_index, event.item_id, rt.FunctionCall)
        state.set_stream_text(event.arguments)
        # A stream resumed mid-call has only a placeholder item (no call_id): ToolCallDone
        # then waits for ``output_item.done``, which brings the real item.
        if not state.tool_done and call_identity(state.item)[0]:
            self._tool_done(state, event.output_index, event.arguments, out, event.name)

    def _tool_done(self, state: ItemState, index: int, arguments: str, out: _Out,
                   fallback_name: str | None = None) -> None:
        state.tool_done = True
        call_id, name = call_identity(state.item)
        name = name or fallback_name or ""
        target = self.tool_types.get(name)
        parsed = _parse(target, arguments) if target is not None else _json_or_none(arguments)
        out.append(ev.ToolCallDone(index=index, call_id=call_id, name=name, arguments=arguments,
                                   parsed_arguments=parsed, output_index=index))

    def _on_stream_delta(self, event: Any, out: _Out) -> None:
        kind = STREAMED_KINDS[type(event)]
        self._item(event.output_index, event.item_id, kind).stream_buffer().append(event.delta)

    def _on_stream_done(self, event: Any, out: _Out) -> None:
        kind = STREAMED_KINDS[type(event)]
        text = getattr(event, DONE_FIELDS[type(event)])
        self._item(event.output_index, event.item_id, kind).set_stream_text(text)

    def _on_shell_command(self, event: Any, out: _Out) -> None:
        state = self._item(event.output_index, event.item_id, rt.ShellCall)
        if isinstance(event, rt.ShellCallCommandDelta):
            state.command(event.command_index).append(event.delta)
        else:
            state.set_command(event.command_index, event.command)

    def _on_shell_output(self, event: Any, out: _Out) -> None:
        state = self._item(event.output_index, event.item_id, rt.ShellCallOutput)
        if isinstance(event, rt.ShellCallOutputContentDelta):
            state.append_output(event.command_index, event.delta)
        else:
            state.outputs[event.command_index] = list(event.output)

    # ------------------------------------------------------------------ snapshot

    def _build(self) -> rt.Response:
        final = self._final
        if final is not None and final.output:
            return final
        base = final or self._base or rt.Response(status="in_progress")
        output: list[Any] = list(base.output)
        for index in sorted(self._items):
            item = self._items[index].build()
            if index < len(output):
                output[index] = item
            else:
                output.append(item)
        return msgspec.structs.replace(base, output=output)


_HANDLERS: dict[type, _Handler] = {
    rt.ResponseCreated: ResponseAccumulator._on_lifecycle,
    rt.ResponseQueued: ResponseAccumulator._on_lifecycle,
    rt.ResponseInProgress: ResponseAccumulator._on_lifecycle,
    rt.ResponseCompleted: ResponseAccumulator._on_terminal,
    rt.ResponseIncomplete: ResponseAccumulator._on_terminal,
    rt.ResponseFailed: ResponseAccumulator._on_terminal,
    rt.ResponseDone: ResponseAccumulator._on_terminal,
    rt.ErrorEvent: ResponseAccumulator._on_error,
    rt.OutputItemAdded: ResponseAccumulator._on_item_added,
    rt.OutputItemDone: ResponseAccumulator._on_item_done,
    rt.ContentPartAdded: ResponseAccumulator._on_part_added,
    rt.ContentPartDone: ResponseAccumulator._on_part_done,
    rt.OutputTextDone: ResponseAccumulator._on_text_done,
    rt.OutputTextAnnotationAdded: ResponseAccumulator._on_annotation,
    rt.RefusalDelta: ResponseAccumulator._on_refusal_delta,
    rt.RefusalDone: ResponseAccumulator._on_text_done,
    rt.ReasoningTextDelta: ResponseAccumulator._on_reasoning_text_delta,
    rt.ReasoningTextDone: ResponseAccumulator._on_text_done,
    rt.ReasoningSummaryPartAdded: ResponseAccumulator._on_summary_part_added,
    rt.ReasoningSummaryPartDone: ResponseAccumulator._on_summary_part_done,
    rt.ReasoningSummaryTextDelta: ResponseAccumulator._on_summary_delta,
    rt.ReasoningSummaryTextDone: ResponseAccumulator._on_summary_done,
    rt.FunctionCallArgumentsDelta: ResponseAccumulator._on_arguments_delta,
    rt.FunctionCallArgumentsDone: ResponseAccumulator._on_arguments_done,
    rt.CodeInterpreterCallCodeDelta: ResponseAccumulator._on_stream_delta,
    rt.CustomToolCallInputDelta: ResponseAccumulator._on_stream_delta,
    rt.McpCallArgumentsDelta: ResponseAccumulator._on_stream_delta,
    rt.ApplyPatchCallOperationDiffDelta: ResponseAccumulator._on_stream_delta,
    rt.CodeInterpreterCallCodeDone: ResponseAccumulator._on_stream_done,
    rt.CustomToolCallInputDone: ResponseAccumulator._on_stream_done,
    rt.McpCallArgumentsDone: ResponseAccumulator._on_stream_done,
    rt.ApplyPatchCallOperationDiffDone: ResponseAccumulator._on_stream_done,
    rt.ShellCallCommandAdded: ResponseAccumulator._on_shell_command,
    rt.ShellCallCommandDelta: ResponseAccumulator._on_shell_command,
    rt.ShellCallCommandDone: ResponseAccumulator._on_shell_command,
    rt.ShellCallOutputContentDelta: ResponseAccumulator._on_shell_output,
    rt.ShellCallOutputContentDone: ResponseAccumulator._on_shell_output,
}


def _json_or_none(text: str) -> Any:
    try:
        return msgspec.json.decode(text)
    except msgspec.DecodeError:
        return None


def _parse(target: type, text: str) -> Any:
    """``text`` validated into ``target``, or ``None`` when it does not validate."""
    try:
        return parse_as(target, text)
    except DecodeError:
        return None
