"""A generation this node owns: the upstream stream's events in, log entries out.

The owner subscribes to the stream once, turns each event into records (one Python call per
event, no await), and a pump task appends them to the log in batches; at the end it appends
the accumulated object (``Final``, partial when stopped) and the ``End`` record. Stops, from
this node or any other (through the log), cancel the upstream request.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any, Protocol

import msgspec
from reactivex import abc

import oxide_rx as ox

from . import records
from .log import GenerationLog, GenerationNotFound, RelayError
from .policy import Api, RelayPolicy


class Owner(Protocol):
    """What a generation needs of the relay that owns it."""

    log: GenerationLog
    policy: RelayPolicy

    def clock(self) -> float: ...

__all__ = ["OwnedGeneration", "open_upstream"]

log = logging.getLogger("oxide_rx.relay")

_json = msgspec.json.Encoder().encode


class OwnedGeneration:
    """A generation whose upstream request this node holds: events in, log entries out."""

    def __init__(self, relay: Owner, generation_id: str, stream: Any, started: float) -> None:
        self.relay = relay
        self.id = generation_id
        self.stream = stream
        self.started = started
        self.first_output: float | None = None
        self.output_tokens: int | None = None
        self.pending: list[bytes] = []
        self.waiter: asyncio.Future[None] | None = None
        self.ended = False
        self.error: BaseException | None = None
        self.stop_reason: str | None = None
        self.limit_error: RelayError | None = None
        self.unwatched_timer: abc.DisposableBase | None = None
        self.done = asyncio.get_running_loop().create_future()
        self.tasks: list[asyncio.Task[Any]] = []

    # --- stream callbacks (on the loop's thread, one call per event) ---------------------

    def on_next(self, event: Any) -> None:
        for record in records.records_of(event):
            if self.first_output is None and isinstance(
                record, records.Text | records.Reasoning | records.Refusal | records.ToolInput
            ):
                self.first_output = self.relay.clock()
            if isinstance(record, records.UsageRecord):
                tokens = record.usage.get("output_tokens", record.usage.get("completion_tokens"))
                self.output_tokens = tokens if isinstance(tokens, int) else None
            self.pending.append(records.encode(record))
        self._wake()

    def on_error(self, error: Exception) -> None:
        self.error = error
        self.ended = True
        self._wake()

    def on_completed(self) -> None:
        self.ended = True
        self._wake()

    def _wake(self) -> None:
        waiter = self.waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    # --- tasks -----------------------------------------------------------------------------

    async def pump(self) -> None:
        """Move pending entries into the log, in batches, then write the end."""
        relay = self.relay
        try:
            while True:
                if not self.pending and not self.ended:
                    self.waiter = asyncio.get_running_loop().create_future()
                    with contextlib.suppress(TimeoutError):
                        async with asyncio.timeout(relay.policy.keepalive):
                            await self.waiter
                    self.waiter = None
                    continue
                batch, self.pending = self.pending, []
                if batch:
                    try:
                        await relay.log.append(self.id, batch)
                    except RelayError as exc:  # a bound, or the log lost the generation
                        self.limit_error = exc
                        await self.cancel_upstream("failed")
                        break
                if self.ended and not self.pending:
                    break
        finally:
            await self.write_end()

    async def cancel_upstream(self, reason: str) -> None:
        if self.stop_reason is None:
            self.stop_reason = reason
        await self.stream.aclose()

    async def watch_stop(self) -> None:
        """Wait for a stop asked through the log (by any node), then cancel upstream."""
        policy = self.relay.policy
        while not self.done.done():
            try:
                stop = await self.relay.log.wait_stop(self.id, policy.keepalive)
            except GenerationNotFound:
                return
            except RelayError as exc:  # the log's store is unreachable: try again
                log.warning("relay: waiting for a stop of %s: %s", self.id, exc)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(asyncio.shield(self.done), policy.tick)
                continue
            if stop:
                await self.cancel_upstream("stopped")
                return

    async def write_end(self) -> None:
        relay = self.relay
        last = []
        try:
            last.append(records.encode(records.Final(_json(self._snapshot()))))
        except (msgspec.EncodeError, TypeError) as exc:
            log.warning("relay: no final object for %s: %s", self.id, exc)
        last.append(records.encode(self._end_record()))
        try:
            await relay.log.end(self.id, last, retention=relay.policy.retention)
        except RelayError as exc:
            log.warning("relay: could not end %s: %s", self.id, exc)
        finally:
            if self.unwatched_timer is not None:
                self.unwatched_timer.dispose()
            if not self.done.done():
                self.done.set_result(None)
            current = asyncio.current_task()
            for task in self.tasks:
                if task is not current:
                    task.cancel()

    def _snapshot(self) -> Any:
        stream = self.stream
        if isinstance(stream, ox.ChatStream):
            return stream.current_completion()
        return stream.current_response()

    def _end_record(self) -> records.End:
        now = self.relay.clock()
        elapsed = now - self.started
        speed = None
        if self.output_tokens and self.first_output is not None and now > self.first_output:
            speed = round(self.output_tokens / (now - self.first_output), 1)
        if self.limit_error is not None:
            kind = type(self.limit_error).__name__
            return records.End("failed", kind, str(self.limit_error), elapsed, speed)
        if self.stop_reason is not None:
            return records.End(self.stop_reason, None, None, elapsed, speed)
        if self.error is not None:
            return records.End("failed", type(self.error).__name__, str(self.error), elapsed,
                               speed)
        return records.End("completed", None, None, elapsed, speed)



async def open_upstream(client: ox.OpenAI, api: Api, params: dict[str, Any]) -> Any:
    """Open the upstream stream. Its wire events keep the server's payloads (``raw``), which
    the OpenAI-compatible protocol forwards as they came."""
    if api == "chat":
        return await client.chat.completions.create_stream(**params)
    return await client.responses.create_stream(**params)
