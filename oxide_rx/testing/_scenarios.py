"""Scenarios: what the mock server answers to one request.

A scenario is a small frozen value built with a classmethod of :class:`Scenario`. The same
scenario works on both model APIs; each API renders it in its own wire shape (the table is
in the package docstring). Every scenario can carry a :class:`~oxide_rx.testing.Fault`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgspec

from ._faults import Fault

__all__ = [
    "DefaultScenario",
    "ErrorScenario",
    "IncompleteScenario",
    "ReasoningScenario",
    "RefusalScenario",
    "ReplayScenario",
    "ResponseErrorScenario",
    "Scenario",
    "SyntheticScenario",
    "TextScenario",
    "ToolCallsScenario",
    "ToolUseScenario",
]

ToolCallSpec = tuple[str, "str | Mapping[str, object]"]

_STATUS_TYPES = {
    400: ("invalid_request_error", None),
    401: ("invalid_request_error", "invalid_api_key"),
    403: ("invalid_request_error", "unsupported_country_region_territory"),
    404: ("invalid_request_error", "not_found"),
    409: ("invalid_request_error", "conflict"),
    422: ("invalid_request_error", None),
    429: ("requests", "rate_limit_exceeded"),
}


@dataclass(frozen=True, kw_only=True)
class Scenario:
    """One answer of the mock server. Build it with the classmethods, never directly.

    >>> Scenario.text("Hello!").with_fault(Fault.drop_after(2)).fault == Fault.drop_after(2)
    True
    """

    fault: Fault | None = None
    """Wire fault applied while this answer is written (None: a clean answer)."""

    def for_request(self, body: Any) -> Scenario:
        """The scenario that answers a request with this JSON ``body`` (itself; a scenario
        that depends on the conversation, :meth:`tool_use`, picks its answer here)."""
        return self

    def with_fault(self, fault: Fault) -> Scenario:
        """The same scenario with ``fault`` merged into its fault (``fault`` wins)."""
        merged = fault if self.fault is None else self.fault | fault
        return dataclasses.replace(self, fault=merged)

    # --- constructors ---------------------------------------------------------------------

    @classmethod
    def default(cls, *, fault: Fault | None = None) -> Scenario:
        """A deterministic reply built from the last user message (what an empty queue serves)."""
        return DefaultScenario(fault=fault)

    @classmethod
    def text(cls, text: str, *, fault: Fault | None = None) -> Scenario:
        """Reply with exactly ``text``, in ~4-character deltas.

        >>> Scenario.text("Hi there").content
        'Hi there'
        """
        return TextScenario(content=text, fault=fault)

    @classmethod
    def tool_calls(
        cls, calls: Sequence[ToolCallSpec], *, stamp: bool = False, fault: Fault | None = None
    ) -> Scenario:
        """Parallel tool calls ``[(name, arguments), ...]``; arguments as JSON text or a dict.

        On the Responses API each call is one ``function_call`` output item. ``stamp=True``
        adds ``"x_stamp": time.monotonic_ns()`` to every chunk / event, taken as it is sent
        (with ``Fault.pace``, a test can order what a client did against what the server had
        sent, on the server's own clock).

        >>> Scenario.tool_calls([("get_weather", {"city": "Paris"})]).calls
        (('get_weather', '{"city":"Paris"}'),)
        """
        return ToolCallsScenario(calls=_normalised(calls), stamp=stamp, fault=fault)

    @classmethod
    def tool_use(
        cls,
        calls: Sequence[ToolCallSpec],
        answer: str | None = None,
        *,
        stamp: bool = False,
        fault: Fault | None = None,
    ) -> Scenario:
        """A model that uses tools: it answers with the parallel tool ``calls`` (as
        :meth:`tool_calls`), and a request that carries tool results (chat: the last message
        has role ``tool``; Responses: the input ends with ``function_call_output`` items)
        with a text: ``answer``, or by default ``"From the tools: "`` and the results, in
        order, joined with ``"; "``. ``fault`` applies to the tool-call answer only.

        The choice is made per request, from its body: enqueue it once per round (or make it
        the server's default scenario) for a tool runner's loop.

        >>> scenario = Scenario.tool_use([("add", {"a": 1, "b": 2})])
        >>> scenario.for_request({"messages": [{"role": "user", "content": "1+2?"}]}).calls
        (('add', '{"a":1,"b":2}'),)
        >>> scenario.for_request({"messages": [{"role": "tool", "content": "3"}]}).content
        'From the tools: 3'
        """
        return ToolUseScenario(calls=_normalised(calls), answer=answer, stamp=stamp,
                               fault=fault)

    @classmethod
    def structured(cls, value: Any, *, fault: Fault | None = None) -> Scenario:
        """Answer with ``value`` as JSON text (a structured output), in ~4-character deltas.

        >>> Scenario.structured({"cities": ["Oslo", "Lima"]}).content
        '{"cities":["Oslo","Lima"]}'
        """
        return TextScenario(content=msgspec.json.encode(value).decode(), fault=fault)

    @classmethod
    def function_calls(
        cls, calls: Sequence[ToolCallSpec], *, fault: Fault | None = None
    ) -> Scenario:
        """Alias of :meth:`tool_calls`, named after the Responses API item type."""
        return cls.tool_calls(calls, fault=fault)

    @classmethod
    def refusal(
        cls, text: str = "I'm sorry, but I can't help with that.", *, fault: Fault | None = None
    ) -> Scenario:
        """The model refuses: ``delta.refusal`` (Chat) or a ``refusal`` content part (Responses)."""
        return RefusalScenario(content=text, fault=fault)

    @classmethod
    def reasoning(
        cls,
        summary: str | Sequence[str] = "Thinking it through step by step.",
        text: str | None = None,
        *,
        reasoning_text: str | None = None,
        fault: Fault | None = None,
    ) -> Scenario:
        """A reasoning item (summary parts, optional raw ``reasoning_text``) then ``text``.

        ``text=None`` uses the default reply. Chat has no reasoning on the wire, so Chat
        serves only ``text``.
        """
        parts = (summary,) if isinstance(summary, str) else tuple(summary)
        return ReasoningScenario(
            summary=parts, answer=text, reasoning_text=reasoning_text, fault=fault
        )

    @classmethod
    def incomplete(
        cls,
        reason: str = "max_output_tokens",
        text: str | None = None,
        *,
        fault: Fault | None = None,
    ) -> Scenario:
        """The output stops early: ``response.incomplete`` with ``incomplete_details.reason``.

        Chat renders it as ``finish_reason`` ``"length"`` (or ``"content_filter"`` for that
        reason). ``text=None`` uses the first half of the default reply.
        """
        return IncompleteScenario(reason=reason, answer=text, fault=fault)

    @classmethod
    def error(
        cls,
        status: int,
        message: str | None = None,
        *,
        code: str | None = None,
        type: str | None = None,
        param: str | None = None,
        headers: Mapping[str, str] | None = None,
        fault: Fault | None = None,
    ) -> Scenario:
        """An HTTP error before any stream: ``status`` with ``{"error": {...}}`` JSON.

        >>> Scenario.error(429, headers={"retry-after": "1"}).status
        429
        """
        default_type, default_code = _STATUS_TYPES.get(
            status, ("server_error" if status >= 500 else "invalid_request_error", None)
        )
        return ErrorScenario(
            status=status,
            message=message or f"Mock error {status}",
            code=code if code is not None else default_code,
            error_type=type or default_type,
            param=param,
            headers=tuple((headers or {}).items()),
            fault=fault,
        )

    @classmethod
    def response_error(
        cls,
        code: str = "server_error",
        message: str = "The server had an error while processing your request.",
        *,
        fault: Fault | None = None,
    ) -> Scenario:
        """A failure inside a 200 stream.

        Responses: an ``error`` event (nested shape) then ``response.failed``. Chat: a
        ``data: {"error": {...}}`` frame and no ``[DONE]``. Non-streaming: HTTP 500.
        """
        return ResponseErrorScenario(code=code, message=message, fault=fault)

    @classmethod
    def replay(cls, path_or_name: str | Path, *, fault: Fault | None = None) -> Scenario:
        """Serve a recorded ``.sse`` file byte for byte (``text/event-stream``).

        A name that is not an existing path is looked up in the server's ``recordings_dir``
        (with or without the ``.sse`` suffix).
        """
        return ReplayScenario(source=str(path_or_name), fault=fault)

    @classmethod
    def synthetic(
        cls,
        events: int = 1000,
        delta: str = "abcd",
        interval: float = 0.0,
        stamp: bool = False,
        *,
        fault: Fault | None = None,
    ) -> Scenario:
        """``events`` content deltas of realistic chunk JSON, for benchmarks.

        ``stamp=True`` adds ``"x_stamp": time.monotonic_ns()`` taken when each delta is sent;
        ``interval > 0`` sends one delta per ``interval`` seconds.

        >>> Scenario.synthetic(events=3).events
        3
        """
        return SyntheticScenario(
            events=events, delta=delta, interval=interval, stamp=stamp, fault=fault
        )

    @classmethod
    def parse(cls, spec: str) -> Scenario:
        """Parse the ``X-Mock-Scenario`` header: ``name[:argument]``.

        ``default``, ``text:<text>``, ``tool_calls``, ``function_calls``, ``tool_use``
        (the weather calls, then an answer from their results), ``structured[:<json>]``,
        ``refusal[:<text>]``, ``reasoning``, ``incomplete[:<reason>]``,
        ``error:<status>[:<message>]``, ``response_error[:<code>[:<message>]]``,
        ``replay:<name>``, ``synthetic[:<events>]``. Raises ``ValueError`` otherwise.

        >>> Scenario.parse("error:429").status
        429
        """
        name, _, arg = spec.strip().partition(":")
        match name.strip().lower():
            case "default":
                return cls.default()
            case "text":
                return cls.text(arg or "Hello from the mock server.")
            case "tool_calls" | "function_calls":
                return cls.tool_calls(_WEATHER_CALLS)
            case "tool_use":
                return cls.tool_use(_WEATHER_CALLS)
            case "structured":
                return cls.structured(msgspec.json.decode(arg) if arg else _SAMPLE_DOCUMENT)
            case "refusal":
                return cls.refusal(arg) if arg else cls.refusal()
            case "reasoning":
                return cls.reasoning()
            case "incomplete":
                return cls.incomplete(arg or "max_output_tokens")
            case "error":
                status, _, message = arg.partition(":")
                return cls.error(int(status or 500), message or None)
            case "response_error":
                code, _, message = arg.partition(":")
                if message:
                    return cls.response_error(code or "server_error", message)
                return cls.response_error(code or "server_error")
            case "replay":
                return cls.replay(arg)
            case "synthetic":
                return cls.synthetic(events=int(arg or 1000))
        raise ValueError(f"unknown X-Mock-Scenario {spec!r}")


@dataclass(frozen=True, kw_only=True)
class DefaultScenario(Scenario):
    """See :meth:`Scenario.default`."""


@dataclass(frozen=True, kw_only=True)
class TextScenario(Scenario):
    """See :meth:`Scenario.text`."""

    content: str


@dataclass(frozen=True, kw_only=True)
class ToolCallsScenario(Scenario):
    """See :meth:`Scenario.tool_calls`; ``calls`` holds ``(name, arguments_json)`` pairs."""

    calls: tuple[tuple[str, str], ...]
    stamp: bool = False


@dataclass(frozen=True, kw_only=True)
class ToolUseScenario(Scenario):
    """See :meth:`Scenario.tool_use`."""

    calls: tuple[tuple[str, str], ...]
    answer: str | None = None
    stamp: bool = False

    def for_request(self, body: Any) -> Scenario:
        results = tool_results(body)
        if results is None:
            return ToolCallsScenario(calls=self.calls, stamp=self.stamp, fault=self.fault)
        answer = self.answer if self.answer is not None else "From the tools: " + "; ".join(
            results)
        return TextScenario(content=answer)


@dataclass(frozen=True, kw_only=True)
class RefusalScenario(Scenario):
    """See :meth:`Scenario.refusal`."""

    content: str


@dataclass(frozen=True, kw_only=True)
class ReasoningScenario(Scenario):
    """See :meth:`Scenario.reasoning`."""

    summary: tuple[str, ...]
    answer: str | None
    reasoning_text: str | None


@dataclass(frozen=True, kw_only=True)
class IncompleteScenario(Scenario):
    """See :meth:`Scenario.incomplete`."""

    reason: str
    answer: str | None


@dataclass(frozen=True, kw_only=True)
class ErrorScenario(Scenario):
    """See :meth:`Scenario.error`."""

    status: int
    message: str
    code: str | None
    error_type: str
    param: str | None
    headers: tuple[tuple[str, str], ...]

    def body(self) -> dict[str, object]:
        """The OpenAI error JSON for this error."""
        return error_body(self.message, self.error_type, self.code, self.param)


@dataclass(frozen=True, kw_only=True)
class ResponseErrorScenario(Scenario):
    """See :meth:`Scenario.response_error`."""

    code: str
    message: str


@dataclass(frozen=True, kw_only=True)
class ReplayScenario(Scenario):
    """See :meth:`Scenario.replay`."""

    source: str


@dataclass(frozen=True, kw_only=True)
class SyntheticScenario(Scenario):
    """See :meth:`Scenario.synthetic`."""

    events: int
    delta: str
    interval: float
    stamp: bool


def error_body(
    message: str, type_: str, code: str | None = None, param: str | None = None
) -> dict[str, object]:
    """``{"error": {message, type, param, code}}``, the shape of every OpenAI HTTP error."""
    return {"error": {"message": message, "type": type_, "param": param, "code": code}}


_WEATHER_CALLS: list[ToolCallSpec] = [
    ("get_weather", {"city": "Paris"}),
    ("get_weather", {"city": "Tokyo"}),
]
_SAMPLE_DOCUMENT = {
    "title": "Three cities",
    "cities": [
        {"name": "Oslo", "country": "Norway", "population": 717710},
        {"name": "Lima", "country": "Peru", "population": 10092000},
        {"name": "Osaka", "country": "Japan", "population": 2753862},
    ],
}
"""What ``X-Mock-Scenario: structured`` answers (the examples' schema)."""


def _normalised(calls: Sequence[ToolCallSpec]) -> tuple[tuple[str, str], ...]:
    return tuple(
        (name, args if isinstance(args, str) else msgspec.json.encode(args).decode())
        for name, args in calls
    )


def _text_of(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # content parts
        return "".join(str(part.get("text", "")) for part in content if isinstance(part, dict))
    return "" if content is None else msgspec.json.encode(content).decode()


def tool_results(body: Any) -> list[str] | None:
    """The tool results a request ends with (chat ``tool`` messages, Responses
    ``function_call_output`` items), in order; ``None`` when it does not end with any."""
    if not isinstance(body, Mapping):
        return None
    items = body.get("messages")
    chat = items is not None
    if not chat:
        items = body.get("input")
    if not isinstance(items, list):
        return None
    results: list[str] = []
    for item in reversed(items):
        if not isinstance(item, Mapping):
            break
        if chat and item.get("role") == "tool":
            results.append(_text_of(item.get("content")))
        elif not chat and item.get("type") == "function_call_output":
            results.append(_text_of(item.get("output")))
        else:
            break
    return results[::-1] or None
