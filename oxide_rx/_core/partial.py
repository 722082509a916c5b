"""Partial values on events: one JSON document arriving in deltas, read as of any event.

``ToolCallDelta.parsed_arguments`` and ``ContentDelta.parsed`` (when a structured format was
asked) come from a :class:`PartialDocument`, one per tool call or structured text part. The
accumulator only hands it each delta (:meth:`PartialDocument.append`, a list append): nothing
is parsed for a stream nobody reads. A read parses what arrived since the last read with the
incremental :class:`~oxide_rx._core.partial_json.PartialJSONParser`, so reading after every
delta costs each delta once, never the document again, however large it grows.

**As of the event.** Reading an event gives the value of the text up to that event:

- read in order (callbacks, Rx subscribers, an ``async for``, however far behind), the parser
  is fed up to the event and its *live* value is returned: the parser's own containers, O(1).
  They go on growing when a later event of the same document is read (strings in progress
  are replaced by longer ones); copy the value (``copy.deepcopy``) to keep it as it is;
- read again once a later event has been read (a second subscriber, a stored event), the
  event gives a frozen copy of its value as it was, rebuilt from a mark it took at its first
  read (:func:`~oxide_rx._core.partial_json.restore`, O(the containers open then));
- read for the first time after a later event was read (out of order), its own text is
  parsed afresh, O(its length).

Frozen copies for every read would cost O(the open containers) per read: an array of a
thousand small elements copied on each delta, quadratic over the stream. The live value keeps
the per-delta cost flat; the marks keep every later answer exact.

**Typed views.** With a target type (a msgspec Struct, a pydantic model or a dataclass: a
``response_format`` / ``text_format``, or a tool's argument type) the value is an instance of
a *partial class* (:func:`partial_type`): the same fields, each optional, holding the fields
complete so far and ``None`` for the others. It is immutable and changes only when a field
completes, so reading it after every delta is O(1) however large the document; strings in
progress show in the untyped value only. A completed field that does not validate is
reported as the error, and the view keeps the fields that did.
"""

from __future__ import annotations

import dataclasses
import itertools
import typing
from collections import deque
from typing import Any, Optional

import msgspec

from .._exceptions import DecodeError
from .parsing import parse_as
from .partial_json import Mark, PartialJSONParser, restore
from .text import FOLD, TextBuffer

__all__ = ["Parsed", "PartialDocument", "Reading", "parse_once", "partial_type"]

Parsed = tuple[Any, str | None]
"""A partial value and the error as of the same point (``None`` while the text is valid)."""

_partial_types: dict[Any, type[Any] | None] = {}


def partial_type(target: Any) -> type[Any] | None:
    """The partial class of ``target``: its fields, each optional with ``None`` as default
    (``None`` for a type that has no named fields). Built once per type.

    >>> class City(msgspec.Struct):
    ...     name: str
    ...     population: int
    >>> partial_type(City)(name="Paris")
    PartialCity(name='Paris', population=None)
    """
    if target in _partial_types:
        return _partial_types[target]
    made: type[Any] | None = None
    name = f"Partial{getattr(target, '__name__', 'Value')}"
    module = getattr(target, "__module__", None)
    if isinstance(target, type) and issubclass(target, msgspec.Struct):
        fields = msgspec.structs.fields(target)
        made = msgspec.defstruct(
            name,
            [(f.name, Optional[f.type], None) for f in fields],  # noqa: UP045 - a runtime type
            rename={f.name: f.encode_name for f in fields},
            kw_only=True,
            module=module,
        )
    elif hasattr(target, "model_fields") and hasattr(target, "model_validate_json"):
        made = _pydantic_partial(target, name, module)
    elif dataclasses.is_dataclass(target) and isinstance(target, type):
        hints = typing.get_type_hints(target, include_extras=True)
        made = msgspec.defstruct(
            name,
            [(f.name, Optional[hints[f.name]], None)  # noqa: UP045
             for f in dataclasses.fields(target)],
            kw_only=True,
            module=module,
        )
    _partial_types[target] = made
    return made


def _pydantic_partial(target: Any, name: str, module: str | None) -> type[Any]:
    import pydantic  # only ever reached with a pydantic model in hand

    fields: dict[str, Any] = {}
    for field_name, info in target.model_fields.items():
        annotation = info.annotation
        if info.metadata:  # constraints (max_length, ge, ...) still hold for a final field
            annotation = typing.Annotated[annotation, *info.metadata]
        alias = info.validation_alias if isinstance(info.validation_alias, str) else info.alias
        fields[field_name] = (Optional[annotation], pydantic.Field(default=None, alias=alias))  # noqa: UP045
    config = pydantic.ConfigDict(populate_by_name=True)
    model: type[Any] = pydantic.create_model(name, __config__=config, __module__=module or "",
                                             **fields)
    return model


def _typed(parser: PartialJSONParser, view_type: type[Any]) -> Parsed:
    """The typed view of what ``parser`` has settled (no cache)."""
    root = parser.value
    if not isinstance(root, dict):
        if root is None:
            return None, None
        return None, f"expected a JSON object, got {type(root).__name__}"
    fields = dict(itertools.islice(root.items(), parser.settled))
    try:
        return parse_as(view_type, msgspec.json.encode(fields).decode()), None
    except DecodeError as exc:
        return None, str(exc)


def parse_once(text: str, target: Any = None) -> Parsed:
    """The partial value of ``text`` (and the error, if it is not valid JSON so far), from a
    fresh parser: O(len(text)). With ``target``, the typed view.

    >>> parse_once('{"city": "Par')
    ({'city': 'Par'}, None)
    >>> parse_once('{"city": Paris}')
    ({}, 'Expecting value at char 9')
    """
    parser = PartialJSONParser()
    parser.feed(text)
    view_type = None if target is None else partial_type(target)
    if view_type is None:
        return parser.value, parser.error
    value, invalid = _typed(parser, view_type)
    return value, parser.error or invalid


Reading = tuple[Any, str | None, Mark | None]
"""What an event keeps from its first read: the value, the error, and the mark that rebuilds
a live value as it was (``None`` for values that cannot change)."""


class PartialDocument:
    """One JSON document arriving in deltas: parsed lazily, read as of any earlier length.

    >>> doc, buffer = PartialDocument(), TextBuffer()
    >>> for piece in ['{"a": [1', ", 2], ", '"b": "x']:
    ...     buffer.append(piece); doc.append(piece)
    >>> first = doc.read(8, buffer)
    >>> first[0]
    {'a': []}
    >>> doc.read(len(buffer), buffer)[0]
    {'a': [1, 2], 'b': 'x'}
    >>> doc.again(8, first)[0]  # the first event, read again: as of that event
    {'a': []}
    """

    __slots__ = ("_appended", "_fed", "_parser", "_pending", "_typed", "_unfed", "target")

    def __init__(self, target: Any = None) -> None:
        self.target = target
        """The type of the typed view (``None``: plain JSON values)."""
        self._parser = PartialJSONParser()
        self._unfed: deque[str] = deque()  # text not parsed yet, oldest first
        self._pending: list[str] = []  # the latest pieces, folded into ``_unfed`` in blocks
        self._fed = 0  # characters parsed
        self._appended = 0  # characters appended
        self._typed: tuple[int, Parsed] | None = None  # (settled entries, view) last built

    def append(self, piece: str) -> None:
        """The next delta of the document (O(1): parsed when a value is read)."""
        pending = self._pending
        pending.append(piece)
        self._appended += len(piece)
        if len(pending) >= FOLD:
            # A stream nobody reads keeps blocks, not one object per delta; a block is small
            # enough that reading an event inside it costs little more than its own delta.
            self._unfed.append("".join(pending))
            pending.clear()

    def read(self, length: int, buffer: TextBuffer) -> Reading:
        """The first read of the event at ``length`` characters (``buffer`` holds the text,
        read only when the parser has gone past ``length``)."""
        if length > self._fed:
            self._catch_up(length)
        if length < self._fed:
            value, error = parse_once(buffer.text(length), self.target)
            return value, error, None
        parser = self._parser
        view_type = None if self.target is None else partial_type(self.target)
        if view_type is not None:
            value, error = self._typed_view(parser, view_type)
            return value, error, None
        return parser.value, parser.error, parser.mark()

    def again(self, length: int, reading: Reading) -> Reading:
        """A later read of the event at ``length`` that first gave ``reading``: the same
        reading while nothing was parsed since, else its value rebuilt as it was."""
        mark = reading[2]
        if mark is None or length == self._fed:
            return reading
        return restore(mark), reading[1], None

    def _typed_view(self, parser: PartialJSONParser, view_type: type[Any]) -> Parsed:
        settled = parser.settled
        typed = self._typed
        if typed is None or typed[0] != settled or typed[1] == (None, None):
            value, invalid = _typed(parser, view_type)
            if invalid is not None and typed is not None:
                value = typed[1][0]  # keep the fields that did validate
            typed = self._typed = (settled, (value, invalid))
        value, invalid = typed[1]
        return value, parser.error or invalid

    def _catch_up(self, length: int) -> None:
        unfed, pending = self._unfed, self._pending
        if length == self._appended and not unfed:
            # Reading the latest event, as a reader that keeps up does: feed what is new.
            feed = self._parser.feed
            for piece in pending:
                feed(piece)
            pending.clear()
            self._fed = length
            return
        if pending:
            unfed.extend(pending)
            pending.clear()
        feed = self._parser.feed
        while self._fed < length and unfed:
            piece = unfed.popleft()
            need = length - self._fed
            if len(piece) > need:
                unfed.appendleft(piece[need:])
                piece = piece[:need]
            feed(piece)
            self._fed += len(piece)
