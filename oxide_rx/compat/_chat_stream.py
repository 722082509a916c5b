"""``chat.completions.stream()``: the official helper events, mapped from the core's.

The core :class:`~oxide_rx._core.chat.ChatCompletionAccumulator` accumulates (one text buffer,
tool-call merging, logprobs, ``parsed`` for a pydantic ``response_format`` and for pydantic
tools) and emits its helper events, in the official order (``content_done_first``); this
module names them as the official ones:

==========================  ===============================================================
core                        official
==========================  ===============================================================
``Chunk`` + the snapshot    ``chunk`` (the chunk, and the completion so far)
``ContentDelta`` / ``Done`` ``content.delta`` / ``content.done``
``RefusalDelta`` / ``Done`` ``refusal.delta`` / ``refusal.done``
``ToolCallDelta`` / ``Done`` ``tool_calls.function.arguments.delta`` / ``.done``
``LogprobsDelta``           ``logprobs.content.delta`` / ``logprobs.refusal.delta``
``Done``                    ``logprobs.content.done`` / ``logprobs.refusal.done``
==========================  ===============================================================

Partial ``parsed`` values (structured output, strict tool arguments) use the official
client's partial-JSON rule (``jiter`` ``partial_mode``), so they equal the official ones.
"""

from __future__ import annotations

import inspect
from typing import Any

import jiter
import msgspec
from openai import ContentFilterFinishReasonError, LengthFinishReasonError, omit
from openai._types import Omit
from openai.lib._parsing._completions import (
    get_input_tool_by_name,
    has_parseable_input,
    parse_chat_completion,
)
from openai.lib._tools import PydanticFunctionTool
from openai.lib.streaming.chat import AsyncChatCompletionStream, ChatCompletionStream
from openai.lib.streaming.chat import _events as ev
from openai.lib.streaming.chat._types import ParsedChatCompletionSnapshot
from openai.types.chat import ChatCompletionChunk, ParsedChatCompletion

import oxide_rx as ox

from . import _core
from ._chat_shape import Shape
from ._objects import from_data, make, make_whole, parser, shallow, take_state
from ._streams import Direct, Pipe

__all__ = ["AsyncCompatChatStream", "ChatEvents", "CompatChatStream"]


def _pipe(raw: Any, response_format: Any, events: ChatEvents) -> Pipe:
    """The official events of a ``.stream()`` call; its accumulator learns the pydantic
    types."""
    opened = raw._opened
    accumulator = _core.accumulate_chat(opened.core)
    functions = [tool.get("function") for tool in events.tools if isinstance(tool, dict)]
    accumulator.tool_types = {fn["name"]: fn.model for fn in functions
                              if isinstance(fn, PydanticFunctionTool)}
    accumulator.response_format = response_format if inspect.isclass(response_format) else None

    seen: set[int] = set()
    after_text = False

    def with_snapshot(event: Any) -> Any:  # on the loop's thread: the state then
        nonlocal after_text
        text_before, after_text = after_text, False
        if not isinstance(event, ox.Chunk):
            # A text chunk's content.delta is built with the chunk's item; the other chunks'
            # events are rare enough to carry their text (the core's buffers are this thread's).
            if text_before and isinstance(event, ox.ContentDelta):
                return None
            return event.detached()  # its values now, for the consumer's thread
        chunk = event.chunk
        if chunk.object != "chat.completion.chunk":
            return event, None, False  # skipped by the official helper (and the core)
        if len(chunk.choices) == 1 and _text_only(chunk, seen):
            # The common chunk: the snapshot is the last one with this delta's text added. The
            # text itself is not taken here: a consumer behind by thousands of chunks would
            # hold a copy of the whole text for each.
            after_text = True
            return event, None, True
        seen.update(choice.index for choice in chunk.choices)
        return event, accumulator.completion(), False

    return Pipe(opened, None, events.convert, with_snapshot)


def _text_only(chunk: Any, seen: set[int]) -> bool:
    """A chunk that adds text to a known choice, and nothing else the core keeps."""
    choice = chunk.choices[0]
    delta = choice.delta
    return (choice.index in seen and delta.content is not None and chunk.usage is None
            and choice.finish_reason is None and choice.logprobs is None
            and delta.refusal is None and delta.tool_calls is None
            and delta.function_call is None and delta.audio is None and chunk.moderation is None
            and choice.content_filter_results is None)


def _unencodable(obj: Any) -> None:
    return None  # ``parsed`` values (user types) are not wire data


class ChatEvents:
    """Turns the core's events (and snapshots) into the official helper events."""

    def __init__(self, response_format: Any, input_tools: Any) -> None:
        self.tools: list[Any] = [] if isinstance(input_tools, Omit) else list(input_tools)
        self.rich = response_format if inspect.isclass(response_format) else omit
        self.parseable = has_parseable_input(response_format=response_format,
                                             input_tools=self.tools)
        self.snapshot: Any = None
        self.skip = False
        self.shape = Shape()
        self.parse = parser(ChatCompletionChunk)
        self.chunk: Any = None

    def convert(self, item: Any) -> list[Any]:
        if isinstance(item, tuple):
            return self._chunk(*item)
        if self.skip:
            return []
        if isinstance(item, ox.ContentDelta):
            message = self._message(item.choice)
            return [make(ev.ContentDeltaEvent, type="content.delta", delta=item.delta,
                         snapshot=item.snapshot, parsed=getattr(message, "parsed", None))]
        if isinstance(item, ox.ContentDone):
            parsed = None if isinstance(self.rich, Omit) else item.parsed
            message = self._message(item.choice)
            if message is not None:
                message.parsed = parsed
            return [make(ev.ContentDoneEvent, type="content.done", content=item.content,
                         parsed=parsed)]
        if isinstance(item, ox.RefusalDelta):
            return [make(ev.RefusalDeltaEvent, type="refusal.delta", delta=item.delta,
                         snapshot=item.snapshot)]
        if isinstance(item, ox.RefusalDone):
            return [make(ev.RefusalDoneEvent, type="refusal.done", refusal=item.refusal)]
        if isinstance(item, ox.ToolCallDelta):
            call = self._call(item.choice, item.index)
            return [make(ev.FunctionToolCallArgumentsDeltaEvent,
                         type="tool_calls.function.arguments.delta", name=item.name,
                         index=item.index, arguments=item.arguments_snapshot
                         if call is None else call.function.arguments,
                         parsed_arguments=None if call is None else call.function.parsed_arguments,
                         arguments_delta=item.arguments_delta)]
        if isinstance(item, ox.ToolCallDone):
            parsed = self._final_arguments(item.name, item.parsed_arguments)
            call = self._call(item.choice, item.index)
            if call is not None:
                call.function.parsed_arguments = parsed
            return [make(ev.FunctionToolCallArgumentsDoneEvent,
                         type="tool_calls.function.arguments.done", index=item.index,
                         name=item.name, arguments=item.arguments, parsed_arguments=parsed)]
        if isinstance(item, ox.LogprobsDelta):
            return self._logprobs(item.choice, item)
        if isinstance(item, ox.Done):
            return self._logprobs(item.choice, None)
        return []

    def _chunk(self, event: Any, completion: Any, text_only: bool) -> list[Any]:
        chunk = self.parse(event.raw or b"{}")
        # Azure's asynchronous-filter events are not chunks: the official helper skips them.
        self.skip = chunk.object != "chat.completion.chunk"
        self.chunk = chunk
        if self.skip:
            return []
        previous = self.snapshot
        if text_only:
            # A chunk that only adds text: its choice's message is replaced, as the official
            # helper replaces it, in the snapshot that stays the same object.
            message = _add_text(_find(previous, chunk.choices[0].index), chunk)
            if isinstance(self.rich, Omit) and self.shape.steady(chunk, coming=True):
                # The common chunk: nothing else of the snapshot's shape changes.
                self.shape.count(chunk)
                previous.__dict__.update(usage=chunk.usage,
                                         system_fingerprint=chunk.system_fingerprint)
                return [_chunk_event(chunk, previous), _content_delta(chunk, message)]
        for choice in chunk.choices:
            _check_calls(choice, self._message(choice.index))
        self.shape.learn(chunk)
        snapshot = previous if text_only else self._snapshot(completion)
        snapshot.usage = chunk.usage  # the official snapshot has the latest chunk's
        snapshot.system_fingerprint = chunk.system_fingerprint
        self._partial(previous, snapshot)
        if not text_only or not self.shape.steady(chunk):
            self.shape.stamp(snapshot)
        if previous is not None and snapshot is not previous:
            snapshot = _adopt(previous, snapshot)
        self.snapshot = snapshot
        for choice in chunk.choices if self.parseable else ():
            if choice.finish_reason == "length":
                raise LengthFinishReasonError(completion=snapshot)
            if choice.finish_reason == "content_filter":
                raise ContentFilterFinishReasonError(completion=snapshot)
        out = [_chunk_event(chunk, snapshot)]
        if text_only:  # its content.delta (the core's was dropped)
            out.append(_content_delta(chunk, self._message(chunk.choices[0].index)))
        return out

    def _snapshot(self, completion: Any) -> Any:
        """The official snapshot's values from the core's completion."""
        data = msgspec.to_builtins(completion, enc_hook=_unencodable)
        data.pop("prompt_filter_results", None)
        for choice in data.setdefault("choices", []):
            choice.pop("content_filter_results", None)
            message = choice["message"]
            message.pop("parsed", None)
            for kind in ("content", "refusal"):  # omitted by the core when empty (its default)
                for entry in (choice.get("logprobs") or {}).get(kind) or ():
                    entry.setdefault("top_logprobs", [])
            for call in message.get("tool_calls") or ():
                call.pop("parsed_arguments", None)
                call["function"].pop("parsed_arguments", None)
        return from_data(ParsedChatCompletionSnapshot, data)

    def _partial(self, previous: Any, snapshot: Any) -> None:
        """``parsed`` so far: structured output, and strict tools' arguments."""
        for choice in snapshot.choices:
            message = choice.message
            old = _find(previous, choice.index)
            message.parsed = None if old is None else old.message.parsed
            content = message.content
            if (content and not message.refusal and not isinstance(self.rich, Omit)
                    and content.lstrip() and choice.finish_reason is None):
                message.parsed = jiter.from_json(content.encode(), partial_mode=True)
            for position, call in enumerate(message.tool_calls or ()):
                old_calls = (old.message.tool_calls or []) if old is not None else []
                old_call = old_calls[position] if position < len(old_calls) else None
                function = call.function
                function.parsed_arguments = None if old_call is None \
                    else old_call.function.parsed_arguments
                tool = get_input_tool_by_name(input_tools=self.tools, name=function.name)
                changed = old_call is None or old_call.function.arguments != function.arguments
                if (tool and tool.get("function", {}).get("strict") and function.arguments
                        and changed):
                    function.parsed_arguments = jiter.from_json(function.arguments.encode(),
                                                                partial_mode=True)

    def _message(self, index: int) -> Any:
        choice = _find(self.snapshot, index)
        return None if choice is None else choice.message

    def _call(self, choice: int, index: int) -> Any:
        calls = getattr(self._message(choice), "tool_calls", None) or []
        return calls[index] if index < len(calls) else None

    def _final_arguments(self, name: str, parsed: Any) -> Any:
        """The official rule: pydantic and strict tools are parsed, others are not."""
        tool = get_input_tool_by_name(input_tools=self.tools, name=name)
        function: Any = None if tool is None else tool.get("function")
        if isinstance(function, PydanticFunctionTool) or (function or {}).get("strict"):
            return parsed
        return None

    def _logprobs(self, index: int, delta: Any) -> list[Any]:
        choice = _find(self.snapshot, index)
        logprobs = None if choice is None else choice.logprobs
        if logprobs is None:
            return []
        out: list[Any] = []
        for kind in ("content", "refusal"):
            so_far = getattr(logprobs, kind)
            if delta is None and so_far is not None:
                out.append(make(ev.LogprobsContentDoneEvent if kind == "content"
                                else ev.LogprobsRefusalDoneEvent,
                                type=f"logprobs.{kind}.done", **{kind: so_far}))
            elif delta is not None and getattr(delta, kind) and so_far:
                # The official event carries the chunk's own objects.
                new = getattr(_find(self.chunk, index).logprobs, kind)
                out.append(make(ev.LogprobsContentDeltaEvent if kind == "content"
                                else ev.LogprobsRefusalDeltaEvent,
                                type=f"logprobs.{kind}.delta", snapshot=so_far, **{kind: new}))
        return out

    def final(self) -> ParsedChatCompletion[Any]:
        if self.snapshot is None:  # the official helper's bare ``assert``
            raise AssertionError
        return parse_chat_completion(chat_completion=self.snapshot, response_format=self.rich,
                                     input_tools=self.tools)


def _chunk_event(chunk: Any, snapshot: Any) -> Any:
    """The official ``chunk`` event."""
    return make_whole(ev.ChunkEvent, {"type": "chunk", "chunk": chunk, "snapshot": snapshot})


def _content_delta(chunk: Any, message: Any) -> Any:
    """The official ``content.delta`` of a text chunk, given its choice's new message."""
    return make_whole(ev.ContentDeltaEvent, {
        "type": "content.delta", "delta": chunk.choices[0].delta.content,
        "snapshot": message.content, "parsed": message.parsed})


def _check_calls(choice: Any, message: Any) -> None:
    """The official helper's errors for tool-call fragments without an integer ``index``
    (some OpenAI-compatible servers send none): its merge of the delta's dicts raises."""
    calls = [call.to_dict() for call in choice.delta.tool_calls or ()]
    so_far = None if message is None else message.tool_calls
    if not so_far and not any("index" in call for call in calls):
        if calls:
            raise TypeError("list indices must be integers or slices, not NoneType")
        return
    for call in calls:
        if "index" not in call:
            raise RuntimeError(f"Expected list delta entry to have an `index` key; {call}")
        if not isinstance(call["index"], int):
            raise TypeError("Unexpected, list delta entry `index` value is not an integer; "
                            f"{call['index']}")


def _add_text(choice: Any, chunk: Any) -> Any:
    """Replace ``choice``'s message by one with the text chunk's delta added; return it."""
    message = choice.message
    message = choice.__dict__["message"] = shallow(
        message, content=(message.content or "") + chunk.choices[0].delta.content)
    return message


def _adopt(old: Any, new: Any) -> Any:
    """``old`` given ``new``'s state, and returned: the official helper keeps one snapshot
    object, and one per choice, for the whole stream (a late read sees the latest state)."""
    kept = {choice.index: choice for choice in old.choices}
    for position, choice in enumerate(new.choices):
        same = kept.get(choice.index)
        if same is not None:
            new.choices[position] = take_state(same, choice)
    return take_state(old, new)


def _find(snapshot: Any, index: int) -> Any:
    for choice in getattr(snapshot, "choices", None) or ():
        if choice.index == index:
            return choice
    return None


class AsyncCompatChatStream(Direct, AsyncChatCompletionStream[Any]):
    """The official ``AsyncChatCompletionStream``, its events mapped from the core's."""

    def __init__(self, raw: Any, response_format: Any, input_tools: Any) -> None:
        self._raw_stream, self._response = raw, raw.response
        self._events = events = ChatEvents(response_format, input_tools)
        self._iterator = _pipe(raw, response_format, events).aitems()

    async def close(self) -> None:
        await self._raw_stream.close()

    async def get_final_completion(self) -> ParsedChatCompletion[Any]:
        await self.until_done()
        return self._events.final()

    @property
    def current_completion_snapshot(self) -> Any:
        return self._events.snapshot


class CompatChatStream(Direct, ChatCompletionStream[Any]):
    """The official blocking ``ChatCompletionStream``, its events mapped from the core's."""

    def __init__(self, raw: Any, response_format: Any, input_tools: Any) -> None:
        self._raw_stream, self._response = raw, raw.response
        self._events = events = ChatEvents(response_format, input_tools)
        self._iterator = _pipe(raw, response_format, events).items()

    def close(self) -> None:
        self._raw_stream.close()

    def get_final_completion(self) -> ParsedChatCompletion[Any]:
        self.until_done()
        return self._events.final()

    @property
    def current_completion_snapshot(self) -> Any:
        return self._events.snapshot
