"""Incremental partial JSON: feed text deltas, read a prefix-consistent value at any moment.

A streaming tool call (or structured output) arrives as JSON text in small deltas. The
:class:`PartialJSONParser` reads each delta once, keeps the containers it has built so far
*live* (the same ``dict`` and ``list`` objects grow in place), and so makes both halves of the
hot path independent of the document's size: ``feed(delta)`` costs O(len(delta)) amortised, and
reading ``value`` costs O(1), plus O(length) of a string that is still arriving (a Python ``str``
cannot grow in place, so that one string is joined again when it has changed since the last read).

What a partial value shows (always a *prefix* of the final value, never a wrong one):

- strings while they arrive, escapes decoded; an escape (``\\n``, ``\\u00e9``, a surrogate pair
  ``\\ud83d\\ude00``) split across deltas appears only once whole;
- numbers and ``true``/``false``/``null`` only once complete: ``{"score": 42`` shows no
  ``score`` yet, since ``.731`` may follow. A number is complete when a delimiter follows it, or,
  for a bare top-level number, at :meth:`PartialJSONParser.finish`;
- an object key only once its value has started to show: with a string, container or complete
  scalar value. A key is never present with a placeholder, so every key is final;
- duplicate keys: the last wins, as with :func:`json.loads` (until the later value starts, the
  earlier one shows).

Why our own code rather than a dependency: ``jiter`` (what the official ``openai`` package uses,
``partial_mode="trailing-strings"``) and ``json.loads`` parse from the start of the text on
every call, so reading after each delta is quadratic over a stream; ``msgspec`` has no partial
mode; the event-based parsers (``ijson``, ``json-stream``) report a string only once it is
complete and do not build the value. None keeps partial containers between calls.

The module is sans-IO (no asyncio, no Rx): an Rx operator or a stream method wraps it later.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from itertools import islice
from typing import Any, Final, TypeAlias

import msgspec

from oxide_rx._exceptions import DecodeError

__all__ = ["ArrayItem", "JSONValue", "Mark", "PartialJSONParser", "restore"]

JSONValue: TypeAlias = "dict[str, JSONValue] | list[JSONValue] | str | int | float | bool | None"
"""A JSON value as :func:`json.loads` returns it."""

# Parser states. The in-string states are the highest so one comparison tells them apart.
_VALUE: Final = 0  # a value must start: top level, after ':', after ',' in an array
_VALUE_OR_END: Final = 1  # just after '[': a value or ']'
_KEY_OR_END: Final = 2  # just after '{': a key or '}'
_KEY: Final = 3  # after ',' in an object: a key
_COLON: Final = 4  # after a key
_AFTER: Final = 5  # after a value in a container: ',' or the closing bracket
_DONE: Final = 6  # the top-level value is complete: only whitespace may follow
_FAILED: Final = 7  # invalid input seen: everything else is ignored
_STRING: Final = 8  # inside a string value
_KEY_STRING: Final = 9  # inside an object key

_WHITESPACE: Final = " \t\n\r"
_DELIMITERS: Final = " \t\n\r,]}"  # what may follow a number in a container
_non_whitespace = re.compile(r"[^ \t\n\r]").search
# One C call finds where a run of plain string characters stops.
_string_stop = re.compile(r'["\\\x00-\x1f]').search
# Where a run of characters a number can hold stops, and a number's exact grammar.
_number_stop = re.compile(r"[^-+.eE0-9]").search
_number = re.compile(r"(-?(?:0|[1-9][0-9]*))(\.[0-9]+)?([eE][-+]?[0-9]+)?")
_non_hex = re.compile(r"[^0-9a-fA-F]").search
_SIMPLE_ESCAPES: Final = {
    '"': '"',
    "\\": "\\",
    "/": "/",
    "b": "\b",
    "f": "\f",
    "n": "\n",
    "r": "\r",
    "t": "\t",
}
_LITERALS: Final[dict[str, tuple[str, JSONValue]]] = {
    "t": ("true", True),
    "f": ("false", False),
    "n": ("null", None),
}
_PATH_SYNTAX = re.compile(r"(?:[^.\[\]]+|\[\*\])(?:\.[^.\[\]]+|\[\*\])*")
_PATH_PART = re.compile(r"\[\*\]|[^.\[\]]+")

Mark: TypeAlias = tuple[tuple[Any, int, str | None, JSONValue], ...]
"""Where a live value stood (see :meth:`PartialJSONParser.mark`): for each open container,
outermost first, the container, its length, the key of its last entry (objects), and the
innermost one's last entry."""


def restore(mark: Mark) -> JSONValue:
    """The value as it was when ``mark`` was taken, in fresh containers: O(the sizes of the
    containers open then), whatever was parsed since.

    >>> parser = PartialJSONParser()
    >>> _ = parser.feed('{"a": ["x", "y')
    >>> mark = parser.mark()
    >>> _ = parser.feed('z"], "b": 1}')
    >>> restore(mark), parser.value
    ({'a': ['x', 'y']}, {'a': ['x', 'yz'], 'b': 1})
    """
    value: JSONValue = None
    inner = False  # the entry after this container's last one is the copy just made
    for container, length, key, last in reversed(mark):
        entry = value if inner else last
        copy: Any
        if isinstance(container, dict):
            copy = dict(islice(container.items(), length))
            if length:
                copy[key] = entry
        else:
            copy = container[:length]
            if length:
                copy[-1] = entry
        value, inner = copy, True
    return value


class ArrayItem(msgspec.Struct, frozen=True):
    """An element of a watched array, reported the moment it closes.

    ``path`` is the watched pattern as given (``"items[*]"``), ``index`` the element's index
    in its array, ``value`` the element: final, the parser never changes it again.

    >>> parser = PartialJSONParser(watch=["[*]"])
    >>> parser.feed('[{"a": 1}, 2')
    [ArrayItem(path='[*]', index=0, value={'a': 1})]
    """

    path: str
    index: int
    value: JSONValue


class _Watch:
    """A node of the watched-path trie, for one position in the document."""

    __slots__ = ("each", "keys", "pattern")

    def __init__(self) -> None:
        self.keys: dict[str, _Watch] = {}  # the values under these keys (in an object)
        self.each: _Watch | None = None  # the elements (in an array)
        self.pattern: str | None = None  # set when values here are watched array elements


def _compile_watch(paths: Iterable[str]) -> _Watch | None:
    root: _Watch | None = None
    for path in paths:
        if not _PATH_SYNTAX.fullmatch(path) or not path.endswith("[*]"):
            raise ValueError(
                f"watch path {path!r}: expected keys joined by '.' and ending in '[*]',"
                ' like "items[*]", "[*]" or "a.b[*]"'
            )
        node = root = root or _Watch()
        for part in _PATH_PART.findall(path):
            if part == "[*]":
                node.each = node = node.each or _Watch()
            else:
                node = node.keys.setdefault(part, _Watch())
        node.pattern = path
    return root


class _Invalid(Exception):
    def __init__(self, message: str, index: int) -> None:
        self.message = message
        self.index = index


def _unescape(text: str, j: int) -> tuple[str, int]:
    """Decode the escape at ``text[j] == "\\\\"``: (characters, end), or ("", -1) if cut short."""
    n = len(text)
    if j + 1 >= n:
        return "", -1
    kind = text[j + 1]
    if kind != "u":
        simple = _SIMPLE_ESCAPES.get(kind)
        if simple is None:
            raise _Invalid("Invalid \\escape", j)
        return simple, j + 2
    if _non_hex(text, j + 2, j + 6) is not None:
        raise _Invalid("Invalid \\uXXXX escape", j + 1)  # where json.loads says
    if j + 6 > n:
        return "", -1
    code = int(text[j + 2 : j + 6], 16)
    if 0xD800 <= code <= 0xDBFF:
        # A high surrogate: json.loads pairs it with a low one if a \\u escape follows, so it
        # must not show alone before we know (alone, it is not a prefix of the final string).
        low = text[j + 6 : j + 12]
        if "\\u".startswith(low[:2]) if len(low) < 2 else low[:2] == "\\u":
            if _non_hex(low, 2) is not None:
                pass  # not a \\uXXXX: the high surrogate stays alone (the next escape fails)
            elif len(low) < 6:
                return "", -1
            elif 0xDC00 <= (low_code := int(low[2:], 16)) <= 0xDFFF:
                return chr(0x10000 + ((code - 0xD800) << 10) + (low_code - 0xDC00)), j + 12
    return chr(code), j + 6


class PartialJSONParser:
    """Parse one JSON document from text deltas; read the value so far after any of them.

    ``feed(delta)`` costs O(len(delta)) amortised, never O(document so far); it returns the
    elements of ``watch`` arrays that closed in that delta. ``value`` is the partial value:
    prefix-consistent with the final one (see the module docstring for exactly what shows).

    **Live view.** ``value`` returns the parser's own containers, which keep growing as deltas
    arrive (that is what makes reading it O(1)). Containers that have closed, and item values,
    never change again; the ones still open (the path from the root to the cursor) do, and a
    string still arriving is refreshed in its container when ``value`` is read. To keep a
    value as it is now, take :meth:`snapshot` (fresh copies of the open containers only).

    **Watched arrays.** ``watch=["items[*]"]`` reports each element of the array under the
    root object's key ``items`` once, in order, when it closes; ``"[*]"`` is a root array,
    ``"a.b[*]"`` a nested one, ``"rows[*].tags[*]"`` the ``tags`` of every row. Keys in a path
    cannot contain ``.``, ``[`` or ``]``.

    **Errors.** Invalid JSON never raises by default: the parser stops, ``error`` says what and
    where (``error_position``, an offset in the whole text), ``value`` keeps what was parsed
    before, and further input is ignored. Text after the top-level value closes is an error
    too, except whitespace (``complete`` stays true: the value did close). With
    ``strict=True`` the same error raises :class:`oxide_rx.DecodeError` (from that ``feed``
    or ``finish``, and from any call after).

    >>> parser = PartialJSONParser(watch=["items[*]"])
    >>> parser.feed('{"title": "Wea')
    []
    >>> parser.value
    {'title': 'Wea'}
    >>> parser.feed('ther", "items": [1, 2')
    [ArrayItem(path='items[*]', index=0, value=1)]
    >>> parser.value
    {'title': 'Weather', 'items': [1]}
    >>> parser.feed("]}")
    [ArrayItem(path='items[*]', index=1, value=2)]
    >>> parser.complete
    True
    """

    __slots__ = (
        "_base",
        "_complete",
        "_cur",
        "_dirty",
        "_error",
        "_error_position",
        "_examined",
        "_is_obj",
        "_item_pattern",
        "_key",
        "_node",
        "_parts",
        "_pending",
        "_root",
        "_snapshot",
        "_snapshot_valid",
        "_stack",
        "_state",
        "_strict",
    )

    def __init__(self, *, watch: Iterable[str] = (), strict: bool = False) -> None:
        self._strict = strict
        self._state = _VALUE
        self._root: JSONValue = None
        # The innermost open container (None at top level), whether it is a dict, the key being
        # filled in it, the watched pattern of its elements, and its node in the watch trie.
        # Typed Any: it is a dict or a list as ``_is_obj`` says, which mypy cannot follow.
        self._cur: Any = None
        self._is_obj = False
        self._key = ""
        self._item_pattern: str | None = None
        self._node = _compile_watch(watch)
        # The enclosing frames, same fields; the first one is the top level.
        self._stack: list[tuple[Any, bool, str, str | None, _Watch | None]] = []
        self._parts: list[str] = []  # the decoded pieces of the string in progress
        self._dirty = False  # the value string in progress has pieces its container lacks
        self._pending = ""  # a token cut by the end of the last delta, parsed again with the next
        self._base = 0  # offset of ``_pending`` in the whole text
        self._examined = 0
        self._complete = False
        self._error: str | None = None
        self._error_position: int | None = None
        self._snapshot: JSONValue = None
        self._snapshot_valid = False

    @property
    def value(self) -> JSONValue:
        """The value so far, a live view (see the class docstring); ``None`` before it starts.

        >>> parser = PartialJSONParser()
        >>> parser.feed('{"a": [1, "b')
        []
        >>> parser.value
        {'a': [1, 'b']}
        """
        if self._dirty:
            self._refresh_string()
        return self._root

    def mark(self) -> Mark | None:
        """Remember where the live value stands, in O(depth), so that :func:`restore` can
        rebuild it as it is now after more text has been parsed (the containers only grow,
        and only their last entry changes). ``None`` when the value can no longer change:
        not started, a bare scalar, complete, or failed.

        An object that repeats a key (the last one wins, as with :func:`json.loads`) changes
        an earlier entry; a value restored from before the repeat then shows the later value
        under that key.
        """
        stack = self._stack
        if not stack or self._complete or self._state == _FAILED:
            return None
        if self._dirty:
            self._refresh_string()
        # An enclosing container's last entry is the next open one (restore puts its copy
        # there): only its length and, for an object, the key are needed. The innermost
        # container's last entry is kept as it is now (a string in progress, say).
        entries: list[tuple[Any, int, str | None, JSONValue]] = [
            (container, len(container), key, None)
            for container, _, key, _, _ in islice(stack, 1, None)  # [0]: the top level
        ]
        cur = self._cur
        length = len(cur)
        if not length:
            entries.append((cur, 0, None, None))
        elif self._is_obj:
            key = next(reversed(cur))
            entries.append((cur, length, key, cur[key]))
        else:
            entries.append((cur, length, None, cur[-1]))
        return tuple(entries)

    def snapshot(self) -> JSONValue:
        """The value so far, in objects the parser will not change afterwards.

        The containers still open (the path from the root to the cursor) are fresh shallow
        copies; everything that has closed is shared, as it is final. The cost is the size of
        those open containers, not of the document; without a feed in between, the same
        object returns.

        >>> parser = PartialJSONParser()
        >>> _ = parser.feed('{"a": ["x", 1')
        >>> kept = parser.snapshot()
        >>> _ = parser.feed(', 2], "b": true}')
        >>> kept, parser.value
        ({'a': ['x']}, {'a': ['x', 1, 2], 'b': True})
        """
        if self._snapshot_valid:
            return self._snapshot
        value = self.value
        stack = self._stack
        if stack and self._state != _FAILED:
            copy = self._cur.copy()
            for depth in range(len(stack) - 1, 0, -1):
                container, is_obj, key, _, _ = stack[depth]
                outer = container.copy()
                if is_obj:
                    outer[key] = copy
                else:
                    outer[-1] = copy
                copy = outer
            value = copy
        self._snapshot = value
        self._snapshot_valid = True
        return value

    @property
    def settled(self) -> int:
        """How many leading entries of the root object (keys) or array (elements) are final.

        Every entry but the last one of an open root is final; the last one is too unless it
        is a string still arriving or a container still open. O(1): what typed partial views
        ("the fields complete so far") are built from.

        >>> parser = PartialJSONParser()
        >>> _ = parser.feed('{"a": 1, "b": "x')
        >>> parser.settled
        1
        >>> _ = parser.feed('y", "c": [')
        >>> parser.settled
        2
        """
        root = self._root
        if not isinstance(root, dict | list):
            return 0
        count = len(root)
        if self._complete or not count:
            return count
        # After an error the state no longer says whether the last entry had closed: leave
        # it out (a shorter prefix is still a true one).
        if len(self._stack) > 1 or self._state == _STRING or self._state == _FAILED:
            return count - 1
        return count

    @property
    def complete(self) -> bool:
        """Whether the top-level value has closed (its final value is then ``value``).

        >>> parser = PartialJSONParser()
        >>> _ = parser.feed('[1, 2')
        >>> parser.complete
        False
        >>> _ = parser.feed(']  ')
        >>> parser.complete, parser.value
        (True, [1, 2])
        """
        return self._complete

    @property
    def error(self) -> str | None:
        """What made the text invalid JSON, and where; ``None`` while it is valid so far.

        >>> parser = PartialJSONParser()
        >>> _ = parser.feed('{"a": 1} x')
        >>> parser.error, parser.value
        ('Extra data at char 9', {'a': 1})
        """
        return self._error

    @property
    def error_position(self) -> int | None:
        """The offset of the error in the whole text fed (``None`` without an error).

        >>> parser = PartialJSONParser()
        >>> _ = parser.feed('[1, ')
        >>> _ = parser.feed('}')
        >>> parser.error_position
        4
        """
        return self._error_position

    @property
    def chars_examined(self) -> int:
        """How many characters parsing has read (a counter for tests and benchmarks).

        Each delta is read once, together with the unfinished token before it (at most 11
        characters, or a number's length), so this stays within ``len(text) + 11 * feeds`` for
        documents of short numbers: proof that no delta makes the parser read the document again.

        >>> parser = PartialJSONParser()
        >>> for delta in ['{"a"', ': tr', 'ue}']:
        ...     _ = parser.feed(delta)
        >>> parser.chars_examined  # 11 characters, "tr" read twice
        13
        """
        return self._examined

    def feed(self, delta: str) -> list[ArrayItem]:
        """Parse the next piece of the text; return the watched elements that closed in it.

        Costs O(len(delta)) amortised. After an error, returns ``[]`` and ignores ``delta``
        (strict mode: raises the error again).

        >>> parser = PartialJSONParser(watch=["[*]"])
        >>> parser.feed('["a", "b", "c')
        [ArrayItem(path='[*]', index=0, value='a'), ArrayItem(path='[*]', index=1, value='b')]
        """
        if self._error is not None:
            if self._strict:
                raise DecodeError(f"invalid JSON: {self._error}")
            return []
        if not delta:
            return []
        self._snapshot_valid = False
        pending = self._pending
        if self._state >= _STRING and not pending and _string_stop(delta) is None:
            # Plain text inside a string, the most common delta of all: no state changes.
            self._parts.append(delta)
            self._dirty = self._state == _STRING
            self._examined += len(delta)
            self._base += len(delta)
            return []
        return self._parse(pending + delta if pending else delta, False)

    def finish(self) -> None:
        """Say the text has ended: a bare top-level number completes, and a document that has
        not closed becomes an error (``Unexpected end of input``). No watched element can
        close here (it would have closed with its own delta), so nothing is returned.

        >>> parser = PartialJSONParser()
        >>> _ = parser.feed('-12.5')
        >>> parser.value, parser.complete
        (None, False)
        >>> parser.finish()
        >>> parser.value, parser.complete
        (-12.5, True)
        """
        if self._error is not None:
            if self._strict:
                raise DecodeError(f"invalid JSON: {self._error}")
            return
        if self._complete:
            return
        self._snapshot_valid = False
        self._parse(self._pending, True)
        if not self._complete and self._error is None:
            self._fail("Unexpected end of input", self._base + len(self._pending))

    def _refresh_string(self) -> None:
        """Put the string in progress, as far as it has arrived, into its container."""
        parts = self._parts
        string = "".join(parts)
        parts.clear()
        parts.append(string)
        cur = self._cur
        if cur is None:
            self._root = string
        elif self._is_obj:
            cur[self._key] = string
        else:
            cur[-1] = string
        self._dirty = False

    def _fail(self, message: str, position: int) -> None:
        self._state = _FAILED
        self._pending = ""
        self._error = f"{message} at char {position}"
        self._error_position = position
        if self._strict:
            raise DecodeError(f"invalid JSON: {self._error}")

    def _parse(self, text: str, at_end: bool) -> list[ArrayItem]:
        """The state machine, over ``text`` (the pending token, then the delta).

        One long function on purpose: the state lives in locals while it runs (an attribute
        access per character would double the cost), and every step of the loop consumes at
        least one character, most a whole run of them with one regex or ``str`` call.
        """
        events: list[ArrayItem] = []
        n = len(text)
        self._examined += n
        state = self._state
        cur = self._cur
        is_obj = self._is_obj
        key = self._key
        item_pattern = self._item_pattern
        node = self._node
        stack = self._stack
        parts = self._parts
        dirty = self._dirty
        value: JSONValue
        invalid: _Invalid | None = None
        i = 0
        try:
            while i < n:
                if state >= _STRING:
                    match = _string_stop(text, i)
                    if match is None:
                        parts.append(text[i:])
                        dirty = state == _STRING
                        i = n
                        break
                    j = match.start()
                    if j > i:
                        parts.append(text[i:j])
                        dirty = state == _STRING
                    c = text[j]
                    if c == '"':
                        string = "".join(parts)
                        parts.clear()
                        i = j + 1
                        if state == _KEY_STRING:
                            key = string
                            state = _COLON
                            continue
                        dirty = False
                        state = _AFTER
                        if cur is None:
                            self._root = string
                            state = _DONE
                            self._complete = True
                        elif is_obj:
                            cur[key] = string
                        else:
                            cur[-1] = string
                            if item_pattern is not None:
                                events.append(ArrayItem(item_pattern, len(cur) - 1, string))
                        continue
                    if c == "\\":
                        chars, end = _unescape(text, j)
                        if end < 0:  # cut short: parse it again with the next delta
                            i = j
                            break
                        parts.append(chars)
                        dirty = state == _STRING
                        i = end
                        continue
                    raise _Invalid("Invalid control character", j)

                c = text[i]
                if c in _WHITESPACE:
                    match = _non_whitespace(text, i + 1)
                    i = n if match is None else match.start()
                    continue

                if state == _AFTER:
                    if c == ",":
                        state = _KEY if is_obj else _VALUE
                        i += 1
                        continue
                    if c != ("}" if is_obj else "]"):
                        raise _Invalid("Expecting ',' delimiter", i)
                    # falls through to close the container

                elif state <= _VALUE_OR_END:
                    if c != "]" or state == _VALUE:
                        if c == '"':
                            match = _string_stop(text, i + 1)
                            if match is None or match.group() != '"':
                                # Longer than this delta (or escaped): shown while it arrives.
                                if cur is None:
                                    self._root = ""
                                elif is_obj:
                                    cur[key] = ""
                                else:
                                    cur.append("")
                                state = _STRING
                                i += 1
                                continue
                            value = text[i + 1 : match.start()]
                            i = match.end()
                        elif c == "{" or c == "[":
                            new: dict[str, JSONValue] | list[JSONValue] = {} if c == "{" else []
                            if cur is None:
                                self._root = new
                                child = node
                            elif is_obj:
                                cur[key] = new
                                child = None if node is None else node.keys.get(key)
                            else:
                                cur.append(new)
                                child = None if node is None else node.each
                            stack.append((cur, is_obj, key, item_pattern, node))
                            cur = new
                            node = child
                            i += 1
                            if c == "{":
                                is_obj = True
                                item_pattern = None
                                state = _KEY_OR_END
                            else:
                                is_obj = False
                                each = None if child is None else child.each
                                item_pattern = None if each is None else each.pattern
                                state = _VALUE_OR_END
                            continue
                        elif c in "-0123456789":
                            match = _number_stop(text, i + 1)
                            end = n if match is None else match.start()
                            if end == n and (not at_end or cur is not None):
                                # More digits may follow: parse it with the next delta. At the
                                # end of the text, only a bare top-level number is complete.
                                break
                            number = _number.match(text, i, end)
                            if number is None:
                                raise _Invalid("Expecting value", i)
                            follow = _WHITESPACE if cur is None else _DELIMITERS
                            if number.end() != end or (end < n and text[end] not in follow):
                                # json.loads fails there too: never show the number
                                where = "Extra data" if cur is None else "Expecting ',' delimiter"
                                raise _Invalid(where, number.end())
                            token = text[i:end]
                            if number.lastindex == 1:
                                try:
                                    value = int(token)
                                except ValueError:  # over sys.get_int_max_str_digits()
                                    raise _Invalid("Integer too long", i) from None
                            else:
                                value = float(token)
                            i = end
                        elif c in _LITERALS:
                            word, value = _LITERALS[c]
                            if text.startswith(word, i):
                                i += len(word)
                            elif n - i < len(word) and word.startswith(text[i:]):
                                break  # cut short: parse it again with the next delta
                            else:
                                raise _Invalid("Expecting value", i)
                        else:
                            raise _Invalid("Expecting value", i)
                        # A complete scalar.
                        state = _AFTER
                        if cur is None:
                            self._root = value
                            state = _DONE
                            self._complete = True
                        elif is_obj:
                            cur[key] = value
                        else:
                            cur.append(value)
                            if item_pattern is not None:
                                events.append(ArrayItem(item_pattern, len(cur) - 1, value))
                        continue
                    # falls through to close the (empty) array

                elif state == _COLON:
                    if c != ":":
                        raise _Invalid("Expecting ':' delimiter", i)
                    state = _VALUE
                    i += 1
                    continue

                elif state <= _KEY:
                    if c != "}" or state == _KEY:
                        if c != '"':
                            raise _Invalid("Expecting property name enclosed in double quotes", i)
                        match = _string_stop(text, i + 1)
                        if match is None or match.group() != '"':
                            state = _KEY_STRING
                            i += 1
                        else:
                            key = text[i + 1 : match.start()]
                            i = match.end()
                            state = _COLON
                            if i < n and text[i] == ":":  # the usual '"key":', in one step
                                state = _VALUE
                                i += 1
                        continue
                    # falls through to close the (empty) object

                else:  # _DONE
                    raise _Invalid("Extra data", i)

                # The innermost container closes.
                closed = cur
                cur, is_obj, key, item_pattern, node = stack.pop()
                i += 1
                if cur is None:
                    state = _DONE
                    self._complete = True
                else:
                    state = _AFTER
                    if item_pattern is not None:
                        events.append(ArrayItem(item_pattern, len(cur) - 1, closed))
        except _Invalid as error:
            invalid = error
        self._state = state
        self._cur = cur
        self._is_obj = is_obj
        self._key = key
        self._item_pattern = item_pattern
        self._node = node
        self._dirty = dirty
        self._pending = text[i:] if i < n else ""
        self._base += i
        if invalid is not None:
            self._fail(invalid.message, self._base - i + invalid.index)
        return events
