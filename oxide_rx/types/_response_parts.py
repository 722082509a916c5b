"""Responses API wire types, the leaves: content parts, annotations, log-probabilities.

Also the plumbing the other ``_response_*`` modules share: the :class:`_Wire` base and the
*open unions*. A field typed ``_PartField`` / ``_AnnotationField`` (or ``_ItemField`` in
:mod:`._response_items`) holds a known Struct chosen by its ``type``, or an
:class:`UnknownPart` / :class:`UnknownAnnotation` (a ``dict`` kept exactly as it came) for a
``type`` this library does not know; :func:`oxide_rx.types.responses.dec_hook` fills them in.
Import these names from :mod:`oxide_rx.types.responses`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, TypeAlias

import msgspec

from oxide_rx.types.shared import WireStruct

__all__ = [
    "ANNOTATION_TYPES", "PART_TYPES", "Annotation", "ContainerFileCitation", "ContentPart",
    "FileCitation", "FilePath", "Logprob", "OutputTextPart", "ReasoningTextPart", "RefusalPart",
    "SummaryTextPart", "TopLogprob", "UnknownAnnotation", "UnknownItem", "UnknownPart",
    "UrlCitation", "expose_tags",
]


# --------------------------------------------------------------------------------------------
# Open-union plumbing. At runtime a field typed with one of these marker classes is filled in by
# ``dec_hook``; for type checkers the same field is the union of known Structs plus the fallback
# (see the ``TYPE_CHECKING`` blocks after the unions).


class _AnyItem:
    __slots__ = ()


class _AnyPart:
    __slots__ = ()


class _AnyAnnotation:
    __slots__ = ()


class _Wire(WireStruct, frozen=True, kw_only=True):
    """Base of every wire Struct here: read-only, keyword-only, ``null`` fields omitted on
    encode, not tracked by the garbage collector (see :mod:`oxide_rx.types.shared`)."""


class UnknownItem(dict[str, Any], _AnyItem):
    """An output item of a type this library does not know: the JSON object, unchanged."""

    __slots__ = ()

    @property
    def type(self) -> str:
        return str(self.get("type"))


class UnknownPart(dict[str, Any], _AnyPart):
    """A content part of a type this library does not know: the JSON object, unchanged."""

    __slots__ = ()

    @property
    def type(self) -> str:
        return str(self.get("type"))


class UnknownAnnotation(dict[str, Any], _AnyAnnotation):
    """A text annotation of a type this library does not know: the JSON object, unchanged."""

    __slots__ = ()

    @property
    def type(self) -> str:
        return str(self.get("type"))


# --------------------------------------------------------------------------------------------
# Annotations, log-probabilities, content parts


class _Annotation(_Wire, _AnyAnnotation, frozen=True, tag_field="type"):
    type: ClassVar[str]


class FileCitation(_Annotation, tag="file_citation", frozen=True, kw_only=True):
    file_id: str | None = None
    filename: str | None = None
    index: int | None = None


class UrlCitation(_Annotation, tag="url_citation", frozen=True, kw_only=True):
    url: str | None = None
    title: str | None = None
    start_index: int | None = None
    end_index: int | None = None


class ContainerFileCitation(_Annotation, tag="container_file_citation", frozen=True, kw_only=True):
    container_id: str | None = None
    file_id: str | None = None
    filename: str | None = None
    start_index: int | None = None
    end_index: int | None = None


class FilePath(_Annotation, tag="file_path", frozen=True, kw_only=True):
    file_id: str | None = None
    index: int | None = None


class TopLogprob(_Wire, frozen=True, kw_only=True):
    token: str
    logprob: float
    bytes: list[int] | None = None


class Logprob(_Wire, frozen=True, kw_only=True):
    """One output token's log-probability, with the most likely alternatives."""

    token: str
    logprob: float
    bytes: list[int] | None = None
    top_logprobs: list[TopLogprob] | None = None


class _Part(_Wire, _AnyPart, frozen=True, tag_field="type"):
    type: ClassVar[str]


class OutputTextPart(_Part, tag="output_text", frozen=True, kw_only=True):
    """Answer text inside a message item."""

    text: str
    annotations: list[_AnnotationField] | None = None
    logprobs: list[Logprob] | None = None


class RefusalPart(_Part, tag="refusal", frozen=True, kw_only=True):
    refusal: str


class ReasoningTextPart(_Part, tag="reasoning_text", frozen=True, kw_only=True):
    text: str


class SummaryTextPart(_Part, tag="summary_text", frozen=True, kw_only=True):
    text: str


ContentPart: TypeAlias = (
    OutputTextPart | RefusalPart | ReasoningTextPart | SummaryTextPart | UnknownPart
)
"""A message or reasoning content part; an unknown ``type`` is an :class:`UnknownPart`."""
Annotation: TypeAlias = (
    FileCitation | UrlCitation | ContainerFileCitation | FilePath | UnknownAnnotation
)
"""An ``output_text`` annotation; an unknown ``type`` is an :class:`UnknownAnnotation`."""

if TYPE_CHECKING:
    _PartField: TypeAlias = ContentPart
    _AnnotationField: TypeAlias = Annotation
else:
    _PartField = _AnyPart
    _AnnotationField = _AnyAnnotation

PART_TYPES: tuple[type[msgspec.Struct], ...] = (
    OutputTextPart, RefusalPart, ReasoningTextPart, SummaryTextPart,
)
ANNOTATION_TYPES: tuple[type[msgspec.Struct], ...] = (
    FileCitation, UrlCitation, ContainerFileCitation, FilePath,
)


def expose_tags(classes: tuple[type[msgspec.Struct], ...]) -> None:
    """Make each tagged class's ``type`` a class attribute, so ``obj.type`` reads as on the wire.

    (msgspec keeps the tag in ``__struct_config__`` and does not expose it as a field.)
    """
    for cls in classes:
        setattr(cls, "type", str(cls.__struct_config__.tag))  # noqa: B010


expose_tags(PART_TYPES + ANNOTATION_TYPES)
