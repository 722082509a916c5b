"""The two streams users hold: :class:`ChatStream` and :class:`ResponseStream`."""

from __future__ import annotations

from .._core.chat import ChatCompletionAccumulator
from .._core.responses import ResponseAccumulator
from .._pipeline.chains import Chain, chat_chain, responses_chain
from .._pipeline.sink import Sink
from ..events import ChatEvent, Chunk, ResponseEvent
from ..types import responses as rt
from ..types.chat import ChatCompletion
from ..types.responses import Response
from .lifetime import StreamHandle

__all__ = ["ChatStream", "ResponseStream"]


class ChatStream(StreamHandle[ChatEvent]):
    """A streamed chat completion: helper events, raw chunks and the accumulated completion.

    >>> stream = await client.chat.completions.create_stream(  # doctest: +SKIP
    ...     model="gpt-4o-mini", messages=[{"role": "user", "content": "Hi"}])
    >>> stream.on(ox.ContentDelta, lambda e: print(e.delta, end=""))  # doctest: +SKIP
    >>> completion = await stream.final_completion()                  # doctest: +SKIP
    """

    _wire_types = (Chunk,)

    accumulator: ChatCompletionAccumulator

    def _chain_into(self, sink: Sink[ChatEvent]) -> Chain:
        return chat_chain(self.accumulator, sink)

    def _partial(self) -> ChatCompletion:
        return self.accumulator.completion()

    def _output_tokens(self) -> int | None:
        usage = self.accumulator.usage
        return None if usage is None else usage.completion_tokens

    async def final_completion(self) -> ChatCompletion:
        """Run to the end and return the completion with every choice."""
        await self.until_done()
        return self.accumulator.completion()

    def current_completion(self) -> ChatCompletion:
        """The completion accumulated so far (readable after an error too)."""
        return self.accumulator.completion()

    def current_content(self, choice: int = 0) -> str:
        """The text of ``choice`` so far."""
        return self.accumulator.current_content(choice)


class ResponseStream(StreamHandle[ResponseEvent]):
    """A streamed Responses API response: wire events, helper events and the final Response.

    >>> stream = await client.responses.create_stream(model=..., input="Hi")  # doctest: +SKIP
    >>> print((await stream.final_response()).output_text)                   # doctest: +SKIP
    """

    _wire_types = (*rt.EVENT_CLASSES, rt.UnknownEvent)

    accumulator: ResponseAccumulator

    def _chain_into(self, sink: Sink[ResponseEvent]) -> Chain:
        return responses_chain(self.accumulator, sink)

    def _partial(self) -> Response:
        return self.accumulator.response()

    def _output_tokens(self) -> int | None:
        usage = self.accumulator.response().usage
        return None if usage is None else usage.output_tokens

    async def final_response(self) -> Response:
        """Run to the end and return the response (``response.output_text`` for the text)."""
        await self.until_done()
        return self.accumulator.response()

    def current_response(self) -> Response:
        """The response accumulated so far (readable after an error too)."""
        return self.accumulator.response()

    def current_content(self) -> str:
        """All output text so far."""
        return self.accumulator.current_content()
