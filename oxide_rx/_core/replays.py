"""Which Responses events are replays after a resume: the one de-duplication rule.

A plain stream never drops an event for its ``sequence_number`` (a server may number every
event ``0``, or restart its numbering). Only a reconnection that asked for
``starting_after=N`` can receive events it already delivered, so only then, and only for
that response, events numbered ``N`` or less are replays. Whoever reconnects (the SSE
resuming feed, the WebSocket session) says so through
:meth:`oxide_rx._core.responses.ResponseAccumulator.resume_after`, which keeps one
:class:`ReplayFilter`. Sans-IO.
"""

from __future__ import annotations

from typing import Any

from oxide_rx.types import responses as rt

__all__ = ["ReplayFilter"]


class ReplayFilter:
    """Drops the replays of one resumed response.

    >>> replays = ReplayFilter()
    >>> replays.resume(after=4, response_id="resp_1")
    >>> replays.is_replay(4, object()), replays.is_replay(5, object())
    (True, False)
    """

    __slots__ = ("after", "response_id")

    def __init__(self) -> None:
        self.after: int | None = None
        """The last event delivered before the resume (``None``: no resume, drop nothing)."""
        self.response_id: str | None = None
        """The response resumed (``None`` until an event names it)."""

    def resume(self, after: int | None, response_id: str | None) -> None:
        """A reconnection with ``starting_after=after`` for ``response_id`` begins."""
        self.after, self.response_id = after, response_id

    def is_replay(self, sequence_number: int, event: Any) -> bool:
        """Whether ``event`` (numbered ``sequence_number``) was delivered before the resume.
        A lifecycle event of another response lifts the filter: its numbering is its own."""
        after = self.after
        if after is None or sequence_number > after:
            return False
        response = getattr(event, "response", None)
        if isinstance(response, rt.Response) and response.id:
            if self.response_id is None:  # resumed before any id was known: this is the one
                self.response_id = response.id
            elif response.id != self.response_id:
                self.after = self.response_id = None
                return False
        return True
