"""``chat.completions.stream()``: the official helper events, mapped from the core's.

The core :class:`~oxide_rx._core.chat.ChatCompletionAccumulator` does the accumulating (one
text buffer, tool-call merging, logprobs, ``parsed`` for a ``response_format`` type and for
pydantic tools) and emits its helper events; this module names them as the official ones:

==============================  ===========================================================
core event                      official event
==============================  ===========================================================
``Chunk`` (+ the snapshot)      ``chunk`` (``ChunkEvent``: the chunk and the completion so far)
``ContentDelta`` / ``Done``     ``content.delta`` / ``content.done``
``RefusalDelta`` / ``Done``     ``refusal.delta`` / ``refusal.done``
``ToolCallDelta`` / ``Done``    ``tool_calls.function.arguments.delta`` / ``.done``
``LogprobsDelta``               ``logprobs.content.delta`` / ``logprobs.refusal.delta``
``Done``                        ``logprobs.content.done`` / ``logprobs.refusal.done``
==============================  ===========================================================

The accumulator runs with ``content_done_first=True``: the official order of a finishing
choice (content, refusal, logprobs, then the last tool call).
"""

from __future__ import annotations

import inspect
from collections.abc import Iterable
from typing import Any, cast

import jiter
import msgspec
from openai import omit
from openai._types import Omit
from openai.lib._parsing._completions import (
    get_input_tool_by_name,
    has_parseable_input,
    parse_chat_completion,
)
from openai.lib._tools import PydanticFunctionTool
from openai.lib.streaming.chat import _events as ev
from openai.lib.streaming.chat._completions import (
    AsyncChatCompletionStream,
    ChatCompletionStream,
)
from openai.types.chat import ChatCompletionChunk, ParsedChatCompletion
from openai.types.chat.chat_completion_token_logprob import ChatCompletionTokenLogprob
from openai.lib.streaming.chat._types import ParsedChatCompletionSnapshot

from . import _core
from ._chat_shape import Shape
from ._loop import LoopThread
from ._objects import from_data, from_json
from ._streams import AsyncPuller, Opened, Pipe, ThreadPuller, is_end

__all__ = ["AsyncCompatChatStream", "ChatEvents", "CompatChatStream", "configure_chat"]

_LOGPROB = ChatCompletionTokenLogprob


def _given(value: Any) -> bool:
    return not isinstance(value, Omit)


def configure_chat(accumulator: Any, response_format: Any, input_tools: Any) -> None:
    """Set the core accumulator of a ``.stream()`` call up before it starts: ``parsed`` for a
    pydantic ``response_format`` and for pydantic function tools, the official done order."""
    tools = list(input_tools) if _given(input_tools) else []
    functions = [tool.get("function") for tool in tools if isinstance(tool, dict)]
    accumulator.tool_types = {fn["name"]: fn.model for fn in functions
                              if isinstance(fn, PydanticFunctionTool)}
    accumulator.response_format = response_format if inspect.isclass(response_format) else None
    accumulator.content_done_first = True


def capture(accumulator: Any) -> Any:
    """On the loop's thread: each ``Chunk`` travels with the completion at that moment."""

    def snapshot(event: Any) -> Any:
        if isinstance(event, _core.Chunk):
            return (event, accumulator.completion())
        return event

    return snapshot


class ChatEvents:
    """Turns the core's events (and snapshots) into the official helper events."""

    def __init__(self, response_format: Any, input_tools: Iterable[Any] | Omit) -> None:
        self.tools = list(input_tools) if _given(input_tools) else []
        self.response_format = response_format
        self.rich = response_format if inspect.isclass(response_format) else omit
        self.parseable = has_parseable_input(response_format=response_format,
                                             input_tools=self.tools)
        self.snapshot: ParsedChatCompletionSnapshot | None = None
        self.chunk: ChatCompletionChunk | None = None
        self.skip = False
        self.shape = Shape()

    def convert(self, item: Any) -> list[Any]:
        if isinstance(item, tuple):
            return self._chunk(*item)
        if self.skip:
            return []
        kind = type(item).__mro__
        if _core.ContentDelta in kind:
            message = self._message(item.choice)
            return [ev.ContentDeltaEvent.construct(
                type="content.delta", delta=item.delta, snapshot=item.snapshot,
                parsed=None if message is None else message.parsed)]
        if _core.ContentDone in kind:
            message = self._message(item.choice)
            parsed = item.parsed if _given(self.rich) else None
            if message is not None:
                message.parsed = parsed
            return [ev.ContentDoneEvent.construct(type="content.done", content=item.content,
                                                  parsed=parsed)]
        if _core.RefusalDelta in kind:
            return [ev.RefusalDeltaEvent.construct(type="refusal.delta", delta=item.delta,
                                                   snapshot=item.snapshot)]
        if _core.RefusalDone in kind:
            return [ev.RefusalDoneEvent.construct(type="refusal.done", refusal=item.refusal)]
        if _core.ToolCallDelta in kind:
            return [ev.FunctionToolCallArgumentsDeltaEvent.construct(
                type="tool_calls.function.arguments.delta", name=item.name, index=item.index,
                arguments=item.arguments_snapshot,
                parsed_arguments=self._partial_arguments(item.choice, item.index),
                arguments_delta=item.arguments_delta)]
        if _core.ToolCallDone in kind:
            parsed = self._final_arguments(item.name, item.parsed_arguments)
            self._set_parsed_arguments(item.choice, item.index, parsed)
            return [ev.FunctionToolCallArgumentsDoneEvent.construct(
                type="tool_calls.function.arguments.done", index=item.index, name=item.name,
                arguments=item.arguments, parsed_arguments=parsed)]
        if _core.LogprobsDelta in kind:
            return self._logprobs_delta(item)
        if type(item).__name__ == "Done":
            return self._logprobs_done(item.choice)
        return []

    # -- the chunk and its snapshot ---------------------------------------------------------

    def _chunk(self, event: Any, completion: Any) -> list[Any]:
        chunk = from_json(ChatCompletionChunk, event.raw or b"{}")
        # Azure's asynchronous-filter events are not chunks; the official helper skips them.
        self.skip = chunk.object != "chat.completion.chunk"
        if self.skip:
            return []
        previous = self.snapshot
        self.shape.learn(chunk)
        data = msgspec.to_builtins(completion, enc_hook=_unencodable)
        data.pop("prompt_filter_results", None)
        for choice in data["choices"]:
            choice.pop("content_filter_results", None)
            message = choice["message"]
            message.pop("parsed", None)
            for call in message.get("tool_calls") or ():
                call.pop("parsed_arguments", None)
                call["function"].pop("parsed_arguments", None)
        snapshot = from_data(ParsedChatCompletionSnapshot, data)
        snapshot.usage = chunk.usage
        snapshot.system_fingerprint = chunk.system_fingerprint
        self._carry_parsed(previous, snapshot)
        self.shape.stamp(snapshot)
        self.snapshot = snapshot
        self.chunk = chunk
        self._check_finish(chunk, snapshot)
        return [ev.ChunkEvent.construct(type="chunk", chunk=chunk, snapshot=snapshot)]

    def _carry_parsed(self, previous: Any, snapshot: Any) -> None:
        """Partial ``parsed`` values while structured output or strict arguments stream."""
        for choice in snapshot.choices:
            message = choice.message
            old = _choice(previous, choice.index)
            message.parsed = None if old is None else old.message.parsed
            content = message.content
            if (content and not message.refusal and _given(self.rich) and content.lstrip()
                    and choice.finish_reason is None):
                message.parsed = jiter.from_json(content.encode(), partial_mode=True)
            for position, call in enumerate(message.tool_calls or []):
                old_call = _call(old, position)
                call.function.parsed_arguments = (
                    None if old_call is None else old_call.function.parsed_arguments)
                tool = get_input_tool_by_name(input_tools=self.tools, name=call.function.name)
                if tool and tool.get("function", {}).get("strict") and call.function.arguments \
                        and (old_call is None or old_call.function.arguments
                             != call.function.arguments):
                    call.function.parsed_arguments = jiter.from_json(
                        call.function.arguments.encode(), partial_mode=True)

    def _check_finish(self, chunk: ChatCompletionChunk, snapshot: Any) -> None:
        if not self.parseable:
            return
        for choice in chunk.choices:
            if choice.finish_reason == "length":
                from openai import LengthFinishReasonError
                raise LengthFinishReasonError(completion=snapshot)
            if choice.finish_reason == "content_filter":
                from openai import ContentFilterFinishReasonError
                raise ContentFilterFinishReasonError(completion=snapshot)

    # -- helpers ----------------------------------------------------------------------------

    def _message(self, index: int) -> Any:
        choice = _choice(self.snapshot, index)
        return None if choice is None else choice.message

    def _partial_arguments(self, choice: int, index: int) -> Any:
        call = _call(_choice(self.snapshot, choice), index)
        return None if call is None else call.function.parsed_arguments

    def _set_parsed_arguments(self, choice: int, index: int, parsed: Any) -> None:
        call = _call(_choice(self.snapshot, choice), index)
        if call is not None:
            call.function.parsed_arguments = parsed

    def _final_arguments(self, name: str, parsed: Any) -> Any:
        tool = get_input_tool_by_name(input_tools=self.tools, name=name)
        if tool is None:
            return None
        function = tool.get("function")
        if isinstance(function, PydanticFunctionTool) or (function or {}).get("strict"):
            return parsed
        return None

    def _logprobs_delta(self, item: Any) -> list[Any]:
        choice = _choice(self.snapshot, item.choice)
        logprobs = None if choice is None else choice.logprobs
        out: list[Any] = []
        if item.content and logprobs is not None and logprobs.content:
            out.append(ev.LogprobsContentDeltaEvent.construct(
                type="logprobs.content.delta", content=_logprobs(item.content),
                snapshot=logprobs.content))
        if item.refusal and logprobs is not None and logprobs.refusal:
            out.append(ev.LogprobsRefusalDeltaEvent.construct(
                type="logprobs.refusal.delta", refusal=_logprobs(item.refusal),
                snapshot=logprobs.refusal))
        return out

    def _logprobs_done(self, index: int) -> list[Any]:
        choice = _choice(self.snapshot, index)
        logprobs = None if choice is None else choice.logprobs
        if logprobs is None:
            return []
        out: list[Any] = []
        if logprobs.content is not None:
            out.append(ev.LogprobsContentDoneEvent.construct(
                type="logprobs.content.done", content=logprobs.content))
        if logprobs.refusal is not None:
            out.append(ev.LogprobsRefusalDoneEvent.construct(
                type="logprobs.refusal.done", refusal=logprobs.refusal))
        return out

    def final(self) -> ParsedChatCompletion[Any]:
        assert self.snapshot is not None
        return parse_chat_completion(chat_completion=self.snapshot,
                                     response_format=self.rich, input_tools=self.tools)


def _unencodable(obj: Any) -> None:
    return None  # ``parsed`` values (user types) are not part of the wire data


def _choice(snapshot: Any, index: int) -> Any:
    if snapshot is None:
        return None
    for choice in snapshot.choices:
        if choice.index == index:
            return choice
    return None


def _call(choice: Any, index: int) -> Any:
    calls = None if choice is None else choice.message.tool_calls
    if not calls:
        return None
    for position, call in enumerate(calls):
        if position == index:
            return call
    return None


def _logprobs(items: Any) -> list[ChatCompletionTokenLogprob]:
    return [from_data(_LOGPROB, msgspec.to_builtins(item)) for item in items]


def _pipe(opened: Opened, response_format: Any, input_tools: Any) -> Pipe:
    accumulator = cast(Any, opened.core).accumulator
    configure_chat(accumulator, response_format, input_tools)
    return Pipe(opened, None, capture(accumulator))


class AsyncCompatChatStream(AsyncChatCompletionStream[Any]):
    """The official ``AsyncChatCompletionStream``, its events mapped from the core's."""

    def __init__(self, raw: Any, response_format: Any, input_tools: Any) -> None:  # noqa: D107
        self._raw_stream = raw
        self._response = raw.response
        self._events = ChatEvents(response_format, input_tools)
        self._puller = AsyncPuller(_pipe(raw._opened, response_format, input_tools))
        self._iterator = self.__stream__()

    async def __stream__(self) -> Any:  # type: ignore[override]
        next_event, convert = self._puller.next_event, self._events.convert
        try:
            while not is_end(item := await next_event()):
                for event in convert(item):
                    yield event
        finally:
            await self._puller.aclose()

    async def close(self) -> None:
        await self._puller.aclose()

    async def get_final_completion(self) -> ParsedChatCompletion[Any]:
        await self.until_done()
        return self._events.final()

    @property
    def current_completion_snapshot(self) -> Any:
        return self._events.snapshot


class CompatChatStream(ChatCompletionStream[Any]):
    """The official blocking ``ChatCompletionStream``, its events mapped from the core's."""

    def __init__(self, raw: Any, response_format: Any, input_tools: Any,  # noqa: D107
                 runner: LoopThread) -> None:
        self._raw_stream = raw
        self._response = raw.response
        self._events = ChatEvents(response_format, input_tools)
        self._puller = ThreadPuller(_pipe(raw._opened, response_format, input_tools), runner)
        self._iterator = self.__stream__()

    def __stream__(self) -> Any:  # type: ignore[override]
        next_event, convert = self._puller.next_event, self._events.convert
        try:
            while not is_end(item := next_event()):
                yield from convert(item)
        finally:
            self._puller.close()

    def close(self) -> None:
        self._puller.close()

    def get_final_completion(self) -> ParsedChatCompletion[Any]:
        self.until_done()
        return self._events.final()

    @property
    def current_completion_snapshot(self) -> Any:
        return self._events.snapshot
