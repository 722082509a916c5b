"""The two tool runs: what a round sends and what the next one carries, per API (the loop,
the tools and the lifetime are in :mod:`.tool_runner`)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import msgspec

from .._core.tools import Tool
from .._stream.lifetime import StreamHandle
from .._stream.streams import ChatStream, ResponseStream
from ..events import ChatRunEvent, ResponseRunEvent, ToolResult
from ..types import responses as rt
from ..types.chat import ChatCompletion
from .tool_runner import RunPolicy, ToolRun

__all__ = ["ChatToolRun", "ResponseToolRun", "SessionToolRun"]


# The tools go out as plain definitions, not Tool objects: a stream would then validate the
# arguments into the tool's type itself and fail on invalid ones, where the runner answers the
# model with an error result (it validates them with the Tool when it starts the call).


class ChatToolRun(ToolRun[ChatRunEvent, ChatCompletion]):
    """A Chat Completions tool run (``client.chat.completions.run_tools``).

    ``messages`` is the conversation: the request's, then each round's assistant message and
    tool results.

    >>> run = client.chat.completions.run_tools(                      # doctest: +SKIP
    ...     model="gpt-4o-mini", messages=[...], tools=[get_weather])
    >>> async with run:                                                # doctest: +SKIP
    ...     completion = await run.final_completion()
    """

    def __init__(
        self,
        create_stream: Callable[..., Awaitable[ChatStream]],
        params: dict[str, Any],
        tools: Sequence[Any],
        policy: RunPolicy,
    ) -> None:
        super().__init__(tools, policy)
        self._create = create_stream
        self.messages: list[Any] = list(params.pop("messages", []))
        self._params = params

    async def final_completion(self) -> ChatCompletion:
        """Run to the end; the completion of the last round (the model's answer)."""
        return await self._final_value()

    async def _open_round(self) -> StreamHandle[Any]:
        tools = [entry.chat_param() if isinstance(entry, Tool) else entry for entry in self.tools]
        return await self._create(**self._params, messages=list(self.messages), tools=tools)

    def _snapshot(self, stream: StreamHandle[Any]) -> ChatCompletion:
        assert isinstance(stream, ChatStream)
        return stream.current_completion()

    def _calls_in(self, final: ChatCompletion) -> list[tuple[str, str]]:
        if not final.choices:
            return []
        calls = final.choices[0].message.tool_calls or []
        return [(call.id, call.function.name) for call in calls]

    def _next_round(self, final: ChatCompletion, results: list[ToolResult]) -> None:
        message = final.choices[0].message
        self.messages.append({
            "role": "assistant",
            "content": message.content,
            "tool_calls": [
                {"id": call.id, "type": "function",
                 "function": {"name": call.function.name, "arguments": call.function.arguments}}
                for call in message.tool_calls or []
            ],
        })
        self.messages += [
            {"role": "tool", "tool_call_id": result.call_id, "content": result.output}
            for result in results
        ]


class ResponseToolRun(ToolRun[ResponseRunEvent, rt.Response]):
    """A Responses API tool run (``client.responses.run_tools``).

    Each round after the first sends the tool results as ``function_call_output`` items with
    ``previous_response_id``; with ``store=False`` (nothing kept server-side) it sends the
    whole conversation instead: the input, each response's output items, the results.
    """

    def __init__(
        self,
        create_stream: Callable[..., Awaitable[ResponseStream]],
        params: dict[str, Any],
        tools: Sequence[Any],
        policy: RunPolicy,
    ) -> None:
        super().__init__(tools, policy)
        self._create = create_stream
        self._params = params
        given = params.get("input", [])
        self._conversation: list[Any] = (
            [{"role": "user", "content": given}] if isinstance(given, str) else list(given))

    async def final_response(self) -> rt.Response:
        """Run to the end; the response of the last round (the model's answer)."""
        return await self._final_value()

    async def _open_round(self) -> StreamHandle[Any]:
        tools = [entry.responses_param() if isinstance(entry, Tool) else entry
                 for entry in self.tools]
        return await self._create(**self._params, tools=tools)

    def _snapshot(self, stream: StreamHandle[Any]) -> rt.Response:
        assert isinstance(stream, ResponseStream)
        return stream.current_response()

    def _calls_in(self, final: rt.Response) -> list[tuple[str, str]]:
        return [(item.call_id, item.name) for item in final.output
                if isinstance(item, rt.FunctionCall)]

    def _next_round(self, final: rt.Response, results: list[ToolResult]) -> None:
        outputs = [{"type": "function_call_output", "call_id": result.call_id,
                    "output": result.output} for result in results]
        if self._params.get("store") is False or not final.id:
            # Nothing to point back to: send the conversation so far.
            self._conversation += [_input_item(item) for item in final.output]
            self._conversation += outputs
            self._params["input"] = list(self._conversation)
        else:
            self._params["input"] = outputs
            self._params["previous_response_id"] = final.id


class SessionToolRun(ResponseToolRun):
    """A tool run on a WebSocket session's lane (``session.run_tools``, ``lane.run_tools``).

    The lane chains by itself, so each later round sends only the ``function_call_output``
    items and the lane continues its last response (rebuilding the conversation if the server
    lost it, see :mod:`oxide_rx._client.websocket_lane`); the lane's ``items`` keep every
    round. On a session opened with ``chain=False`` the rounds chain as over HTTP.

    >>> async with await client.responses.connect(                 # doctest: +SKIP
    ...         defaults={"model": "gpt-5.4-mini"}) as session:
    ...     run = session.run_tools(input="Weather in Paris?", tools=[get_weather])
    ...     print((await run.final_response()).output_text)
    """

    def __init__(
        self,
        create_stream: Callable[..., Awaitable[ResponseStream]],
        params: dict[str, Any],
        tools: Sequence[Any],
        policy: RunPolicy,
        *,
        chained: bool,
    ) -> None:
        super().__init__(create_stream, params, tools, policy)
        self._chained = chained

    def _next_round(self, final: rt.Response, results: list[ToolResult]) -> None:
        if not self._chained:
            super()._next_round(final, results)
            return
        self._params["input"] = [{"type": "function_call_output", "call_id": result.call_id,
                                  "output": result.output} for result in results]
        # A first round's explicit previous_response_id is spent: the lane's head is newer.
        self._params.pop("previous_response_id", None)


def _input_item(item: Any) -> Any:
    """An output item as an input item of the next request (its JSON, unset fields left out)."""
    plain = msgspec.to_builtins(item)
    if isinstance(plain, dict):
        plain = {key: value for key, value in plain.items() if value is not None}
    return plain
