"""Chat Completions payloads: ``chat.completion.chunk`` streams and ``chat.completion`` bodies.

Shapes follow the recorded corpus (wire-protocol reference §2): the first chunk of a choice
carries ``role``; text comes as ``delta.content``; refusals as ``delta.refusal`` after
``content: null, refusal: ""``; tool calls carry ``id``/``type``/``name`` on their first
fragment only; ``finish_reason`` comes on a chunk with ``delta: {}``; with
``stream_options.include_usage`` every chunk has ``usage: null`` and a final ``choices: []``
chunk carries the usage, just before ``data: [DONE]``.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import msgspec

from ._plan import BodyPlan, chat_frame
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
from ._text import (
    default_reply,
    last_user_text_chat,
    new_id,
    obfuscation,
    pieces,
    token_logprob,
)

__all__ = ["DONE_FRAME", "ChatParams", "chat_completion", "chat_stream"]

DONE_FRAME = b"data: [DONE]\n\n"


@dataclass(frozen=True)
class ChatParams:
    """The request fields the mock honours."""

    model: str = "gpt-4o-mini"
    n: int = 1
    include_usage: bool = False
    include_obfuscation: bool = True
    logprobs: bool = False
    top_logprobs: int = 0
    prompt: str = ""
    prompt_chars: int = 0

    @classmethod
    def from_body(cls, body: Any) -> ChatParams:
        """Read the parameters from a request body, with the API's defaults."""
        if not isinstance(body, Mapping):
            return cls()
        options = body.get("stream_options") or {}
        messages = body.get("messages")
        return cls(
            model=str(body.get("model") or "gpt-4o-mini"),
            n=max(1, int(body.get("n") or 1)),
            include_usage=bool(options.get("include_usage", False)),
            include_obfuscation=bool(options.get("include_obfuscation", True)),
            logprobs=bool(body.get("logprobs", False)),
            top_logprobs=int(body.get("top_logprobs") or 0),
            prompt=last_user_text_chat(messages),
            prompt_chars=len(msgspec.json.encode(messages)) if messages else 0,
        )


@dataclass
class _Choice:
    """What one choice says: text, a refusal, or tool calls."""

    text: str | None = None
    refusal: str | None = None
    calls: list[tuple[str, str, str]] = field(default_factory=list)  # (call_id, name, args)
    finish_reason: str = "stop"


def _choices(scenario: Scenario, params: ChatParams) -> list[_Choice]:
    out: list[_Choice] = []
    for i in range(params.n):
        match scenario:
            case TextScenario(content=text):
                out.append(_Choice(text=text))
            case RefusalScenario(content=text):
                out.append(_Choice(refusal=text))
            case ToolCallsScenario(calls=calls):
                out.append(
                    _Choice(
                        calls=[(new_id("call_")[:29], name, args) for name, args in calls],
                        finish_reason="tool_calls",
                    )
                )
            case ReasoningScenario(answer=text):
                out.append(_Choice(text=text or default_reply(params.prompt, i)))
            case IncompleteScenario(reason=reason, answer=text):
                partial = text if text is not None else default_reply(params.prompt, i)
                if text is None:
                    partial = partial[: len(partial) // 2]
                finish = "content_filter" if reason == "content_filter" else "length"
                out.append(_Choice(text=partial, finish_reason=finish))
            case _:
                out.append(_Choice(text=default_reply(params.prompt, i)))
    return out


def _said(choice: _Choice) -> str:
    return choice.text or choice.refusal or "".join(args for _, _, args in choice.calls)


def _completion_tokens(choices: list[_Choice]) -> int:
    return sum(len(pieces(_said(choice))) for choice in choices)


def _usage(params: ChatParams, completion_tokens: int) -> dict[str, Any]:
    prompt_tokens = max(1, params.prompt_chars // 4)
    return {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
        "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": 0,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    }


class _ChunkMaker:
    """Builds chunk dicts with the header fields every chunk of one stream shares."""

    def __init__(self, params: ChatParams) -> None:
        self.params = params
        self.header = {
            "id": new_id("chatcmpl-mock"),
            "object": "chat.completion.chunk",
            "created": int(time.time()),
            "model": params.model,
            "service_tier": "default",
            "system_fingerprint": "fp_mock",
        }
        self.count = 0
        self.stamp = False  # x_stamp: the send time, on chunks built as they are sent

    def chunk(self, choices: list[dict[str, Any]], usage: Any = None) -> dict[str, Any]:
        chunk: dict[str, Any] = {**self.header, "choices": choices}
        if self.stamp:
            chunk["x_stamp"] = time.monotonic_ns()
        if self.params.include_usage:
            chunk["usage"] = usage
        if self.params.include_obfuscation:
            delta = choices[0]["delta"] if choices else {}
            chunk["obfuscation"] = obfuscation(self.count, str(delta.get("content") or ""))
        self.count += 1
        return chunk

    def choice(self, index: int, delta: dict[str, Any], logprobs: Any = None) -> dict[str, Any]:
        return {"index": index, "delta": delta, "logprobs": logprobs, "finish_reason": None}


def _choice_chunks(make: _ChunkMaker, index: int, choice: _Choice) -> Iterator[dict[str, Any]]:
    """The choice dicts of one choice, in stream order."""
    params = make.params
    top = params.top_logprobs
    if choice.calls:
        yield make.choice(index, {"role": "assistant", "content": None})
        for k, (call_id, name, args) in enumerate(choice.calls):
            first = {"index": k, "id": call_id, "type": "function"}
            yield make.choice(
                index, {"tool_calls": [{**first, "function": {"name": name, "arguments": ""}}]}
            )
            for piece in pieces(args):
                fragment = {"index": k, "function": {"arguments": piece}}
                yield make.choice(index, {"tool_calls": [fragment]})
    elif choice.refusal is not None:
        lp0: dict[str, Any] | None = None
        if params.logprobs:
            lp0 = {"content": None, "refusal": []}
        yield make.choice(index, {"role": "assistant", "content": None, "refusal": ""}, lp0)
        for t, piece in enumerate(pieces(choice.refusal)):
            lp = {"content": None, "refusal": [token_logprob(piece, t, top)]}
            yield make.choice(index, {"refusal": piece}, lp if params.logprobs else None)
    else:
        lp0 = {"content": [], "refusal": None} if params.logprobs else None
        yield make.choice(index, {"role": "assistant", "content": "", "refusal": None}, lp0)
        for t, piece in enumerate(pieces(choice.text or "")):
            lp = {"content": [token_logprob(piece, t, top)], "refusal": None}
            yield make.choice(index, {"content": piece}, lp if params.logprobs else None)
    yield {"index": index, "delta": {}, "logprobs": None, "finish_reason": choice.finish_reason}


def _interleaved(scenario: Scenario, params: ChatParams) -> Iterator[bytes]:
    make = _ChunkMaker(params)
    if isinstance(scenario, ResponseErrorScenario):
        yield chat_frame(make.chunk([make.choice(0, {"role": "assistant", "content": ""})]))
        error = {"message": scenario.message, "type": scenario.code, "param": None}
        yield chat_frame({"error": {**error, "code": scenario.code}})
        return
    make.stamp = isinstance(scenario, ToolCallsScenario) and scenario.stamp
    choices = _choices(scenario, params)
    streams = [_choice_chunks(make, i, c) for i, c in enumerate(choices)]
    # n > 1: one chunk per choice in turn, as the API does (reference §2, chat-n2-usage.sse).
    while streams:
        for stream in list(streams):
            item = next(stream, None)
            if item is None:
                streams.remove(stream)
                continue
            yield chat_frame(make.chunk([item]))
    if params.include_usage:
        yield chat_frame(make.chunk([], usage=_usage(params, _completion_tokens(choices))))
    yield DONE_FRAME


def _synthetic(scenario: SyntheticScenario, params: ChatParams) -> Iterator[bytes]:
    make = _ChunkMaker(params)
    yield chat_frame(make.chunk([make.choice(0, {"role": "assistant", "content": ""})]))
    chunk = make.chunk([make.choice(0, {"content": scenario.delta})])
    if scenario.stamp:
        # The stamp must be taken when the frame is sent: splice it into pre-encoded bytes.
        body = msgspec.json.encode(chunk)
        head, tail = b'data: {"x_stamp":', b"," + body[1:] + b"\n\n"
        for _ in range(scenario.events):
            yield head + str(time.monotonic_ns()).encode() + tail
    else:
        frame = chat_frame(chunk)
        for _ in range(scenario.events):
            yield frame
    yield chat_frame(
        make.chunk([{"index": 0, "delta": {}, "logprobs": None, "finish_reason": "stop"}])
    )
    if params.include_usage:
        yield chat_frame(make.chunk([], usage=_usage(params, scenario.events)))
    yield DONE_FRAME


def chat_stream(scenario: Scenario, params: ChatParams) -> BodyPlan:
    """The SSE body of a streaming chat completion for ``scenario``."""
    maker = _ChunkMaker(params)

    def delta_frame(text: str) -> bytes:
        return chat_frame(maker.chunk([maker.choice(0, {"content": text})]))

    if isinstance(scenario, SyntheticScenario):
        frames: Iterator[bytes] = _synthetic(scenario, params)
        interval = scenario.interval
    else:
        frames, interval = _interleaved(scenario, params), 0.0
    return BodyPlan(
        frames=frames,
        interval=interval,
        delta_frame=delta_frame,
        json_body=lambda: chat_completion(scenario, params),
    )


def chat_completion(scenario: Scenario, params: ChatParams) -> dict[str, Any]:
    """The non-streaming ``chat.completion`` body for ``scenario``."""
    if isinstance(scenario, SyntheticScenario):
        choices = [_Choice(text=scenario.delta * scenario.events)]
    else:
        choices = _choices(scenario, params)
    out_choices: list[dict[str, Any]] = []
    for i, choice in enumerate(choices):
        message: dict[str, Any] = {
            "role": "assistant",
            "content": choice.text,
            "refusal": choice.refusal,
            "annotations": [],
        }
        if choice.calls:
            message["tool_calls"] = [
                {"id": cid, "type": "function", "function": {"name": name, "arguments": args}}
                for cid, name, args in choice.calls
            ]
        tokens = pieces(_said(choice))
        logprobs = None
        if params.logprobs:
            entries = [token_logprob(p, t, params.top_logprobs) for t, p in enumerate(tokens)]
            is_refusal = choice.refusal is not None
            logprobs = {
                "content": None if is_refusal else entries,
                "refusal": entries if is_refusal else None,
            }
        out_choices.append(
            {
                "index": i,
                "message": message,
                "logprobs": logprobs,
                "finish_reason": choice.finish_reason,
            }
        )
    return {
        "id": new_id("chatcmpl-mock"),
        "object": "chat.completion",
        "created": int(time.time()),
        "model": params.model,
        "choices": out_choices,
        "usage": _usage(params, _completion_tokens(choices)),
        "service_tier": "default",
        "system_fingerprint": "fp_mock",
    }
