"""Deterministic text for the mock server: the default reply, delta pieces, ids, padding.

Everything here is a pure function of its inputs (ids aside), so the same prompt always
produces the same reply and tests can assert on it.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = [
    "default_reply",
    "last_user_text_chat",
    "last_user_text_responses",
    "new_id",
    "obfuscation",
    "pieces",
    "token_logprob",
]

DELTA_CHARS = 4
"""Real streams carry one token (~4 characters of English) per delta."""

_WORD = re.compile(r"[A-Za-z][A-Za-z'-]{2,}")
# Words that say nothing about the topic; a plain string keeps the list readable.
_STOPWORDS = frozenset(
    """
    a an the and or but if then so to of in on at for with about from by as is are was were
    be been being it its this that these those me my you your we our they them their he she his
    her what which who whom how why when where can could would should will shall do does did
    please tell write give make explain short some any into than there here just like also very
    haiku poem answer question reply say
    """.split()  # noqa: SIM905
)

_OPENERS = (
    "You asked about {a}.",
    "A few words on {a}.",
    "Thinking about {a}:",
    "Here is a small note on {a}.",
)
_SECOND = (
    "{B} drifts like a slow river,",
    "{B} settles, patient and clear,",
    "Beside {b}, the answer waits,",
    "{B} turns over in the light,",
)
_THIRD = (
    "{c} folds into the evening,",
    "and {c} hums beneath it all,",
    "while {c} keeps its careful time,",
    "as {c} leans toward the window,",
)
_CLOSERS = (
    "and the answer stays simple.",
    "so the reply can be brief.",
    "and that is the heart of it.",
    "which is enough for today.",
)


def _keywords(prompt: str) -> list[str]:
    seen: list[str] = []
    for match in _WORD.finditer(prompt):
        word = match.group(0).lower().strip("'-")
        if word not in _STOPWORDS and word not in seen:
            seen.append(word)
    return seen


def default_reply(prompt: str, variant: int = 0) -> str:
    """A short four-line reply that mentions words of ``prompt``; same input, same text.

    ``variant`` picks a different (still deterministic) reply, used for choices ``n > 1``.

    >>> prompt = "Write a haiku about autumn leaves"
    >>> default_reply(prompt) == default_reply(prompt)
    True
    >>> "autumn" in default_reply(prompt)
    True
    """
    words = _keywords(prompt)
    a = words[0] if words else "your question"
    b = words[1] if len(words) > 1 else "a quiet thought"
    c = words[2] if len(words) > 2 else "the morning"
    digest = hashlib.sha256(f"{variant}\x00{prompt}".encode()).digest()
    lines = (
        _OPENERS[digest[0] % len(_OPENERS)].format(a=a),
        _SECOND[digest[1] % len(_SECOND)].format(b=b, B=b[:1].upper() + b[1:]),
        _THIRD[digest[2] % len(_THIRD)].format(c=c),
        _CLOSERS[digest[3] % len(_CLOSERS)],
    )
    return "\n".join(lines)


def pieces(text: str, size: int = DELTA_CHARS) -> list[str]:
    """``text`` cut into deltas of ``size`` characters (the last may be shorter)."""
    return [text[i : i + size] for i in range(0, len(text), size)]


def _content_text(content: Any) -> str:
    """Text of a message ``content``: a string, or a list of typed parts."""
    if isinstance(content, str):
        return content
    if isinstance(content, Sequence):
        texts = [
            part["text"]
            for part in content
            if isinstance(part, Mapping) and isinstance(part.get("text"), str)
        ]
        return " ".join(texts)
    return ""


def last_user_text_chat(messages: Any) -> str:
    """Text of the last ``user`` message of a Chat Completions ``messages`` list."""
    if not isinstance(messages, Sequence) or isinstance(messages, str):
        return ""
    for message in reversed(messages):
        if isinstance(message, Mapping) and message.get("role") == "user":
            return _content_text(message.get("content"))
    return ""


def last_user_text_responses(input_: Any) -> str:
    """Text of the last user input of a Responses ``input`` (a string or a list of items)."""
    if isinstance(input_, str):
        return input_
    if not isinstance(input_, Sequence):
        return ""
    for item in reversed(input_):
        if isinstance(item, Mapping) and item.get("role", "user") == "user" and "content" in item:
            return _content_text(item["content"])
    return ""


def new_id(prefix: str) -> str:
    """A fresh server-style id such as ``chatcmpl-…`` or ``resp_…``."""
    return prefix + uuid.uuid4().hex


_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"


def obfuscation(index: int, delta: str) -> str:
    """Padding like the API's ``obfuscation`` field: it evens out the size of each frame."""
    length = max(1, 16 - len(delta)) if len(delta) < 16 else 1 + index % 4
    start = (index * 7) % len(_ALPHABET)
    return (_ALPHABET[start:] + _ALPHABET[:start])[:length]


def token_logprob(token: str, index: int, top: int) -> dict[str, Any]:
    """A per-token logprob entry with ``top`` alternatives, derived from the token text."""
    digest = hashlib.sha256(f"{index}\x00{token}".encode()).digest()
    logprob = -digest[0] / 256.0
    alternatives = [{"token": token, "logprob": logprob, "bytes": list(token.encode())}]
    for k in range(1, top):
        alt = f"{token.strip() or '_'}{k}"
        alternatives.append(
            {"token": alt, "logprob": logprob - 1.0 - k, "bytes": list(alt.encode())}
        )
    return {
        "token": token,
        "logprob": logprob,
        "bytes": list(token.encode()),
        "top_logprobs": alternatives[:top],
    }
