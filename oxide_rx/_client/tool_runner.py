"""The tool runner: stream a round, start each tool the moment its arguments close, send the
results back, and loop until the model answers (``client.chat.completions.run_tools``,
``client.responses.run_tools``).

Policies (what the issue left open, decided here):

- **Early start.** Each call's ``arguments_delta`` s feed a parser of the runner's own; the
  call starts when its JSON document closes, while the model streams the later calls (for
  the last call of a chat round that is before ``ToolCallDone``, which waits for the
  ``finish_reason``). A call whose arguments never close as JSON starts at ``ToolCallDone``
  and gets an error result.
- **Errors.** A tool that raises, arguments that do not validate, an unknown tool: an error
  result the model reads (``"Error: ..."``), unless ``on_tool_error="raise"``, which stops the
  run with :class:`~oxide_rx.ToolRunError` (the tool's exception as ``__cause__``).
- **Time.** Every tool call has ``tool_timeout`` seconds (default 60; a timed-out call is a
  ``"timeout"`` result); ``approve`` has ``approval_timeout`` (default 300; no answer is no);
  each round's stream has the client's idle timeout.
- **Approval.** ``approve(name, arguments)`` (sync or async) runs before each tool; anything
  but ``True`` sends a ``"denied"`` result instead. A hook that raises stops the run.
- **Rounds.** ``max_rounds`` model requests (default 8). In the last one no tool starts: if
  the model still asks for tools, the run fails with :class:`~oxide_rx.ToolRunError`.
- **Threads.** Sync tools run in a worker thread (``asyncio.to_thread``), async tools on the
  loop. Cancelling the run (``aclose()``, leaving ``async with``, cancelling the consuming
  task, the last subscriber leaving) cancels the running tools and the request; a sync tool
  already running in its thread finishes there, unobserved (threads cannot be cancelled).
- **Only choice 0** runs tools (``n > 1`` rounds answer with the first choice).
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, Literal, TypeAlias, TypeVar, cast

from .._core.partial_json import PartialJSONParser
from .._core.tools import Tool, ToolRunError, tool, tool_output
from .._exceptions import DecodeError, OxideRxError
from .._stream.hot import CLOSE_GRACE_SECONDS, HotSource
from .._stream.lifetime import StreamHandle
from ..events import ToolCallDelta, ToolCallDone, ToolResult, ToolStarted

__all__ = [
    "DEFAULT_MAX_ROUNDS",
    "DEFAULT_TOOL_TIMEOUT",
    "Approve",
    "RunPolicy",
    "ToolErrorPolicy",
    "ToolRun",
    "as_tools",
]

Approve: TypeAlias = Callable[[str, dict[str, Any]], "bool | Awaitable[bool]"]
"""``approve(tool_name, keyword_arguments)``: may the tool run with these arguments?"""
ToolErrorPolicy: TypeAlias = Literal["report", "raise"]

DEFAULT_MAX_ROUNDS = 8
DEFAULT_TOOL_TIMEOUT = 60.0
DEFAULT_APPROVAL_TIMEOUT = 300.0

_E = TypeVar("_E")
_F = TypeVar("_F")
_On = TypeVar("_On")


@dataclass(frozen=True, kw_only=True)
class RunPolicy:
    """How a run treats its tools (``run_tools``' keyword arguments; see the module)."""

    max_rounds: int = DEFAULT_MAX_ROUNDS
    tool_timeout: float | None = DEFAULT_TOOL_TIMEOUT
    on_tool_error: ToolErrorPolicy = "report"
    approve: Approve | None = None
    approval_timeout: float | None = DEFAULT_APPROVAL_TIMEOUT

    def __post_init__(self) -> None:
        if self.max_rounds < 1:
            raise ValueError("max_rounds must be at least 1")
        if self.on_tool_error not in ("report", "raise"):
            raise ValueError("on_tool_error must be 'report' or 'raise'")


def as_tools(tools: Sequence[Any]) -> tuple[list[Any], dict[str, Tool[Any]]]:
    """The request's ``tools`` (functions made into :class:`Tool` s, other entries as they
    are: hosted tools, JSON definitions) and the runnable ones by name."""
    entries: list[Any] = []
    runnable: dict[str, Tool[Any]] = {}
    for entry in tools:
        if callable(entry) and not isinstance(entry, Tool | dict):
            entry = tool(entry)
        if isinstance(entry, Tool):
            runnable[entry.name] = entry
        entries.append(entry)
    return entries, runnable


class _Call:
    """One tool call of the current round."""

    __slots__ = ("call_id", "index", "name", "output_index", "parser", "task")

    def __init__(self, event: ToolCallDelta | ToolCallDone) -> None:
        self.index = event.index
        self.call_id = event.call_id
        self.name = event.name
        self.output_index = event.output_index
        self.parser = PartialJSONParser()  # the runner's own: it never slows a reader's
        self.task: asyncio.Task[ToolResult] | None = None


class ToolRun(HotSource[_E], Generic[_E, _F]):
    """A tool run: every round's stream events, then ``ToolStarted`` / ``ToolResult`` for its
    tools, on one hot event stream; the final answer at the end.

    Use :class:`ChatToolRun` / :class:`ResponseToolRun` (from ``run_tools``). Like a stream,
    it is hot and single-use: subscribe (``on``, ``events``), then start it (``async for``,
    ``until_done()``, the ``final_*()`` method, ``start()``).
    """

    def __init__(self, tools: Sequence[Any], policy: RunPolicy) -> None:
        self.tools, self._runnable = as_tools(tools)
        self.policy = policy
        self.round = 0
        """The model request in progress (from 1)."""
        self.results: list[ToolResult] = []
        """Every tool result so far, all rounds."""
        self.answers: list[_F] = []
        """The completion (chat) / response of every finished round, in order."""
        self._calls: dict[int, _Call] = {}
        self._tool_tasks: set[asyncio.Task[ToolResult]] = set()
        self._stream: StreamHandle[Any] | None = None
        self._failure: ToolRunError | None = None
        self._final: _F | None = None
        super().__init__()

    # -- what the two APIs define ---------------------------------------------------------

    async def _open_round(self) -> StreamHandle[Any]:
        raise NotImplementedError

    def _snapshot(self, stream: StreamHandle[Any]) -> _F:
        raise NotImplementedError

    def _calls_in(self, final: _F) -> list[tuple[str, str]]:
        """The (call_id, name) of each function call the round's answer holds, in order."""
        raise NotImplementedError

    def _next_round(self, final: _F, results: list[ToolResult]) -> None:
        raise NotImplementedError

    # -- public surface -------------------------------------------------------------------

    def start(self) -> None:
        """Begin the first round (idempotent)."""
        if self._task is None and not self._done.done():
            self._task = asyncio.get_running_loop().create_task(self._main())

    async def aclose(self) -> None:
        """Stop: cancel the running tools and the request in flight, end every subscriber."""
        await self._cancel_task()
        if not self._done.done():
            self._end(self._stopped("The tool run was closed before it finished."), quiet=True)

    async def _final_value(self) -> _F:
        await self.until_done()
        assert self._final is not None
        return self._final

    # -- the loop -------------------------------------------------------------------------

    async def _main(self) -> None:
        try:
            await self._rounds()
        except asyncio.CancelledError:
            if self._failure is not None:
                self._end(self._failure)
            elif not self._closing:
                raise
        except OxideRxError as error:
            self._end(error)
        except Exception as error:  # a hook (approve) raised: typed, with the cause
            failure = self._stopped(f"The tool run failed: {type(error).__name__}: {error}")
            failure.__cause__ = error
            self._end(failure)
        finally:
            await self._cancel_tools()
            if self._stream is not None and not self._stream.finished:
                await self._stream.aclose()
            if not self._done.done():
                self._end(self._stopped("The tool run was closed before it finished."),
                          quiet=True)

    async def _rounds(self) -> None:
        while True:
            self.round += 1
            self._calls = {}
            stream = self._stream = await self._open_round()
            stream.on(object, self._on_event)
            await stream.until_done()
            final = self._snapshot(stream)
            self.answers.append(final)
            calls = self._calls_in(final)
            if not calls:
                self._final = final
                self._end(None)
                return
            if self.round >= self.policy.max_rounds:
                raise self._stopped("The model still asked for tools after max_rounds="
                                    f"{self.policy.max_rounds} requests.")
            results = await self._results(calls)
            self.results += results
            self._next_round(final, results)

    def _on_event(self, event: Any) -> None:
        self._fanout.emit(event)
        if self.round >= self.policy.max_rounds:
            return  # the last round runs no tool (its result could not be sent)
        if isinstance(event, ToolCallDelta) and not event.choice:
            call = self._calls.get(event.index)
            if call is None:
                call = self._calls[event.index] = _Call(event)
            if call.task is None and event.arguments_delta:
                call.parser.feed(event.arguments_delta)
                if call.parser.complete:  # the JSON closed: start now
                    self._start(call, event.arguments_snapshot, early=True)
        elif isinstance(event, ToolCallDone) and not event.choice:
            call = self._calls.get(event.index)
            if call is None:
                call = self._calls[event.index] = _Call(event)
            call.call_id = call.call_id or event.call_id
            if call.task is None:
                self._start(call, event.arguments, early=False)

    def _start(self, call: _Call, arguments: str, *, early: bool) -> None:
        task = asyncio.get_running_loop().create_task(self._execute(call, arguments, early))
        call.task = task
        self._tool_tasks.add(task)
        task.add_done_callback(self._tool_done)

    def _tool_done(self, task: asyncio.Task[ToolResult]) -> None:
        self._tool_tasks.discard(task)
        if not task.cancelled():
            # Seen here, so a call the run never waited for (it ended first) is not reported
            # as an unretrieved exception; the round that waits for it still gets it.
            task.exception()

    async def _results(self, calls: list[tuple[str, str]]) -> list[ToolResult]:
        by_id = {call.call_id: call for call in self._calls.values() if call.task is not None}
        waiting: list[Awaitable[ToolResult]] = []
        for call_id, name in calls:
            call = by_id.get(call_id)
            if call is None or call.task is None:  # not seen on the stream: report, not run
                waiting.append(self._unknown(call_id, name))
            else:
                waiting.append(call.task)
        return list(await asyncio.gather(*waiting))

    async def _unknown(self, call_id: str, name: str) -> ToolResult:
        return self._emit_result(ToolResult(
            call_id=call_id, name=name, output="Error: this call did not arrive complete.",
            status="error", error="the call did not arrive complete", round=self.round))

    # -- one tool call --------------------------------------------------------------------

    async def _execute(self, call: _Call, arguments: str, early: bool) -> ToolResult:
        base: dict[str, Any] = {"call_id": call.call_id, "name": call.name, "index": call.index,
                "output_index": call.output_index, "round": self.round}
        runnable = self._runnable.get(call.name)
        if runnable is None:
            return self._failed(base, f"there is no tool named {call.name!r}")
        try:
            keywords = runnable.parse_arguments(arguments)
        except DecodeError as error:
            return self._failed(base, f"invalid arguments: {error}")
        if self.policy.approve is not None and not await self._approved(call.name, keywords):
            return self._emit_result(ToolResult(
                **base, output="The user did not approve this call.", status="denied"))
        self._fanout.emit(cast(_E, ToolStarted(
            **base, arguments=arguments, parsed_arguments=keywords, early=early)))
        try:
            if runnable.is_async:
                running: Awaitable[Any] = runnable.function(**keywords)
            else:
                running = asyncio.to_thread(runnable.function, **keywords)
            value = await asyncio.wait_for(running, self.policy.tool_timeout)
            output = tool_output(value)
        except TimeoutError:
            message = f"the tool did not finish within {self.policy.tool_timeout:g} s"
            return self._emit_result(ToolResult(
                **base, output=f"Error: {message}.", status="timeout", error=message))
        except Exception as error:
            if self.policy.on_tool_error == "raise":
                self._fail(call.name, error)
            return self._failed(base, f"{type(error).__name__}: {error}")
        return self._emit_result(ToolResult(**base, output=output, value=value))

    async def _approved(self, name: str, keywords: dict[str, Any]) -> bool:
        assert self.policy.approve is not None
        answer = self.policy.approve(name, keywords)
        if inspect.isawaitable(answer):
            try:
                answer = await asyncio.wait_for(answer, self.policy.approval_timeout)
            except TimeoutError:
                return False
        return answer is True

    def _failed(self, base: dict[str, Any], message: str) -> ToolResult:
        return self._emit_result(ToolResult(
            **base, output=f"Error: {message}", status="error", error=message))

    def _emit_result(self, result: ToolResult) -> ToolResult:
        self._fanout.emit(cast(_E, result))
        return result

    def _fail(self, name: str, error: Exception) -> None:
        """``on_tool_error="raise"``: stop the whole run now."""
        failure = self._stopped(f"The tool {name!r} raised {type(error).__name__}: {error}",
                                tool_name=name)
        failure.__cause__ = error
        if self._failure is None:
            self._failure = failure
            if self._task is not None:
                self._task.cancel()

    def _stopped(self, message: str, *, tool_name: str | None = None) -> ToolRunError:
        failure = ToolRunError(message, round=self.round, tool=tool_name)
        if self._stream is not None:
            failure.partial = self._snapshot(self._stream)
        return failure

    async def _cancel_tools(self) -> None:
        tasks = [task for task in self._tool_tasks if not task.done()]
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=CLOSE_GRACE_SECONDS)

    # -- subscribers ----------------------------------------------------------------------

    def _subscribers_changed(self) -> None:
        self._abort_if_unwatched()  # a raising subscriber detached may have been the last
