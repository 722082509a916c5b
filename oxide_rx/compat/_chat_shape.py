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

from copy import deepcopy
from typing import Any

from openai.lib.streaming._deltas import accumulate_delta

__all__ = ["Shape"]


def _stamp(obj: Any, fields: set[str], extras: dict[str, Any] | None = None) -> None:
    object.__setattr__(obj, "__pydantic_fields_set__", fields & set(type(obj).model_fields))
    if extras is not None:
        object.__setattr__(obj, "__pydantic_extra__", deepcopy(extras) if extras else {})


class _Choice:
    __slots__ = (
        "argued",
        "chunks",
        "delta_extras",
        "delta_keys",
        "extras",
        "keys",
        "listed",
        "role",
    )

    def __init__(self, choice: Any) -> None:
        self.keys = set(choice.model_fields_set) - {"delta"}
        self.extras = dict(choice.model_extra or {})
        self.delta_keys: set[str] = set()
        self.chunks = 0
        self.role: str | None = None  # every role sent, added up (the core: the first)
        self.argued: set[Any] = set()  # tool indexes that had arguments (the core: "")
        self.listed = False  # whether a delta had tool_calls, [] included (the core: None)
        self.delta_extras: dict[Any, Any] = {}
        """Unknown delta keys, merged by the official rule (the core knows no such keys)."""


class Shape:
    """Learns the official snapshot's shape chunk by chunk; :meth:`stamp` applies it."""

    def __init__(self) -> None:
        self.keys: set[str] | None = None
        self.extras: dict[str, Any] = {}
        self.chunks = 0
        self.moderation = False
        self.choices: dict[int, _Choice] = {}
        self.head: dict[str, Any] = {}

    def learn(self, chunk: Any) -> None:
        self.chunks += 1
        if self.keys is None:
            self.keys = set(chunk.model_fields_set) | {"object", "system_fingerprint"}
            self.keys.discard("obfuscation")
            self.extras = {k: v for k, v in (chunk.model_extra or {}).items()
                           if k != "obfuscation"}
            # The official snapshot keeps these as the first chunk had them.
            self.head = {k: getattr(chunk, k) for k in ("id", "created", "model",
                                                        "service_tier")}
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
                if delta.role is not None:
                    state.role = (state.role or "") + delta.role
                state.argued.update(call.index for call in delta.tool_calls or ()
                                    if call.function and call.function.arguments is not None)
                state.listed = state.listed or delta.tool_calls is not None
                if delta.model_extra:
                    accumulate_delta(state.delta_extras, deepcopy(delta.model_extra))

    def steady(self, chunk: Any, coming: bool = False) -> bool:
        """Whether stamping after this (one-choice, text-only) chunk changes nothing
        (``coming``: asked before :meth:`learn` counted it)."""
        choice = chunk.choices[0]
        extra = chunk.__pydantic_extra__
        if choice.__pydantic_extra__ or choice.delta.__pydantic_extra__ \
                or choice.delta.role is not None or (extra and extra.keys() - {"obfuscation"}):
            return False
        state = self.choices.get(choice.index)
        return self.chunks + coming > 2 and state is not None and state.chunks + coming > 2

    def count(self, chunk: Any) -> None:
        """:meth:`learn` for a chunk :meth:`steady` said changes nothing but the counts."""
        self.chunks += 1
        self.choices[chunk.choices[0].index].chunks += 1

    def stamp(self, snapshot: Any) -> None:
        keys = set(self.keys or ())
        if self.chunks > 1:
            keys.add("usage")
        if self.moderation:
            keys.add("moderation")
        _stamp(snapshot, keys, self.extras)
        snapshot.__dict__.update(self.head)
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
            message.role = state.role
            if state.listed and message.tool_calls is None:
                message.tool_calls = []
            every = state.chunks > 1
            fields = set(type(message).model_fields) - {"parsed"} if every else state.delta_keys
            if message.parsed is not None or (every and "parsed" in message.model_fields_set):
                fields = fields | {"parsed"}
            _stamp(message, set(fields), state.delta_extras)
            for position, call in enumerate(message.tool_calls or []):
                extras = dict(call.model_extra or {})
                extras["index"] = position
                if position not in state.argued:
                    call.function.arguments = None
                _stamp(call, set(type(call).model_fields) if every else
                       set(call.model_fields_set), extras)
