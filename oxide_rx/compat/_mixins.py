"""Behaviour some openai-shaped classes add to :class:`~._models.BaseModel`.

``Response.output_text``, ``ParsedResponse.output_parsed`` and iteration over a page, as the
official classes have them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

__all__ = ["MIXINS"]


class _ResponseText:
    """``Response.output_text``: every ``output_text`` part of every message, joined."""

    __slots__ = ()

    @property
    def output_text(self) -> str:
        texts: list[str] = []
        for item in getattr(self, "output", None) or []:
            if getattr(item, "type", None) == "message":
                for part in getattr(item, "content", None) or []:
                    if getattr(part, "type", None) == "output_text":
                        texts.append(part.text)
        return "".join(texts)


class _ParsedOutput:
    """``ParsedResponse.output_parsed``: the first parsed ``output_text``."""

    __slots__ = ()

    @property
    def output_parsed(self) -> Any:
        for item in getattr(self, "output", None) or []:
            if getattr(item, "type", None) == "message":
                for part in getattr(item, "content", None) or []:
                    parsed = getattr(part, "parsed", None)
                    if getattr(part, "type", None) == "output_text" and parsed:
                        return parsed
        return None


class _Page:
    """``SyncPage`` / ``AsyncPage``: iterating yields the items (the official pages do)."""

    __slots__ = ()

    def __iter__(self) -> Iterator[Any]:
        return iter(getattr(self, "data", None) or [])

    async def __aiter__(self) -> AsyncIterator[Any]:
        for item in getattr(self, "data", None) or []:
            yield item

    def has_next_page(self) -> bool:
        return False


MIXINS: dict[str, tuple[type, ...]] = {
    "Response": (_ResponseText,),
    "ParsedResponse": (_ResponseText, _ParsedOutput),
    "SyncPage": (_Page,),
    "AsyncPage": (_Page,),
}
