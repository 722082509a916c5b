"""Responses API payloads: the canonical event sequence and the ``response`` object.

Order (wire-protocol reference §4.1): ``response.created`` → [``response.queued``, background
only] → ``response.in_progress`` → per output item ``output_item.added`` → its sub-events →
``output_item.done`` → one terminal event (``response.completed`` / ``response.incomplete`` /
``response.failed``). ``sequence_number`` counts from 0 without gaps; frames are
``event: <type>`` + ``data: <json>``; there is no ``[DONE]``.
"""

from __future__ import annotations

import time
from collections.abc import Generator, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import msgspec

from ._plan import BodyPlan, event_frame
from ._scenarios import (
    IncompleteScenario,
    ReasoningScenario,
    RefusalScenario,
    ResponseErrorScenario,
    Scenario,
    SyntheticScenario,
    TextScenario,
    ToolCallsScenario,
)
from ._text import default_reply, last_user_text_responses, new_id, obfuscation, pieces

__all__ = ["ResponseRun", "ResponsesParams"]

Frames = Iterator[tuple[int, bytes]]
_Items = Generator[bytes, None, dict[str, Any]]


@dataclass(frozen=True)
class ResponsesParams:
    """The request fields the mock honours or echoes back."""

    model: str = "gpt-4o-mini"
    prompt: str = ""
    prompt_chars: int = 0
    background: bool = False
    store: bool = True
    include_obfuscation: bool = True
    echo: tuple[tuple[str, Any], ...] = ()

    @classmethod
    def from_body(cls, body: Any) -> ResponsesParams:
        """Read the parameters from a request body, with the API's defaults."""
        if not isinstance(body, Mapping):
            return cls()
        options = body.get("stream_options") or {}
        echoed = ("instructions", "max_output_tokens", "previous_response_id", "metadata")
        return cls(
            model=str(body.get("model") or "gpt-4o-mini"),
            prompt=last_user_text_responses(body.get("input")),
            prompt_chars=len(msgspec.json.encode(body.get("input"))),
            background=bool(body.get("background", False)),
            store=bool(body.get("store", True)),
            include_obfuscation=bool(options.get("include_obfuscation", True)),
            echo=tuple((key, body[key]) for key in echoed if body.get(key) is not None),
        )


class ResponseRun:
    """One generated response: its id, its events (lazily) and its final ``response`` object.

    ``events()`` yields ``(sequence_number, frame)`` pairs; once the terminal event has been
    generated, :attr:`final` holds the response object it carried.
    """

    def __init__(self, scenario: Scenario, params: ResponsesParams) -> None:
        self.scenario = scenario
        self.params = params
        self.id = new_id("resp_mock")
        self.created_at = int(time.time())
        self.final: dict[str, Any] | None = None
        self._seq = 0
        # x_stamp: the send time, on events built as they are sent (Scenario.tool_calls)
        self._stamp = isinstance(scenario, ToolCallsScenario) and scenario.stamp

    # --- objects ----------------------------------------------------------------------------

    def snapshot(
        self,
        status: str,
        output: list[dict[str, Any]] | None = None,
        *,
        usage: dict[str, Any] | None = None,
        error: dict[str, Any] | None = None,
        incomplete_reason: str | None = None,
    ) -> dict[str, Any]:
        """The ``response`` object in state ``status``."""
        echo = dict(self.params.echo)
        return {
            "id": self.id,
            "object": "response",
            "created_at": self.created_at,
            "status": status,
            "background": self.params.background,
            "completed_at": int(time.time()) if status == "completed" else None,
            "error": error,
            "incomplete_details": (
                {"reason": incomplete_reason} if incomplete_reason is not None else None
            ),
            "instructions": echo.get("instructions"),
            "max_output_tokens": echo.get("max_output_tokens"),
            "model": self.params.model,
            "output": output or [],
            "parallel_tool_calls": True,
            "previous_response_id": echo.get("previous_response_id"),
            "reasoning": {"effort": None, "summary": None},
            "service_tier": "default" if status == "completed" else "auto",
            "store": self.params.store,
            "temperature": 1.0,
            "text": {"format": {"type": "text"}, "verbosity": "medium"},
            "tool_choice": "auto",
            "tools": [],
            "top_p": 1.0,
            "truncation": "disabled",
            "usage": usage,
            "user": None,
            "metadata": echo.get("metadata") or {},
        }

    def _usage(self, output_tokens: int, reasoning_tokens: int = 0) -> dict[str, Any]:
        input_tokens = max(1, self.params.prompt_chars // 4)
        total_output = output_tokens + reasoning_tokens
        return {
            "input_tokens": input_tokens,
            "input_tokens_details": {"cached_tokens": 0},
            "output_tokens": total_output,
            "output_tokens_details": {"reasoning_tokens": reasoning_tokens},
            "total_tokens": input_tokens + total_output,
        }

    def _event(self, type_: str, **fields: Any) -> bytes:
        event = {"type": type_, "sequence_number": self._seq, **fields}
        if self._stamp:
            event["x_stamp"] = time.monotonic_ns()
        self._seq += 1
        return event_frame(event)

    def _obf(self, fields: dict[str, Any], delta: str) -> dict[str, Any]:
        if self.params.include_obfuscation:
            fields["obfuscation"] = obfuscation(self._seq, delta)
        return fields

    # --- output items -----------------------------------------------------------------------

    def _message(self, index: int, text: str, *, refusal: bool, status: str) -> _Items:
        item_id = new_id("msg_mock")
        at = {"item_id": item_id, "output_index": index}
        item = {"id": item_id, "type": "message", "status": "in_progress", "content": []}
        yield self._event("response.output_item.added", output_index=index, item=item)
        if refusal:
            part: dict[str, Any] = {"type": "refusal", "refusal": ""}
            yield self._event("response.content_part.added", **at, content_index=0, part=part)
            for piece in pieces(text):
                yield self._event("response.refusal.delta", **at, content_index=0, delta=piece)
            yield self._event("response.refusal.done", **at, content_index=0, refusal=text)
            part = {"type": "refusal", "refusal": text}
        else:
            part = {"type": "output_text", "annotations": [], "logprobs": [], "text": ""}
            yield self._event("response.content_part.added", **at, content_index=0, part=part)
            for piece in pieces(text):
                fields = self._obf({"content_index": 0, "delta": piece, "logprobs": []}, piece)
                yield self._event("response.output_text.delta", **at, **fields)
            yield self._event(
                "response.output_text.done", **at, content_index=0, text=text, logprobs=[]
            )
            part = {**part, "text": text}
        yield self._event("response.content_part.done", **at, content_index=0, part=part)
        done = {**item, "status": status, "content": [part], "role": "assistant"}
        yield self._event("response.output_item.done", output_index=index, item=done)
        return done

    def _function_call(self, index: int, name: str, arguments: str) -> _Items:
        item_id = new_id("fc_mock")
        at = {"item_id": item_id, "output_index": index}
        item = {
            "id": item_id,
            "type": "function_call",
            "status": "in_progress",
            "arguments": "",
            "call_id": new_id("call_")[:29],
            "name": name,
        }
        yield self._event("response.output_item.added", output_index=index, item=item)
        for piece in pieces(arguments):
            fields = self._obf({"delta": piece}, piece)
            yield self._event("response.function_call_arguments.delta", **at, **fields)
        yield self._event("response.function_call_arguments.done", **at, arguments=arguments)
        done = {**item, "status": "completed", "arguments": arguments}
        yield self._event("response.output_item.done", output_index=index, item=done)
        return done

    def _reasoning(self, index: int, scenario: ReasoningScenario) -> _Items:
        item_id = new_id("rs_mock")
        at = {"item_id": item_id, "output_index": index}
        item: dict[str, Any] = {"id": item_id, "type": "reasoning", "summary": []}
        yield self._event("response.output_item.added", output_index=index, item=item)
        content = []
        if scenario.reasoning_text is not None:
            text = scenario.reasoning_text
            part = {"type": "reasoning_text", "text": ""}
            yield self._event("response.content_part.added", **at, content_index=0, part=part)
            for piece in pieces(text):
                fields = self._obf({"content_index": 0, "delta": piece}, piece)
                yield self._event("response.reasoning_text.delta", **at, **fields)
            yield self._event("response.reasoning_text.done", **at, content_index=0, text=text)
            content.append({"type": "reasoning_text", "text": text})
            yield self._event("response.content_part.done", **at, content_index=0, part=content[-1])
        summary = []
        for si, text in enumerate(scenario.summary):
            empty = {"type": "summary_text", "text": ""}
            yield self._event(
                "response.reasoning_summary_part.added", **at, summary_index=si, part=empty
            )
            for piece in pieces(text):
                fields = self._obf({"summary_index": si, "delta": piece}, piece)
                yield self._event("response.reasoning_summary_text.delta", **at, **fields)
            yield self._event(
                "response.reasoning_summary_text.done", **at, summary_index=si, text=text
            )
            summary.append({"type": "summary_text", "text": text})
            yield self._event(
                "response.reasoning_summary_part.done", **at, summary_index=si, part=summary[-1]
            )
        done = {**item, "summary": summary}
        if content:
            done["content"] = content
        yield self._event("response.output_item.done", output_index=index, item=done)
        return done

    # --- the whole stream -------------------------------------------------------------------

    def _lifecycle_start(self) -> Iterator[bytes]:
        first = "queued" if self.params.background else "in_progress"
        yield self._event("response.created", response=self.snapshot(first))
        if self.params.background:
            yield self._event("response.queued", response=self.snapshot("queued"))
        yield self._event("response.in_progress", response=self.snapshot("in_progress"))

    def _body(self) -> Iterator[bytes]:
        scenario, prompt = self.scenario, self.params.prompt
        yield from self._lifecycle_start()
        if isinstance(scenario, ResponseErrorScenario):
            error = {"type": scenario.code, "code": scenario.code, "message": scenario.message}
            yield self._event("error", error={**error, "param": None})
            failed = {"code": scenario.code, "message": scenario.message}
            self.final = self.snapshot("failed", error=failed)
            yield self._event("response.failed", response=self.final)
            return
        output: list[dict[str, Any]] = []
        said: list[str] = []
        reasoning_tokens = 0
        incomplete: str | None = None
        match scenario:
            case ToolCallsScenario(calls=calls):
                for name, args in calls:
                    output.append((yield from self._function_call(len(output), name, args)))
                    said.append(args)
            case RefusalScenario(content=text):
                output.append((yield from self._message(0, text, refusal=True, status="completed")))
                said.append(text)
            case ReasoningScenario(answer=text):
                output.append((yield from self._reasoning(0, scenario)))
                thought = "".join(scenario.summary) + (scenario.reasoning_text or "")
                reasoning_tokens = len(pieces(thought))
                answer = text if text is not None else default_reply(prompt)
                output.append(
                    (yield from self._message(1, answer, refusal=False, status="completed"))
                )
                said.append(answer)
            case IncompleteScenario(reason=reason, answer=text):
                partial = text if text is not None else default_reply(prompt)
                if text is None:
                    partial = partial[: len(partial) // 2]
                incomplete = reason
                output.append(
                    (yield from self._message(0, partial, refusal=False, status="incomplete"))
                )
                said.append(partial)
            case _:
                reply = scenario.content if isinstance(scenario, TextScenario) else None
                answer = reply if reply is not None else default_reply(prompt)
                output.append(
                    (yield from self._message(0, answer, refusal=False, status="completed"))
                )
                said.append(answer)
        usage = self._usage(len(pieces("".join(said))), reasoning_tokens)
        if incomplete is not None:
            self.final = self.snapshot(
                "incomplete", output, usage=usage, incomplete_reason=incomplete
            )
            yield self._event("response.incomplete", response=self.final)
        else:
            self.final = self.snapshot("completed", output, usage=usage)
            yield self._event("response.completed", response=self.final)

    def _synthetic(self, scenario: SyntheticScenario) -> Iterator[bytes]:
        yield from self._lifecycle_start()
        item_id = new_id("msg_mock")
        at = {"item_id": item_id, "output_index": 0}
        item = {"id": item_id, "type": "message", "status": "in_progress", "content": []}
        yield self._event("response.output_item.added", output_index=0, item=item)
        part = {"type": "output_text", "annotations": [], "logprobs": [], "text": ""}
        yield self._event("response.content_part.added", **at, content_index=0, part=part)
        # Pre-encode everything but the sequence number (and the send-time stamp).
        rest = msgspec.json.encode(
            self._obf({**at, "content_index": 0, "delta": scenario.delta, "logprobs": []}, "")
        )
        head = b'event: response.output_text.delta\ndata: {"type":"response.output_text.delta"'
        tail = b"," + rest[1:] + b"\n\n"
        for _ in range(scenario.events):
            seq = str(self._seq).encode()
            self._seq += 1
            if scenario.stamp:
                stamp = str(time.monotonic_ns()).encode()
                yield head + b',"sequence_number":' + seq + b',"x_stamp":' + stamp + tail
            else:
                yield head + b',"sequence_number":' + seq + tail
        text = scenario.delta * scenario.events
        yield self._event(
            "response.output_text.done", **at, content_index=0, text=text, logprobs=[]
        )
        part = {**part, "text": text}
        yield self._event("response.content_part.done", **at, content_index=0, part=part)
        done = {**item, "status": "completed", "content": [part], "role": "assistant"}
        yield self._event("response.output_item.done", output_index=0, item=done)
        self.final = self.snapshot("completed", [done], usage=self._usage(scenario.events))
        yield self._event("response.completed", response=self.final)

    def events(self) -> Frames:
        """Generate the stream: ``(sequence_number, frame)`` pairs, numbered from 0."""
        self._seq = 0
        if isinstance(self.scenario, SyntheticScenario):
            frames = self._synthetic(self.scenario)
        else:
            frames = self._body()
        for frame in frames:
            yield self._seq - 1, frame

    def json_body(self) -> dict[str, Any]:
        """The non-streaming body: the final response object."""
        if self.final is None:
            for _ in self.events():
                pass
        assert self.final is not None  # every generator path sets it before it ends
        return self.final

    def plan(self, frames: Frames | None = None) -> BodyPlan:
        """The SSE body; ``frames`` replays stored pairs instead of generating new ones."""
        source = frames if frames is not None else self.events()
        interval = self.scenario.interval if isinstance(self.scenario, SyntheticScenario) else 0.0

        def delta_frame(text: str) -> bytes:
            fields = {"item_id": "msg_oversized", "output_index": 0, "content_index": 0}
            event = {"type": "response.output_text.delta", "sequence_number": self._seq}
            return event_frame({**event, **fields, "delta": text, "logprobs": []})

        return BodyPlan(
            frames=(frame for _, frame in source),
            interval=interval,
            delta_frame=delta_frame,
            json_body=self.json_body,
        )
