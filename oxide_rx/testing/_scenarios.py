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
    def tool_calls(cls, calls: Sequence[ToolCallSpec], *, fault: Fault | None = None) -> Scenario:
        """Parallel tool calls ``[(name, arguments), ...]``; arguments as JSON text or a dict.

        On the Responses API each call is one ``function_call`` output item.

        >>> Scenario.tool_calls([("get_weather", {"city": "Paris"})]).calls
        (('get_weather', '{"city":"Paris"}'),)
        """
        normalised = tuple(
            (name, args if isinstance(args, str) else msgspec.json.encode(args).decode())
            for name, args in calls
        )
        return ToolCallsScenario(calls=normalised, fault=fault)

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

        ``default``, ``text:<text>``, ``tool_calls``, ``function_calls``,
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
                return cls.tool_calls(
                    [("get_weather", {"city": "Paris"}), ("get_weather", {"city": "Tokyo"})]
                )
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
