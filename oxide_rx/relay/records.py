r"""What a generation log stores: one compact record per event, whatever the viewers speak.

A record is a frozen msgspec Struct encoded with MessagePack as a tagged array
(``["t", "Hel", 0]`` for a text delta): a few bytes more than the text it carries. Every
protocol encoder reads these records; nothing is stored once per protocol.

:func:`records_of` turns one event of a stream (``ox.ChatStream`` / ``ox.ResponseStream``)
into records, reading only public attributes:

>>> encode(Text(delta="Hi"))
b'\x93\xa1t\xa2Hi\x00'
>>> decode(encode(Text(delta="Hi")))
Text(delta='Hi', choice=0)
"""

from __future__ import annotations

from typing import Any, TypeAlias

import msgspec

import oxide_rx as ox

__all__ = [
    "Begin",
    "End",
    "Final",
    "Finish",
    "PartDone",
    "Reasoning",
    "Record",
    "Refusal",
    "Text",
    "ToolDone",
    "ToolInput",
    "UsageRecord",
    "Wire",
    "decode",
    "encode",
    "records_of",
]


class _Base(msgspec.Struct, frozen=True, gc=False, array_like=True, tag_field="k"):
    """Tagged arrays: the tag is one letter, fields go by position (no key names stored)."""


class Begin(_Base, frozen=True, tag="b"):
    """The first record: what was asked, of which API, when (seconds since the epoch)."""

    api: str
    model: str | None = None
    created: float = 0.0
    prompt: str | None = None
    request_id: str | None = None


class Wire(_Base, frozen=True, tag="w"):
    """One upstream payload as sent (a chat chunk, a Responses event), JSON bytes.

    ``type`` is the Responses event type (its SSE ``event:`` name); ``None`` for a chat chunk.
    """

    data: bytes
    type: str | None = None


class Text(_Base, frozen=True, tag="t"):
    """Answer text (``ox.ContentDelta``)."""

    delta: str
    choice: int = 0


class Reasoning(_Base, frozen=True, tag="r"):
    """Reasoning or reasoning summary text (``ox.ReasoningDelta``)."""

    delta: str
    choice: int = 0


class Refusal(_Base, frozen=True, tag="f"):
    """Refusal text (``ox.RefusalDelta``)."""

    delta: str
    choice: int = 0


class PartDone(_Base, frozen=True, tag="d"):
    """A text, reasoning or refusal part is complete; ``kind`` says which."""

    kind: str
    text: str
    choice: int = 0


class ToolInput(_Base, frozen=True, tag="i"):
    """A piece of a tool call's arguments (``ox.ToolCallDelta``)."""

    index: int
    call_id: str
    name: str
    delta: str
    choice: int = 0


class ToolDone(_Base, frozen=True, tag="c"):
    """A tool call is complete (``ox.ToolCallDone``)."""

    index: int
    call_id: str
    name: str
    arguments: str
    choice: int = 0


class UsageRecord(_Base, frozen=True, tag="u"):
    """Token usage, as the API sent it (chat ``CompletionUsage`` or Responses usage)."""

    usage: dict[str, Any]


class Finish(_Base, frozen=True, tag="x"):
    """A choice (chat) or the response (Responses) finished (``ox.Done``)."""

    finish_reason: str | None
    reason: str | None = None
    choice: int = 0


class Final(_Base, frozen=True, tag="F"):
    """The accumulated object (``ChatCompletion`` / ``Response``) as JSON, partial if stopped."""

    data: bytes


class End(_Base, frozen=True, tag="z"):
    """The last record of every generation.

    ``status``: ``"completed"``; ``"stopped"`` (an explicit stop); ``"unwatched"`` (nobody
    watched for the configured time); ``"failed"`` (upstream error, or a relay bound was hit:
    ``error_type`` names the exception). ``output_tokens_per_second`` is measured from the
    first output to the end, when usage arrived.
    """

    status: str
    error_type: str | None = None
    message: str | None = None
    elapsed: float = 0.0
    output_tokens_per_second: float | None = None


Record: TypeAlias = (
    Begin | Wire | Text | Reasoning | Refusal | PartDone | ToolInput | ToolDone | UsageRecord
    | Finish | Final | End
)

_encoder = msgspec.msgpack.Encoder()
_decoder = msgspec.msgpack.Decoder(Record)
_json_encode = msgspec.json.Encoder().encode


def encode(record: Record) -> bytes:
    """The stored form of ``record`` (MessagePack)."""
    return _encoder.encode(record)


def decode(data: bytes) -> Record:
    """The record stored as ``data``."""
    decoded: Record = _decoder.decode(data)
    return decoded


def _raw_json(event: Any, wire: Any) -> bytes:
    """The server's payload, as the event kept it (``raw``), else ``wire`` re-encoded (an
    event built by hand). Re-encoding drops keys whose value is the default (``null``,
    ``[]``, ``""``), and the official SDKs need one of them back: a chat chunk's ``choices``.
    """
    raw = getattr(event, "raw", None)
    if isinstance(raw, bytes):
        return raw
    data = _json_encode(wire)
    if isinstance(event, ox.Chunk) and b'"choices":' not in data and data.endswith(b"}"):
        data = data[:-1] + b',"choices":[]}'
    return data


def records_of(event: Any) -> list[Record]:
    """The records one stream event becomes (empty for events no protocol relays)."""
    match event:
        case ox.ContentDelta():
            return [Text(event.delta, event.choice)] if event.delta else []
        case ox.ReasoningDelta():
            return [Reasoning(event.delta, event.choice)] if event.delta else []
        case ox.RefusalDelta():
            return [Refusal(event.delta, event.choice)] if event.delta else []
        case ox.ToolCallDelta():
            return [ToolInput(event.index, event.call_id, event.name, event.arguments_delta,
                              event.choice)]
        case ox.ToolCallDone():
            return [ToolDone(event.index, event.call_id, event.name, event.arguments,
                             event.choice)]
        case ox.ContentDone():
            return [PartDone("text", event.content, event.choice)]
        case ox.ReasoningDone():
            return [PartDone("reasoning", event.text, event.choice)]
        case ox.RefusalDone():
            return [PartDone("refusal", event.refusal, event.choice)]
        case ox.Usage():
            return [UsageRecord(msgspec.to_builtins(event.usage))]
        case ox.Done():
            return [Finish(event.finish_reason, event.reason, event.choice)]
        case ox.Chunk():
            return [Wire(_raw_json(event, event.chunk))]
        case ox.Event():
            return []  # LogprobsDelta and future helper events: their data is in the Wire
    kind = getattr(event, "type", None)
    if isinstance(kind, str):  # a Responses wire event, relayed as itself
        return [Wire(_raw_json(event, event), kind)]
    return []
