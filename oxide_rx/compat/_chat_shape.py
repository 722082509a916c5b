"""Which keys an official chat snapshot counts as *set*, and the extra keys it carries.

The core accumulator gives the values of a completion so far; what it cannot give is the
official snapshot's *shape*, which ``to_dict()`` / ``model_dump(exclude_unset=True)`` and
``repr`` show: the official helper merges the chunks' JSON, so a key the server sent as
``null`` is "set", unknown keys of the first chunk stay on the snapshot, a tool call keeps its
``index``, and from a choice's second chunk on every message field is set (the helper rebuilds
the message from a full dump). :class:`Shape` learns that from the official chunk objects and
stamps it on each snapshot built from the core's values.

>>> shape = Shape()
"""

from __future__ import annotations

from typing import Any

__all__ = ["Shape"]


def _stamp(obj: Any, fields: set[str], extras: dict[str, Any] | None = None) -> None:
    object.__setattr__(obj, "__pydantic_fields_set__", fields & set(type(obj).model_fields))
    if extras is not None:
        object.__setattr__(obj, "__pydantic_extra__", dict(extras))


class _Choice:
    __slots__ = ("chunks", "delta_keys", "extras", "keys")

    def __init__(self, choice: Any) -> None:
        self.keys = set(choice.model_fields_set) - {"delta"}
        self.extras = dict(choice.model_extra or {})
        self.delta_keys: set[str] = set()
        self.chunks = 0


class Shape:
    """Learns the official snapshot's shape chunk by chunk; :meth:`stamp` applies it."""

    def __init__(self) -> None:
        self.keys: set[str] | None = None
        self.extras: dict[str, Any] = {}
        self.chunks = 0
        self.moderation = False
        self.choices: dict[int, _Choice] = {}

    def learn(self, chunk: Any) -> None:
        self.chunks += 1
        if self.keys is None:
            self.keys = set(chunk.model_fields_set) | {"object", "system_fingerprint"}
            self.keys.discard("obfuscation")
            self.extras = {k: v for k, v in (chunk.model_extra or {}).items()
                           if k != "obfuscation"}
        if chunk.moderation is not None:
            self.moderation = True
        for choice in chunk.choices:
            state = self.choices.get(choice.index)
            if state is None:
                state = self.choices[choice.index] = _Choice(choice)
            state.chunks += 1
            delta = choice.delta
            if delta is not None:
                state.delta_keys |= delta.model_fields_set

    def stamp(self, snapshot: Any) -> None:
        keys = set(self.keys or ())
        if self.chunks > 1:
            keys.add("usage")
        if self.moderation:
            keys.add("moderation")
        _stamp(snapshot, keys, self.extras)
        for choice in snapshot.choices:
            state = self.choices.get(choice.index)
            if state is None:
                continue
            keys = state.keys | {"message"}
            if choice.finish_reason:
                keys.add("finish_reason")
            if choice.logprobs is not None:
                keys.add("logprobs")
            _stamp(choice, keys, state.extras)
            message = choice.message
            every = state.chunks > 1
            fields = set(type(message).model_fields) - {"parsed"} if every else state.delta_keys
            if message.parsed is not None or (every and "parsed" in message.model_fields_set):
                fields = fields | {"parsed"}
            _stamp(message, set(fields))
            for position, call in enumerate(message.tool_calls or []):
                extras = dict(call.model_extra or {})
                extras["index"] = position
                _stamp(call, set(type(call).model_fields) if every else
                       set(call.model_fields_set), extras)
