"""Sans-IO Chat Completions accumulator: chunks in, helper events and snapshots out.

Feed every decoded :class:`~oxide_rx.types.chat.ChatCompletionChunk` to
:meth:`ChatCompletionAccumulator.handle_chunk`; it returns the events that chunk causes and keeps
enough state to build the :class:`~oxide_rx.types.chat.ChatCompletion` at any time. No I/O,
no event loop: the same class serves the HTTP stream, a WebSocket, a recorded file or a test.

Merging follows the official SDK (``openai.lib.streaming.chat.ChatCompletionStreamState``),
with these deliberate differences:

* ``usage`` is the last *non-null* usage. The SDK overwrites it with every chunk's value, so a
  moderation chunk (``usage: null``) arriving after the usage chunk erases it there.
* Chunks without ``choices`` (audio keep-alives) and Azure prompt-filter chunks
  (``object: ""``) are accepted; the SDK's state crashes on the former.
* Audio: ``data`` and ``transcript`` are concatenated, ``expires_at`` replaced (the SDK sums it).
* A tool call's ``name``/``id``/``type`` repeated on a later fragment is not doubled.
* ``ContentDone`` comes when the choice finishes (or at :meth:`~ChatCompletionAccumulator.finish`),
  not when the first tool-call fragment arrives.
* A choice cut short (``finish_reason`` ``"length"`` or ``"content_filter"``) is not validated
  against ``response_format``: ``ContentDone.parsed`` is ``None`` instead of an error.
* Every tool call's arguments are decoded as JSON for ``ToolCallDone.parsed_arguments``, not
  only strict tools'; the deprecated ``function_call`` also yields ``ToolCallDelta`` /
  ``ToolCallDone`` (``index=0``, ``call_id=""``).
* :meth:`~ChatCompletionAccumulator.finish` closes choices that never got a ``finish_reason``
  (audio streams end that way), so every choice ends with exactly one ``Done``.
* OpenAI-compatible servers that number tool calls differently (vLLM, Ollama, Groq,
  LiteLLM) are merged by two rules: a fragment whose ``id`` differs from the call at its
  ``index`` starts a new call (Ollama sends every call whole at ``index`` 0), and a fragment
  without ``index`` is the next call (or, carrying neither ``id`` nor ``name``, the rest of
  the current one). A new call takes the next free index; the SDK merges such calls into one
  (``{"city":"SF"}{"city":"Tokyo"}``) or fails on the missing index.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import msgspec

from oxide_rx._core.parsing import parse_as
from oxide_rx._core.partial import PartialDocument
from oxide_rx._core.structured import with_parsed_content
from oxide_rx._core.text import FOLD, TextBuffer
from oxide_rx._exceptions import DecodeError
from oxide_rx.events import (
    ChatEvent,
    ContentDone,
    Done,
    LogprobsDelta,
    RefusalDone,
    ToolCallDone,
    Usage,
    _LazyContentDelta,
    _LazyRefusalDelta,
    _LazyToolCallDelta,
)
from oxide_rx.types.chat import (
    ChatCompletion,
    ChatCompletionAudio,
    ChatCompletionChoice,
    ChatCompletionChunk,
    ChatCompletionMessage,
    ChatCompletionMessageToolCall,
    ChatCompletionTokenLogprob,
    Choice,
    ChoiceDeltaAudio,
    ChoiceDeltaToolCall,
    ChoiceLogprobs,
    CompletionUsage,
    Function,
    FunctionCall,
)

__all__ = ["ChatCompletionAccumulator"]

# Finish reasons after which the output is known to be cut short: not validated as structured.
_INCOMPLETE = frozenset({"length", "content_filter"})


class _ToolCall:
    """One tool call being assembled (or the deprecated ``function_call``, as index 0)."""

    __slots__ = (
        "arguments", "call_id", "document", "done", "index", "name", "parsed_arguments", "type",
    )

    def __init__(self, index: int) -> None:
        self.index = index
        self.call_id = ""
        self.type = ""
        self.name = ""
        self.arguments = TextBuffer()
        self.document = PartialDocument()  # the arguments' partial JSON, parsed when read
        self.parsed_arguments: Any = None
        self.done = False

    def merge(self, call_id: str | None, type_: str | None, name: str | None) -> None:
        # Identity arrives once, on the first fragment; a repeat must not be doubled.
        if call_id and not self.call_id:
            self.call_id = call_id
        if type_ and not self.type:
            self.type = type_
        if name and name != self.name:
            # Unlike a repeat, a different piece extends the name, as the official SDK does.
            self.name += name

    def snapshot(self) -> ChatCompletionMessageToolCall:
        return ChatCompletionMessageToolCall(
            id=self.call_id,
            type=self.type or "function",
            function=Function(name=self.name, arguments=self.arguments.text()),
            parsed_arguments=self.parsed_arguments,
        )


class _Audio:
    __slots__ = ("data", "expires_at", "id", "transcript")

    def __init__(self) -> None:
        self.id = ""
        self.data = TextBuffer()
        self.transcript = TextBuffer()
        self.expires_at = 0

    def merge(self, delta: ChoiceDeltaAudio) -> None:
        if delta.id and not self.id:
            self.id = delta.id
        if delta.data:
            self.data.append(delta.data)
        if delta.transcript:
            self.transcript.append(delta.transcript)
        if delta.expires_at is not None:
            self.expires_at = delta.expires_at  # replaced: it is a timestamp, not a count

    def snapshot(self) -> ChatCompletionAudio:
        return ChatCompletionAudio(id=self.id, data=self.data.text(),
                                   expires_at=self.expires_at, transcript=self.transcript.text())


class _ChoiceState:
    __slots__ = (
        "audio", "content", "content_done", "content_filter_results", "current_tool",
        "finish_reason", "finished", "function_call", "index", "logprobs_content",
        "logprobs_refusal", "logprobs_seen", "parsed", "refusal", "refusal_done", "role",
        "tool_calls", "tool_slots",
    )

    def __init__(self, index: int) -> None:
        self.index = index
        self.role: str | None = None
        self.content: TextBuffer | None = None
        self.refusal: TextBuffer | None = None
        self.tool_calls: dict[int, _ToolCall] = {}
        self.tool_slots: dict[int, _ToolCall] = {}  # wire index -> the call it extends now
        self.current_tool: _ToolCall | None = None
        self.function_call: _ToolCall | None = None
        self.audio: _Audio | None = None
        self.logprobs_seen = False
        self.logprobs_content: list[ChatCompletionTokenLogprob] | None = None
        self.logprobs_refusal: list[ChatCompletionTokenLogprob] | None = None
        self.content_filter_results: Any = None
        self.finish_reason: str | None = None
        self.finished = False
        self.parsed: Any = None
        self.content_done = self.refusal_done = False

    def snapshot(self) -> ChatCompletionChoice:
        calls = self.tool_calls
        message = ChatCompletionMessage(
            role=self.role or "assistant",
            content=None if self.content is None else self.content.text(),
            refusal=None if self.refusal is None else self.refusal.text(),
            tool_calls=[calls[i].snapshot() for i in sorted(calls)] if calls else None,
            function_call=None if self.function_call is None else FunctionCall(
                name=self.function_call.name, arguments=self.function_call.arguments.text()),
            audio=None if self.audio is None else self.audio.snapshot(),
            parsed=self.parsed,
        )
        logprobs = None
        if self.logprobs_seen:
            # Copies: the accumulator keeps extending its own lists after this snapshot.
            content, refusal = self.logprobs_content, self.logprobs_refusal
            logprobs = ChoiceLogprobs(content=None if content is None else list(content),
                                      refusal=None if refusal is None else list(refusal))
        return ChatCompletionChoice(index=self.index, message=message,
                                    finish_reason=self.finish_reason, logprobs=logprobs,
                                    content_filter_results=self.content_filter_results)


class ChatCompletionAccumulator:
    """Accumulates streamed chunks into a :class:`ChatCompletion`, emitting helper events.

    ``response_format``: a type (msgspec Struct, pydantic model, ...) to validate each finished
    choice's content into (``ContentDone.parsed`` and ``message.parsed``). ``tool_types`` maps a
    tool name to its argument type for ``ToolCallDone.parsed_arguments``; other tools get their
    arguments as decoded JSON (``None`` when not valid JSON).

    Events for one chunk, in order: per choice ``ContentDelta``,
    ``RefusalDelta``, one ``ToolCallDelta`` per fragment, ``LogprobsDelta``; then that choice's
    done events: ``ToolCallDone`` for a call a later index has followed, and once the choice
    finishes its remaining ``ToolCallDone`` s, ``ContentDone``, ``RefusalDone`` and ``Done``;
    finally ``Usage`` if the chunk carries usage.

    >>> from oxide_rx.types.chat import CHUNK_DECODER
    >>> acc = ChatCompletionAccumulator()
    >>> for data in (b'{"choices":[{"index":0,"delta":{"content":"Hel"}}]}',
    ...              b'{"choices":[{"index":0,"delta":{"content":"lo"},"finish_reason":"stop"}]}'):
    ...     events = acc.handle_chunk(CHUNK_DECODER.decode(data))
    >>> [type(e).__name__ for e in events]
    ['ContentDelta', 'ContentDone', 'Done']
    >>> acc.completion().choices[0].message.content, acc.all_finished
    ('Hello', True)
    """

    def __init__(
        self,
        *,
        response_format: type | None = None,
        tool_types: Mapping[str, type] | None = None,
        content_done_first: bool = False,
        chunks_only: bool = False,
        finish_unfinished: bool = True,
        official_merge: bool = False,
    ) -> None:
        self.response_format = response_format
        self.tool_types: Mapping[str, type] = tool_types or {}
        self.content_done_first = content_done_first
        """A finishing choice emits ``ContentDone`` / ``RefusalDone`` before its last
        ``ToolCallDone`` s (the official ``openai`` helper's order, for ``oxide_rx.compat``)."""
        self.chunks_only = chunks_only
        """Ignore what is not a chunk (``object`` other than ``chat.completion.chunk``: Azure's
        filter events, a chunk without ``object``), as the official helper does."""
        self.finish_unfinished = finish_unfinished
        """:meth:`finish` ends the choices that never got a ``finish_reason`` (off: it does
        not, as the official helper)."""
        self.official_merge = official_merge
        """Tool-call fragments merge by ``index`` alone, their ids and names concatenated, as
        the official helper merges them (off: a new id at an index is a new call, an
        identity is not doubled)."""
        self.usage: CompletionUsage | None = None
        """The last non-null usage seen."""
        self._choices: dict[int, _ChoiceState] = {}
        self._id = ""
        self._created = 0
        self._model = ""
        self._system_fingerprint: str | None = None
        self._service_tier: str | None = None
        self._moderation: Any = None
        self._prompt_filter_results: Any = None
        self._documents: dict[TextBuffer, PartialDocument] = {}
        if response_format is not None:
            # ContentDelta.parsed: swapped in here so that a stream without a structured
            # format keeps the plain per-chunk path, with no test per delta.
            self.handle_chunk = self._handle_structured_chunk  # type: ignore[method-assign]

    # ------------------------------------------------------------------ reading state

    @property
    def all_finished(self) -> bool:
        """At least one choice was seen and every seen choice has a ``finish_reason``."""
        choices = self._choices
        return bool(choices) and all(c.finish_reason is not None for c in choices.values())

    def has_output(self) -> bool:
        """Whether any output (text, refusal, tool calls, audio) has arrived."""
        return any(
            state.content is not None or state.refusal is not None or state.tool_calls
            or state.function_call is not None or state.audio is not None
            for state in self._choices.values()
        )

    def current_content(self, choice: int = 0) -> str:
        """The text of ``choice`` so far (``""`` before any)."""
        state = self._choices.get(choice)
        if state is None or state.content is None:
            return ""
        return state.content.text()

    def completion(self) -> ChatCompletion:
        """A snapshot of everything accumulated so far, choices ordered by index.

        Built on demand (cost proportional to the output so far) and independent of later
        chunks. ``obfuscation`` never appears in it.
        """
        choices = self._choices
        return ChatCompletion(
            id=self._id,
            object="chat.completion",
            created=self._created,
            model=self._model,
            choices=[choices[i].snapshot() for i in sorted(choices)],
            usage=self.usage,
            system_fingerprint=self._system_fingerprint,
            service_tier=self._service_tier,
            moderation=self._moderation,
            prompt_filter_results=self._prompt_filter_results,
        )

    # ------------------------------------------------------------------ feeding

    def handle_chunk(self, chunk: ChatCompletionChunk) -> list[ChatEvent]:
        """Merge one chunk; return the helper events it causes (the pipeline puts the
        ``Chunk`` wire event in front of them when someone wants it)."""
        # This runs once per streamed chunk, so the common chunk (one choice, a text delta)
        # takes a straight path: locals, no helper call, rare fields tested together.
        events: list[ChatEvent] = []
        if self.chunks_only and chunk.object != "chat.completion.chunk":
            return events
        if not self._id and chunk.id:
            self._id = chunk.id
        if created := chunk.created:
            self._created = created
        if model := chunk.model:
            self._model = model
        if (fingerprint := chunk.system_fingerprint) is not None:
            self._system_fingerprint = fingerprint
        if (tier := chunk.service_tier) is not None:
            self._service_tier = tier
        if chunk.moderation is not None or chunk.prompt_filter_results is not None:
            self._merge_filters(chunk)

        states = self._choices
        for choice in chunk.choices:
            state = states.get(choice.index)
            if state is None:
                state = states[choice.index] = _ChoiceState(choice.index)
            delta = choice.delta
            text = delta.content
            if text is not None:
                buffer = state.content
                if buffer is None:
                    buffer = state.content = TextBuffer()
                # TextBuffer.append, inline (see TextBuffer). Positional arguments: msgspec
                # matches keywords by name, which costs more.
                pending = buffer.pending
                pending.append(text)
                length = buffer.length = buffer.length + len(text)
                if len(pending) >= FOLD:
                    buffer.fold()
                events.append(_LazyContentDelta(text, "", state.index, None, buffer, length))
            if (
                delta.role is not None
                or delta.refusal is not None
                or delta.tool_calls
                or delta.function_call is not None
                or delta.audio is not None
                or choice.logprobs is not None
                or choice.content_filter_results is not None
                or choice.finish_reason is not None
            ):
                self._apply_choice(state, choice, events)

        usage = chunk.usage
        if usage is not None:
            self.usage = usage
            events.append(Usage(usage))
        return events

    def _handle_structured_chunk(self, chunk: ChatCompletionChunk) -> list[ChatEvent]:
        # The class's handle_chunk, not the instance's (that is this wrapper): a subclass's
        # override runs too, where naming ChatCompletionAccumulator would skip it.
        events = type(self).handle_chunk(self, chunk)
        return with_parsed_content(events, self._documents, self.response_format)

    def _merge_filters(self, chunk: ChatCompletionChunk) -> None:
        if chunk.moderation is not None:
            self._moderation = chunk.moderation
        if chunk.prompt_filter_results is not None:
            self._prompt_filter_results = chunk.prompt_filter_results

    def finish(self) -> list[ChatEvent]:
        """Call at the end of the stream (``[DONE]``): the done events of every choice that
        never got a ``finish_reason`` (an audio stream ends that way), with
        ``Done.finish_reason=None``. Returns ``[]`` when every choice had finished."""
        events: list[ChatEvent] = []
        for index in sorted(self._choices) if self.finish_unfinished else ():
            state = self._choices[index]
            if not state.finished:
                self._finish_choice(state, None, events)
        return events

    def _apply_choice(self, state: _ChoiceState, choice: Choice, events: list[ChatEvent]) -> None:
        """Everything of a choice's chunk but its content (handled in :meth:`handle_chunk`)."""
        delta = choice.delta
        index = state.index
        if delta.role is not None and state.role is None:
            state.role = delta.role

        text = delta.refusal
        if text is not None:
            buffer = state.refusal
            if buffer is None:
                buffer = state.refusal = TextBuffer()
            buffer.append(text)
            events.append(_LazyRefusalDelta(text, "", index, None, buffer, len(buffer)))

        superseded = None
        switched = False
        before = state.current_tool
        if delta.tool_calls:
            superseded = self._apply_tool_fragments(state, delta.tool_calls, events)
            switched = state.current_tool is not before or superseded is not None
        if delta.function_call is not None:
            call = state.function_call
            if call is None:
                call = state.function_call = _ToolCall(0)
            fragment = delta.function_call
            call.merge(None, None, fragment.name)
            piece = fragment.arguments or ""
            call.arguments.append(piece)
            self._track_arguments(call, piece)
            events.append(_LazyToolCallDelta(0, "", call.name, piece, "", index, None,
                                             call.arguments, len(call.arguments), call.document))
        if delta.audio is not None:
            if state.audio is None:
                state.audio = _Audio()
            state.audio.merge(delta.audio)
        if choice.logprobs is not None:
            _apply_logprobs(state, choice.logprobs, events)
        if choice.content_filter_results is not None:
            state.content_filter_results = choice.content_filter_results

        if switched and self.content_done_first:
            # The official helper ends the text when the model moves on to a (next) call.
            self._finish_text(state, False, events)
        if superseded is not None:
            for call in superseded:
                self._emit_tool_done(state, call, events, incomplete=False)
        finish_reason = choice.finish_reason
        if finish_reason is not None:
            state.finish_reason = finish_reason
            if not state.finished:
                if self.content_done_first:
                    # The official helper's finish ends only the call that was current
                    # before this chunk; one that starts in the finishing chunk gets no done.
                    for call in state.tool_calls.values():
                        call.done = call.done or call is not before
                self._finish_choice(state, finish_reason, events)

    def _apply_tool_fragments(
        self, state: _ChoiceState, fragments: Iterable[ChoiceDeltaToolCall], events: list[ChatEvent]
    ) -> list[_ToolCall] | None:
        """Merge fragments by index; return the calls a later index has superseded."""
        superseded: list[_ToolCall] | None = None
        for fragment in fragments:
            call = _call_for(state, fragment, self.official_merge)
            function = fragment.function
            piece = ""
            name = None if function is None else function.name
            if self.official_merge:
                call.call_id += fragment.id or ""
                call.type = fragment.type or call.type
                call.name += name or ""
            else:
                call.merge(fragment.id, fragment.type, name)
            if function is not None and function.arguments:
                piece = function.arguments
                call.arguments.append(piece)
            self._track_arguments(call, piece)
            events.append(_LazyToolCallDelta(call.index, call.call_id, call.name, piece, "",
                                             state.index, None, call.arguments,
                                             len(call.arguments), call.document))
            current = state.current_tool
            if current is not None and current is not call and not current.done:
                # The model moved on to the next call: the previous one is complete.
                current.done = True
                superseded = [current] if superseded is None else [*superseded, current]
            state.current_tool = call
        return superseded

    def _track_arguments(self, call: _ToolCall, piece: str) -> None:
        """Hand an arguments piece to the call's partial document (parsed when read)."""
        if piece:
            call.document.append(piece)
        if self.tool_types:  # typed partial arguments for a tool with a registered type
            call.document.target = self.tool_types.get(call.name)

    def _emit_tool_done(
        self, state: _ChoiceState, call: _ToolCall, events: list[ChatEvent], *, incomplete: bool
    ) -> None:
        call.done = True
        arguments = call.arguments.text()
        target = self.tool_types.get(call.name)
        if target is not None:
            try:
                call.parsed_arguments = parse_as(target, arguments)
            except DecodeError:
                if not incomplete:
                    raise
        else:
            try:
                call.parsed_arguments = msgspec.json.decode(arguments)
            except msgspec.DecodeError:
                call.parsed_arguments = None
        events.append(ToolCallDone(index=call.index, call_id=call.call_id, name=call.name,
                                   arguments=arguments, parsed_arguments=call.parsed_arguments,
                                   choice=state.index))

    def _finish_choice(
        self, state: _ChoiceState, finish_reason: str | None, events: list[ChatEvent]
    ) -> None:
        state.finished = True
        incomplete = finish_reason in _INCOMPLETE
        if self.content_done_first:
            self._finish_text(state, incomplete, events)
        calls = state.tool_calls
        for index in sorted(calls):
            if not calls[index].done:
                self._emit_tool_done(state, calls[index], events, incomplete=incomplete)
        if state.function_call is not None and not state.function_call.done:
            self._emit_tool_done(state, state.function_call, events, incomplete=incomplete)
        if not self.content_done_first:
            self._finish_text(state, incomplete, events)
        events.append(Done(finish_reason, choice=state.index))

    def _finish_text(self, state: _ChoiceState, incomplete: bool, events: list[ChatEvent]) -> None:
        if state.content is not None and len(state.content) and not state.content_done:
            state.content_done = True
            content = state.content.text()
            if self.response_format is not None and state.refusal is None and not incomplete:
                state.parsed = parse_as(self.response_format, content)
            events.append(ContentDone(content, parsed=state.parsed, choice=state.index))
        if state.refusal is not None and not state.refusal_done:
            state.refusal_done = True
            events.append(RefusalDone(state.refusal.text(), choice=state.index))


def _call_for(state: _ChoiceState, fragment: ChoiceDeltaToolCall,
              by_index: bool = False) -> _ToolCall:
    """The call a fragment extends, or a new one (the module docstring has the rules)."""
    slot = fragment.index
    if slot is None:
        current = state.current_tool
        function = fragment.function
        if current is not None and not fragment.id and not (function and function.name):
            return current
        return _new_call(state, None)
    call = state.tool_slots.get(slot)
    if call is None or (not by_index and fragment.id and call.call_id
                        and fragment.id != call.call_id):
        return _new_call(state, slot)
    return call


def _new_call(state: _ChoiceState, slot: int | None) -> _ToolCall:
    calls = state.tool_calls
    index = slot if slot is not None and slot not in calls else max(calls, default=-1) + 1
    call = calls[index] = _ToolCall(index)
    if slot is not None:
        state.tool_slots[slot] = call
    return call


def _apply_logprobs(state: _ChoiceState, logprobs: ChoiceLogprobs, events: list[ChatEvent]) -> None:
    content, refusal = logprobs.content, logprobs.refusal
    if not state.logprobs_seen:
        # The first non-null logprobs object sets which lists exist (`[]` vs null matters).
        state.logprobs_seen = True
        state.logprobs_content = None if content is None else list(content)
        state.logprobs_refusal = None if refusal is None else list(refusal)
    else:
        if content:
            if state.logprobs_content is None:
                state.logprobs_content = []
            state.logprobs_content.extend(content)
        if refusal:
            if state.logprobs_refusal is None:
                state.logprobs_refusal = []
            state.logprobs_refusal.extend(refusal)
    if content or refusal:
        events.append(LogprobsDelta(content=content or None, refusal=refusal or None,
                                    choice=state.index))
