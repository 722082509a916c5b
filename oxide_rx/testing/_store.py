"""Stored responses: ``GET /v1/responses/{id}`` (poll or resume) and ``…/cancel``."""

from __future__ import annotations

import collections
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from ._http import Counters, error_response, json_response
from ._responses import ResponseRun
from ._writer import write_body

__all__ = ["ResponseStore"]

_TERMINAL = ("completed", "incomplete", "failed")


@dataclass
class _Stored:
    run: ResponseRun
    frames: list[tuple[int, bytes]] | None
    """The whole event stream, kept for background responses only (they can be resumed)."""
    status: str

    def view(self) -> dict[str, Any]:
        final = self.run.final
        if self.status in _TERMINAL and final is not None:
            return final
        return self.run.snapshot(self.status)


class ResponseStore:
    """The last ``limit`` created responses, by id."""

    def __init__(self, counters: Counters, limit: int = 1024) -> None:
        self._counters = counters
        self._limit = limit
        self._items: collections.OrderedDict[str, _Stored] = collections.OrderedDict()

    def keep(self, run: ResponseRun, frames: list[tuple[int, bytes]] | None, status: str) -> None:
        """Store ``run`` (if the request asked for storage or background mode)."""
        if run.params.store or run.params.background:
            self._items[run.id] = _Stored(run, frames, status)
            while len(self._items) > self._limit:
                self._items.popitem(last=False)

    def finished(self, run: ResponseRun) -> None:
        """The first connection of a background stream ended: generation is over."""
        stored = self._items.get(run.id)
        if stored is not None and stored.status != "cancelled" and run.final is not None:
            stored.status = run.final["status"]

    def _lookup(self, request: web.Request) -> _Stored | web.Response:
        response_id = request.match_info["id"]
        stored = self._items.get(response_id)
        if stored is None:
            return error_response(404, f"Response with id '{response_id}' not found.")
        return stored

    async def get(self, request: web.Request) -> web.StreamResponse:
        """JSON (one status step per poll), or with ``stream=true`` an SSE replay."""
        stored = self._lookup(request)
        if isinstance(stored, web.Response):
            return stored
        if request.query.get("stream", "").lower() == "true":
            if stored.frames is None:
                return error_response(404, "Only background responses can be streamed again.")
            after = int(request.query.get("starting_after", "-1"))
            frames = iter([(seq, frame) for seq, frame in stored.frames if seq > after])
            # Resumption is clean: a scenario's fault applies to the first connection only.
            return await write_body(request, stored.run.plan(frames), None, self._counters)
        if stored.frames is not None and stored.status in ("queued", "in_progress"):
            # Polling walks a background response through its states, one step per GET.
            final = stored.run.final
            stored.status = "in_progress" if stored.status == "queued" else "completed"
            if stored.status == "completed" and final is not None:
                stored.status = final["status"]
        return json_response(stored.view())

    async def cancel(self, request: web.Request) -> web.StreamResponse:
        """Cancel a background response that is still queued or in progress."""
        stored = self._lookup(request)
        if isinstance(stored, web.Response):
            return stored
        if stored.frames is None:
            return error_response(400, "Only background responses can be cancelled.")
        if stored.status in ("queued", "in_progress"):
            stored.status = "cancelled"
        return json_response(stored.view())
