"""Chat Completions streams in the official shapes: raw chunks and the ``.stream()`` events.

The state is the core's :class:`~oxide_rx.ChatCompletionAccumulator`; what this module adds is
the official event vocabulary on top of it (``content.delta``, ``tool_calls.function.arguments.
done``, ...), in the official order, and the official parsing rules:

- ``content.done`` fires when the choice finishes or when its first tool call starts;
- a tool call's ``arguments.done`` fires when the next tool call starts or the choice finishes;
- ``parsed`` / ``parsed_arguments`` are partial JSON while streaming (only with a
  ``response_format`` type / for strict tools) and validated once complete;
- ``finish_reason`` ``length`` / ``content_filter`` raise ``LengthFinishReasonError`` /
  ``ContentFilterFinishReasonError`` when something was to be parsed.

Per-event cost does not grow with the output: a chunk that only adds text is queued as
:mod:`._chat_snapshot` items whose chunk and snapshots are built when read. The converter keeps
each choice's text (the pieces the accumulator also appends) in a :class:`~._chat_snapshot.Text`,
whose prefixes the snapshots capture; the accumulator's own buffers are not safe to read from
the synchronous client's thread.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import jiter

from ..events import Chunk
from ..types.chat import ChatCompletionChunk
from ._chat_snapshot import (
    ChoiceText,
    ChunkEventItem,
    ContentDeltaItem,
    RawChunk,
    RefusalDeltaItem,
    Snapshot,
    Text,
    TextPrefix,
)
from ._core import ChatCompletionAccumulator, RawTap, wire_to_builtins
from ._errors import ContentFilterFinishReasonError, LengthFinishReasonError
from ._models import construct
from ._parsing import find_tool, is_parseable_tool, parse_content, parse_tool_arguments

__all__ = ["ChatEventConverter", "ChunkConverter", "parse_chat_completion"]


class ChunkConverter:
    """``create(stream=True)``: one ``ChatCompletionChunk`` per chunk, keys as sent."""

    def __init__(self, tap: RawTap) -> None:
        self.tap = tap

    def on_event(self, event: Any) -> Sequence[Any]:
        if type(event) is Chunk:
            return (RawChunk(self.tap.data),)
        return ()

    def on_end(self, error: BaseException | None) -> tuple[list[Any], BaseException | None]:
        return [], error


_MESSAGE_KEYS = ("content", "refusal", "role", "annotations", "audio", "function_call",
                 "tool_calls")


def _partial_json(text: str) -> Any:
    return jiter.from_json(text.encode(), partial_mode=True)


class _ChoiceState:
    """Which done events one choice has had (the official ``ChoiceEventState``), and its
    text so far: the same pieces the accumulator appends, kept here so a snapshot can capture
    a prefix of them."""

    def __init__(self) -> None:
        self.content_done = False
        self.refusal_done = False
        self.logprobs_content_done = False
        self.logprobs_refusal_done = False
        self.done_tools: set[int] = set()
        self.current_tool: int | None = None
        self.parsed: Any = None
        self.parsed_final = False
        self.tool_parsed: dict[int, Any] = {}
        self.content: Text | None = None
        self.refusal: Text | None = None
        self.finished = False


def _meta(chunk: ChatCompletionChunk) -> tuple[Any, ...]:
    """The chunk-level values a snapshot is made of (besides its choices and usage)."""
    return (chunk.id, chunk.created, chunk.model, chunk.system_fingerprint, chunk.service_tier,
            chunk.moderation, chunk.prompt_filter_results)


class ChatEventConverter:
    """``chat.completions.stream()``: official helper events from the core accumulator.

    Most chunks only add text to choices the stream already has. For those the events are
    built in O(1): the ``chunk`` event's ``chunk`` and ``snapshot`` and each delta's
    ``snapshot`` are built when read (:mod:`._chat_snapshot`). Any other chunk takes the full
    path: its snapshot is built at once and becomes the base of the following ones.
    """

    def __init__(self, tap: RawTap, accumulator: ChatCompletionAccumulator,
                 response_format: Any, tools: Sequence[Mapping[str, Any]]) -> None:
        self.tap = tap
        self.accumulator = accumulator
        self.response_format = response_format if isinstance(response_format, type) else None
        self.tools = list(tools)
        self.parseable = self.response_format is not None or any(
            is_parseable_tool(t) for t in self.tools)
        self.choices: dict[int, _ChoiceState] = {}
        self.snapshot: Snapshot | None = None
        self.base: dict[str, Any] | None = None
        """Snapshot data after the last chunk that took the full path (None: take it next)."""
        self.base_meta: tuple[Any, ...] = ()

    # -- snapshots ---------------------------------------------------------------------------

    def snapshot_data(self) -> dict[str, Any]:
        """The accumulated completion as API data, with the stream's parsed values."""
        data: dict[str, Any] = wire_to_builtins(self.accumulator.completion())
        data.pop("obfuscation", None)
        # The keys the official snapshot always has (its to_dict() shows them as null).
        data.setdefault("system_fingerprint", None)
        data.setdefault("usage", None)
        for choice in data.get("choices", []):
            state = self.choices.get(choice["index"])
            choice.setdefault("finish_reason", None)
            choice.setdefault("logprobs", None)
            message = choice["message"]
            for key in _MESSAGE_KEYS:
                message.setdefault(key, None)
            if state is not None and (state.parsed_final or state.parsed is not None):
                message["parsed"] = state.parsed
            for position, call in enumerate(message.get("tool_calls") or []):
                call["index"] = position  # the official snapshot keeps the delta's index
                parsed = None if state is None else state.tool_parsed.get(position)
                call["function"] = {**call["function"], "parsed_arguments": parsed}
        return data

    def current_snapshot(self) -> Any:
        if self.snapshot is None:
            self.snapshot = Snapshot.built(
                construct("ParsedChatCompletion", self.snapshot_data()))
        return self.snapshot.get()

    def final_completion(self) -> Any:
        return parse_chat_completion(self.snapshot_data(), self.response_format, self.tools)

    # -- events ------------------------------------------------------------------------------

    def on_end(self, error: BaseException | None) -> tuple[list[Any], BaseException | None]:
        return [], error

    def on_event(self, event: Any) -> Sequence[Any]:
        if type(event) is not Chunk:
            return ()
        wire: ChatCompletionChunk = event.chunk
        text_only = self.base is not None and wire.usage is None
        for choice in wire.choices:
            state = self.choices.get(choice.index)
            if state is None:
                state = self.choices[choice.index] = _ChoiceState()
                text_only = False
            delta = choice.delta
            if delta.content is not None:
                if state.content is None:
                    state.content = Text()
                state.content.append(delta.content)
            if delta.refusal is not None:
                if state.refusal is None:
                    state.refusal = Text()
                state.refusal.append(delta.refusal)
            if text_only and (
                    state.finished or choice.finish_reason is not None
                    or choice.logprobs is not None or choice.content_filter_results is not None
                    or delta.role is not None or delta.tool_calls is not None
                    or delta.function_call is not None or delta.audio is not None):
                text_only = False
            if choice.finish_reason is not None:
                state.finished = True
        if wire.object != "chat.completion.chunk":
            self.base = None  # Azure's asynchronous-filter chunks (the official filter)
            return ()
        meta = _meta(wire)
        if text_only and meta == self.base_meta:
            return self._text_events(wire)
        events = self._full_events(RawChunk(self.tap.data).compute())
        self.base, self.base_meta = self.snapshot_data(), meta
        return events

    def _text_events(self, wire: ChatCompletionChunk) -> list[Any]:
        """A chunk that only adds text: O(1) events, built when taken, snapshots when read."""
        choices = self.choices
        if self.response_format is not None:
            for choice in wire.choices:
                self._update_parsed_content(choices[choice.index])
        texts = [ChoiceText(index, state.content,
                            0 if state.content is None else state.content.length,
                            state.refusal, 0 if state.refusal is None else state.refusal.length,
                            state.parsed, state.parsed_final)
                 for index, state in choices.items()]
        snapshot = self.snapshot = Snapshot(self.base, texts[0] if texts else None,
                                            tuple(texts[1:]))
        events: list[Any] = [ChunkEventItem(self.tap.data, snapshot)]
        for choice in wire.choices:
            state = choices[choice.index]
            delta = choice.delta
            text = state.content
            if delta.content is not None and text is not None:
                events.append(ContentDeltaItem(delta.content, TextPrefix(text, text.length),
                                            state.parsed))
            text = state.refusal
            if delta.refusal is not None and text is not None:
                events.append(RefusalDeltaItem(delta.refusal, TextPrefix(text, text.length)))
        return events

    def _full_events(self, chunk: Any) -> list[Any]:
        for choice in chunk.choices:
            self._update_parsed(choice)
        snapshot = construct("ParsedChatCompletion", self.snapshot_data())
        self.snapshot = Snapshot.built(snapshot)
        by_index = {c.index: c for c in snapshot.choices}
        events: list[Any] = [construct("ChunkEvent", {"type": "chunk", "chunk": chunk,
                                                      "snapshot": snapshot})]
        for choice in chunk.choices:
            current = by_index[choice.index]
            if choice.finish_reason and self.parseable:
                if choice.finish_reason == "length":
                    raise LengthFinishReasonError(completion=snapshot)
                if choice.finish_reason == "content_filter":
                    raise ContentFilterFinishReasonError(completion=snapshot)
            self._delta_events(choice, current, events)
            self._done_events(choice, current, events)
        return events

    def _update_parsed_content(self, state: _ChoiceState) -> None:
        # The official helper parses the partial JSON content on every chunk.
        if not state.parsed_final and state.content is not None:
            content = state.content.text()
            if content.lstrip():
                state.parsed = _partial_json(content)

    def _update_parsed(self, choice: Any) -> None:
        state = self.choices[choice.index]
        if self.response_format is not None:
            self._update_parsed_content(state)
        for fragment in choice.delta.tool_calls or []:
            if fragment.index in state.done_tools:
                continue
            completion = self.accumulator.completion().choices
            calls = next((c.message.tool_calls for c in completion if c.index == choice.index),
                         None) or []
            if fragment.index < len(calls):
                call = calls[fragment.index].function
                definition = find_tool(self.tools, call.name)
                if definition is not None and definition.get("strict") and call.arguments:
                    state.tool_parsed[fragment.index] = _partial_json(call.arguments)

    def _delta_events(self, choice: Any, current: Any, events: list[Any]) -> None:
        delta = choice.delta
        message = current.message
        if delta.content is not None and message.content is not None:
            events.append(construct("ContentDeltaEvent", {
                "type": "content.delta", "delta": delta.content, "snapshot": message.content,
                "parsed": message.parsed}))
        if delta.refusal is not None and message.refusal is not None:
            events.append(construct("RefusalDeltaEvent", {
                "type": "refusal.delta", "delta": delta.refusal, "snapshot": message.refusal}))
        for fragment in delta.tool_calls or []:
            call = message.tool_calls[fragment.index]
            events.append(construct("FunctionToolCallArgumentsDeltaEvent", {
                "type": "tool_calls.function.arguments.delta",
                "name": call.function.name,
                "index": fragment.index,
                "arguments": call.function.arguments,
                "parsed_arguments": call.function.parsed_arguments,
                "arguments_delta": (fragment.function.arguments if fragment.function else None)
                or ""}))
        logprobs, snapshot = choice.logprobs, current.logprobs
        if logprobs is not None and snapshot is not None:
            if logprobs.content and snapshot.content:
                events.append(construct("LogprobsContentDeltaEvent", {
                    "type": "logprobs.content.delta", "content": logprobs.content,
                    "snapshot": snapshot.content}))
            if logprobs.refusal and snapshot.refusal:
                events.append(construct("LogprobsRefusalDeltaEvent", {
                    "type": "logprobs.refusal.delta", "refusal": logprobs.refusal,
                    "snapshot": snapshot.refusal}))

    def _done_events(self, choice: Any, current: Any, events: list[Any]) -> None:
        state = self.choices[choice.index]
        if current.finish_reason:
            self._content_done(state, current, events)
            if state.current_tool is not None and state.current_tool not in state.done_tools:
                self._tool_done(state, current, state.current_tool, events)
        for fragment in choice.delta.tool_calls or []:
            if state.current_tool != fragment.index:
                self._content_done(state, current, events)
                if state.current_tool is not None:
                    self._tool_done(state, current, state.current_tool, events)
            state.current_tool = fragment.index

    def _content_done(self, state: _ChoiceState, current: Any, events: list[Any]) -> None:
        message = current.message
        if message.content and not state.content_done:
            state.content_done = True
            parsed = None
            if self.response_format is not None and not message.refusal:
                parsed = parse_content(self.response_format, message.content)
            state.parsed, state.parsed_final = parsed, True
            message.parsed = parsed
            events.append(construct("ContentDoneEvent", {
                "type": "content.done", "content": message.content, "parsed": parsed}))
        if message.refusal is not None and not state.refusal_done:
            state.refusal_done = True
            events.append(construct("RefusalDoneEvent", {
                "type": "refusal.done", "refusal": message.refusal}))
        logprobs = current.logprobs
        if (logprobs is not None and logprobs.content is not None
                and not state.logprobs_content_done):
            state.logprobs_content_done = True
            events.append(construct("LogprobsContentDoneEvent", {
                "type": "logprobs.content.done", "content": logprobs.content}))
        if (logprobs is not None and logprobs.refusal is not None
                and not state.logprobs_refusal_done):
            state.logprobs_refusal_done = True
            events.append(construct("LogprobsRefusalDoneEvent", {
                "type": "logprobs.refusal.done", "refusal": logprobs.refusal}))

    def _tool_done(self, state: _ChoiceState, current: Any, index: int,
                   events: list[Any]) -> None:
        if index in state.done_tools:
            return
        state.done_tools.add(index)
        function = current.message.tool_calls[index].function
        parsed = parse_tool_arguments(self.tools, function.name, function.arguments)
        state.tool_parsed[index] = parsed
        function.parsed_arguments = parsed
        events.append(construct("FunctionToolCallArgumentsDoneEvent", {
            "type": "tool_calls.function.arguments.done", "index": index,
            "name": function.name, "arguments": function.arguments,
            "parsed_arguments": parsed}))


def parse_chat_completion(data: dict[str, Any], response_format: Any,
                          tools: Sequence[Mapping[str, Any]]) -> Any:
    """A ``ParsedChatCompletion`` from completion data (the official ``parse`` rules)."""
    target = response_format if isinstance(response_format, type) else None
    choices: list[dict[str, Any]] = []
    for choice in data.get("choices") or []:
        reason = choice.get("finish_reason")
        if reason == "length":
            raise LengthFinishReasonError(completion=construct("ChatCompletion", data))
        if reason == "content_filter":
            raise ContentFilterFinishReasonError(completion=construct("ChatCompletion", data))
        message = dict(choice.get("message") or {})
        calls = []
        for call in message.get("tool_calls") or []:
            if call.get("type") != "function":
                continue  # custom tool calls cannot be parsed (the official client drops them)
            function = call.get("function") or {}
            parsed = parse_tool_arguments(tools, function.get("name", ""),
                                          function.get("arguments", ""))
            calls.append({**call, "function": {**function, "parsed_arguments": parsed}})
        content = message.get("content")
        parsed_content = None
        if target is not None and content and not message.get("refusal"):
            parsed_content = parse_content(target, content)
        message["parsed"] = parsed_content
        message["tool_calls"] = calls or None
        choices.append({**choice, "message": message})
    return construct("ParsedChatCompletion", {**data, "choices": choices})
