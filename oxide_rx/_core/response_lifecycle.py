"""The official ``openai`` helper's lifecycle rules for a Responses stream (sans-IO).

:class:`~oxide_rx._core.responses.ResponseAccumulator` is forgiving by design (a resumed stream
starts anywhere; the server's values win). The official ``ResponseStreamState`` is stricter,
and ``oxide_rx.compat`` must behave as it does: with ``ResponseAccumulator(check_lifecycle=True)``
each event first goes through :class:`LifecycleCheck`, which raises the official
``RuntimeError`` s on streams whose identities do not add up, and keeps the items the official
helper back-fills an ``output`` with:

- the first event must be ``response.created``;
- every lifecycle event carries the same response id;
- an output index is added once; content and argument events name an added item;
- a finished item keeps the identity it was added with (type, id, ``call_id``), and no two
  finished items share one;
- ``response.completed`` names every item that was added and is not finished yet.

Events are read as JSON data (``raw``), because the events these rules are about are often
the ones that do not match the schema (``output: null``, an item without ``id`` ...).

>>> check = LifecycleCheck()
>>> check.see("response.output_text.delta", {"output_index": 0})
Traceback (most recent call last):
RuntimeError: Expected to have received `response.created` before `response.output_text.delta`
"""

from __future__ import annotations

from typing import Any

import msgspec

__all__ = ["LifecycleCheck", "identity"]

_decode = msgspec.json.Decoder().decode

_LIFECYCLE = frozenset({"response.created", "response.queued", "response.in_progress",
                        "response.completed", "response.failed", "response.incomplete"})
_REPLACING = frozenset({"response.created", "response.queued", "response.in_progress"})
_TEXT = frozenset({"response.output_text.delta", "response.output_text.done"})
_DELTAS = frozenset({"response.output_text.delta", "response.function_call_arguments.delta"})
_CONTENT = frozenset({"response.content_part.added", "response.output_text.delta",
                      "response.output_text.done", "response.function_call_arguments.delta"})
# Items whose server id may change between added and done; their call_id identifies them.
_CALL_KEYED = frozenset({"function_call", "custom_tool_call", "shell_call", "shell_call_output"})
_ID_OPTIONAL = frozenset({"function_call", "custom_tool_call"})

Identity = tuple[Any, Any, Any]


def _get(data: Any, key: str) -> Any:
    return data.get(key) if isinstance(data, dict) else None


def identity(item: Any) -> Identity:
    """An output item's identity: ``(type, id, call_id)``, without ``id`` for call items."""
    kind, call_id = _get(item, "type"), _get(item, "call_id")
    if kind in _CALL_KEYED:
        return kind, None, call_id
    return kind, _get(item, "id"), call_id


def _compatible(previous: Any, replacement: Any) -> bool:
    previous_id = _get(previous, "id")
    return previous_id == _get(replacement, "id") or (
        previous_id is None and _get(previous, "type") in _ID_OPTIONAL)


class LifecycleCheck:
    """Sees each event (its type and JSON data) before the accumulator does."""

    def __init__(self) -> None:
        self.started = False
        self.response_id: Any = None
        self.items: dict[int, Any] = {}
        """Output items by index, as added (JSON data)."""
        self.completed: dict[int, Any] = {}
        """Finished output items by index (``output_item.done``, or a lifecycle replacement)."""
        self._positions: dict[Identity, int] = {}
        self.parts: dict[Any, list[Any]] = {}
        """Content part types of each added message, by output index."""
        self._text_places: set[tuple[Any, Any]] = set()
        """(output index, content index) pairs already checked as text parts."""

    def see_event(self, event: Any) -> None:
        """Check a decoded wire event (typed, or ``UnknownEvent``)."""
        kind = event.type
        if self.started and kind in _CONTENT and hasattr(event, "output_index"):
            if kind in _TEXT:  # the hot path: no JSON to read
                place = (event.output_index, event.content_index)
                if place not in self._text_places:
                    self.item(event.output_index)
                    self._text_part(*place)
                    if isinstance(place[1], int) and place[1] >= 0:
                        # Items and parts are only ever added: a place stays valid (but
                        # ``[-1]`` names another part once one is added).
                        self._text_places.add(place)
                return
            self.item(event.output_index)
            if kind == "response.content_part.added":
                self._part_added(event.output_index, msgspec.to_builtins(event.part))
            elif kind == "response.function_call_arguments.delta":
                self._is(event.output_index, "function_call")
            return
        raw = getattr(event, "raw", None)
        self.see(kind, _decode(raw) if raw is not None else msgspec.to_builtins(event))

    def see(self, kind: str, data: Any) -> None:
        """Check one event; raises ``RuntimeError`` (the official messages) on a bad one."""
        if not self.started:
            if kind != "response.created":
                raise RuntimeError(f"Expected to have received `response.created` before `{kind}`")
            self.started = True
            response = _get(data, "response")
            self.response_id = _get(response, "id")
            self.items = dict(enumerate(_get(response, "output") or []))
            for index, item in self.items.items():
                self.parts[index] = [_get(part, "type") for part in _get(item, "content") or ()]
            return
        if kind in _LIFECYCLE:
            self._lifecycle(kind, _get(data, "response"))
        elif kind == "response.output_item.added":
            item = _get(data, "item")
            if item is None:
                return
            index = _get(data, "output_index")
            if index in self.items:
                raise RuntimeError(f"Duplicate response output index {index}.")
            self.items[index] = item
            self.parts[index] = [_get(part, "type") for part in _get(item, "content") or ()]
        elif kind in _CONTENT:
            self.item(_get(data, "output_index"))
            if kind in _TEXT:
                self._text_part(_get(data, "output_index"), _get(data, "content_index"))
            elif kind == "response.content_part.added":
                self._part_added(_get(data, "output_index"), _get(data, "part"))
            elif kind == "response.function_call_arguments.delta":
                self._is(_get(data, "output_index"), "function_call")
            delta = _get(data, "delta")
            if kind in _DELTAS and not isinstance(delta, str):
                # The official helper adds the delta to the text so far.
                raise TypeError(f'can only concatenate str (not "{type(delta).__name__}") to str')
        elif kind == "response.output_item.done":
            self._item_done(_get(data, "output_index"), _get(data, "item"))

    def item(self, index: Any) -> Any:
        """The added item at ``index``; raises when a content event names none."""
        try:
            return self.items[index]
        except (KeyError, TypeError):
            raise RuntimeError(f"Received a content event for output index {index} before "
                               "receiving its output item") from None

    def _part_added(self, index: Any, part: Any) -> None:
        if _get(self.items[index], "type") == "message":
            self.parts.setdefault(index, []).append(_get(part, "type"))

    def _is(self, index: Any, kind: str) -> None:
        if _get(self.items[index], "type") != kind:  # the official helper asserts it
            raise AssertionError

    def _text_part(self, index: Any, content_index: Any) -> None:
        """Text must land in an added ``output_text`` part of a message (the official
        helper indexes the message's content list, and asserts both types)."""
        self._is(index, "message")
        parts = self.parts.get(index, [])
        if not isinstance(content_index, int):
            raise TypeError(f"list indices must be integers or slices, not "
                            f"{type(content_index).__name__}")
        if not -len(parts) <= content_index < len(parts):
            raise IndexError("list index out of range")
        if parts[content_index] != "output_text":
            raise AssertionError

    def _lifecycle(self, kind: str, response: Any) -> None:
        if _get(response, "id") != self.response_id:
            raise RuntimeError("Lifecycle response identity changed.")
        output = _get(response, "output")
        if kind in _REPLACING:
            replacements: dict[Identity, Any] = {}
            for item in output or []:
                key = identity(item)
                if key in replacements:
                    raise RuntimeError("Response snapshot has conflicting output identities.")
                replacements[key] = item
            for key, item in replacements.items():
                index = self._positions.get(key)
                if index is not None:
                    if not _compatible(self.completed[index], item):
                        raise RuntimeError(
                            "Response snapshot has conflicting output identities.")
                    self.completed[index] = item
        elif kind == "response.completed":
            final = {identity(item): item for item in (output or [])}
            for item in self.completed.values():
                found = final.get(identity(item))
                if found is not None and not _compatible(item, found):
                    raise RuntimeError("Completed response output identity changed.")
            for index, item in self.items.items():
                found = final.get(identity(item))
                if index not in self.completed and (found is None or not _compatible(item, found)):
                    raise RuntimeError("Cannot complete response with unfinished output items.")

    def _item_done(self, index: Any, item: Any) -> None:
        if not isinstance(item, dict):  # the official helper reads ``item.type`` and fails
            raise AttributeError(f"'{type(item).__name__}' object has no attribute 'type'")
        added = self.items.get(index)
        if added is not None and (identity(added) != identity(item)
                                  or not _compatible(added, item)):
            raise RuntimeError("Completed output item identity changed.")
        key = identity(item)
        position = self._positions.get(key)
        if position is not None and position != index:
            raise RuntimeError("Response snapshot has conflicting output identities.")
        previous = self.completed.get(index)
        if previous is not None:
            del self._positions[identity(previous)]
        self.completed[index] = item
        self._positions[key] = index

    def finished_output(self) -> list[Any]:
        """The finished items in output order (what a null final ``output`` becomes)."""
        return [self.completed[index] for index in sorted(self.completed)]

    def all_output(self) -> list[Any]:
        """Finished items, else as added, in output order (a failed response's output)."""
        indexes = sorted(self.items.keys() | self.completed.keys())
        return [self.completed[i] if i in self.completed else self.items[i] for i in indexes]
