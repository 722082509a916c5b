"""Item streams: the elements of an array inside streamed JSON, each the moment it closes.

Instructor's ``Iterable[T]``, the AI SDK's ``elementStream``: a structured output (or a tool
call's arguments) that is a list of things is consumed thing by thing while the model is
still writing the rest. :class:`ItemExtractor` takes a stream's helper events and returns the
elements that closed with each one, validated as the item type. Sans-IO: the Rx operator
``ox.ops.items`` and the stream method ``stream.items`` wrap it.

Its own incremental parser per document watches the path, so it costs each delta once and
never touches the parser behind ``parsed`` / ``parsed_arguments``.
"""

from __future__ import annotations

from typing import Any, Generic, TypeVar, cast

import msgspec

from .._exceptions import DecodeError
from ..events import ContentDelta, ToolCallDelta
from .parsing import parse_as
from .partial_json import PartialJSONParser

__all__ = ["ItemExtractor"]

_T = TypeVar("_T")


class ItemExtractor(Generic[_T]):
    """The elements of the array at ``path`` (``"items[*]"``, ``"[*]"``, ``"a.b[*]"``), each
    as ``item_type`` (a msgspec Struct, pydantic model, dataclass, ... or ``None`` for plain
    JSON values), from the answer text of ``choice`` or, with ``tool``, from the arguments of
    every call to that tool (each call its own document, items in the order they close).

    :meth:`handle` raises :class:`~oxide_rx.DecodeError` when the text is not valid JSON or an
    element does not validate; ``delivered`` counts the elements returned before.

    >>> extract = ItemExtractor("cities[*]")
    >>> extract.handle(ContentDelta(delta='{"cities": ["Oslo", "Li', snapshot=""))
    ['Oslo']
    >>> extract.handle(ContentDelta(delta='ma"]}', snapshot=""))
    ['Lima']
    """

    def __init__(
        self,
        path: str,
        item_type: type[_T] | None = None,
        *,
        tool: str | None = None,
        choice: int = 0,
    ) -> None:
        PartialJSONParser(watch=[path])  # a bad path fails here, before any event
        self.path = path
        self.item_type = item_type
        self.tool = tool
        self.choice = choice
        self.delivered = 0
        self._parsers: dict[tuple[int, int | None], PartialJSONParser] = {}

    def handle(self, event: object) -> list[_T]:
        """The elements that closed with ``event`` (``[]`` for events of other kinds)."""
        if self.tool is None:
            if type(event) is not ContentDelta and not isinstance(event, ContentDelta):
                return []
            if event.choice != self.choice:
                return []
            key = (event.choice, event.output_index)
            delta = event.delta
        else:
            if not isinstance(event, ToolCallDelta) or event.name != self.tool:
                return []
            key = (event.choice, event.index)
            delta = event.arguments_delta
        parser = self._parsers.get(key)
        if parser is None:
            parser = self._parsers[key] = PartialJSONParser(watch=[self.path])
        closed = parser.feed(delta)
        if parser.error is not None:
            where = f"the arguments of {self.tool!r}" if self.tool else "the answer"
            raise DecodeError(f"{where} is not valid JSON: {parser.error}")
        out: list[_T] = []
        for item in closed:
            out.append(self._convert(item.value))
            self.delivered += 1
        return out

    def _convert(self, value: Any) -> _T:
        if self.item_type is None:
            return cast(_T, value)
        item = parse_as(self.item_type, msgspec.json.encode(value).decode())
        return cast(_T, item)
