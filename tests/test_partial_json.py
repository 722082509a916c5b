"""The incremental partial-JSON parser: every partial value is a prefix of the final one, the
final value is json.loads', watched array elements fire once each, in order, and a delta costs
its own length (checked with the parser's ``chars_examined`` counter, never the wall clock).

"A prefix of the final value", precisely (``assert_prefix_of``): a complete scalar equals the
final's at the same path (same type: ``1`` is not ``1.0`` nor ``True``); a string in progress is
a prefix of the final string; a container holds a prefix of the final's keys (in order) or
elements, all equal to the final's except the last, which is itself a prefix of the final's.
"""

from __future__ import annotations

import doctest
import itertools
import json
import random
from typing import Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import oxide_rx
from oxide_rx._core import partial_json
from oxide_rx._core.partial_json import ArrayItem, JSONValue, PartialJSONParser

# --- the reference: what a prefix of the final value is ---------------------------------------


def assert_same(actual: Any, expected: Any) -> None:
    """Equal, with the same types all the way down (json.loads: 1 is int, 1.0 is float)."""
    assert type(actual) is type(expected), (actual, expected)
    if isinstance(expected, dict):
        assert list(actual) == list(expected)
        for key in expected:
            assert_same(actual[key], expected[key])
    elif isinstance(expected, list):
        assert len(actual) == len(expected), (actual, expected)
        for item, final in zip(actual, expected, strict=True):
            assert_same(item, final)
    elif isinstance(expected, float):
        assert repr(actual) == repr(expected)  # tells -0.0 from 0.0
    else:
        assert actual == expected


def assert_prefix_of(partial: Any, final: Any) -> None:
    """``partial`` is what a parser may show on the way to ``final`` (see the module docstring)."""
    if isinstance(final, str):
        assert type(partial) is str and final.startswith(partial), (partial, final)
    elif isinstance(final, list):
        assert type(partial) is list and len(partial) <= len(final), (partial, final)
        for index, item in enumerate(partial):
            if index < len(partial) - 1:
                assert_same(item, final[index])
            else:
                assert_prefix_of(item, final[index])
    elif isinstance(final, dict):
        assert type(partial) is dict, (partial, final)
        keys = list(partial)
        assert keys == list(final)[: len(keys)], (partial, final)
        for key in keys[:-1]:
            assert_same(partial[key], final[key])
        if keys:
            assert_prefix_of(partial[keys[-1]], final[keys[-1]])
    else:
        assert_same(partial, final)


def array_patterns(value: Any, pattern: str = "") -> set[str]:
    """Every watch path naming an array in ``value`` (keys a path can spell only)."""
    found: set[str] = set()
    if isinstance(value, list):
        found.add(pattern + "[*]")
        for item in value:
            found |= array_patterns(item, pattern + "[*]")
    elif isinstance(value, dict):
        for key, item in value.items():
            if key and not set(key) & set(".[]"):
                found |= array_patterns(item, f"{pattern}.{key}" if pattern else key)
    return found


def expected_items(value: Any, watched: set[str]) -> list[tuple[str, int, Any]]:
    """The elements of watched arrays in the order they close: children before their parent."""
    items: list[tuple[str, int, Any]] = []

    def visit(node: Any, pattern: str | None) -> None:
        if isinstance(node, list):
            each = None if pattern is None else pattern + "[*]"
            for index, item in enumerate(node):
                visit(item, each)
                if each in watched:
                    items.append((each, index, item))
        elif isinstance(node, dict):
            for key, item in node.items():
                spellable = pattern is not None and key and not set(key) & set(".[]")
                visit(item, (f"{pattern}.{key}" if pattern else key) if spellable else None)

    visit(value, "")
    return items


# --- random documents, written out in every way JSON allows ------------------------------------

_SPECIAL_CHARACTERS = '"\\/\b\f\n\r\t\x00\x1f\x7fé€😀\u2028'
characters = (
    st.sampled_from(_SPECIAL_CHARACTERS)
    | st.characters()
    | st.characters(categories=["Cs"])  # lone surrogates: json.loads pairs adjacent ones
)
scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=-(10**40), max_value=10**40)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(characters, max_size=12)
)
documents = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=5)
        | st.dictionaries(st.text(characters, max_size=6), children, max_size=5)
    ),
    max_leaves=25,
)
_WHITESPACE = ["", "", "", " ", "\n", "\t", "\r\n  "]


def write_string(text: str, rng: random.Random, ensure_ascii: bool) -> str:
    out = ['"']
    for char in text:
        code = ord(char)
        hex_escape = "\\u" + (f"{code:04x}" if rng.random() < 0.5 else f"{code:04X}")
        if code > 0xFFFF:
            high, low = 0xD800 + ((code - 0x10000) >> 10), 0xDC00 + ((code - 0x10000) & 0x3FF)
            pair = f"\\u{high:04x}\\u{low:04x}"
            out.append(pair if ensure_ascii or rng.random() < 0.3 else char)
        elif char in '"\\' or code < 0x20:
            short = json.dumps(char)[1:-1]
            out.append(short if rng.random() < 0.6 else hex_escape)
        elif char == "/":
            out.append(rng.choice(["/", "\\/"]))
        elif code > 0x7E and ensure_ascii:
            out.append(hex_escape)
        else:
            out.append(hex_escape if rng.random() < 0.1 else char)
    out.append('"')
    return "".join(out)


def write_number(number: int | float, rng: random.Random) -> str:
    if isinstance(number, int):
        if number == 0 and rng.random() < 0.3:
            return "-0"
        return str(number)
    text = rng.choice([repr(number), f"{number:.17e}", f"{number:.17E}"])
    return text


def write(value: Any, rng: random.Random, ensure_ascii: bool) -> str:
    """JSON text for ``value`` with random whitespace, escapes and number spellings."""

    def space() -> str:
        return rng.choice(_WHITESPACE)

    if value is None or isinstance(value, bool):
        return json.dumps(value)
    if isinstance(value, int | float):
        return write_number(value, rng)
    if isinstance(value, str):
        return write_string(value, rng, ensure_ascii)
    if isinstance(value, list):
        items = [space() + write(item, rng, ensure_ascii) + space() for item in value]
        return "[" + (",".join(items) if items else space()) + "]"
    members = [
        f"{space()}{write_string(key, rng, ensure_ascii)}{space()}:"
        f"{space()}{write(item, rng, ensure_ascii)}{space()}"
        for key, item in value.items()
    ]
    return "{" + (",".join(members) if members else space()) + "}"


def refuse_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [key for key, _ in pairs]
    assume(len(set(keys)) == len(keys))
    return dict(pairs)


@st.composite
def json_texts(draw: st.DrawFn) -> str:
    rng = draw(st.randoms(use_true_random=False))
    text = write(draw(documents), rng, ensure_ascii=draw(st.booleans()))
    # Distinct keys can meet once unescaped (two lone surrogates make a pair): a repeated key
    # shows its earlier value first, which is not a prefix of the final (tested on its own).
    json.loads(text, object_pairs_hook=refuse_duplicate_keys)
    return rng.choice(_WHITESPACE) + text + rng.choice(_WHITESPACE)


def closes_at(text: str) -> int:
    """How many characters must be fed before the document reports ``complete``."""
    end = len(text.rstrip(" \t\n\r"))
    bare_number = text.strip(" \t\n\r")[-1] in "0123456789"
    return end + 1 if bare_number else end  # a bare number needs a delimiter (or finish())


def feed_pieces(
    text: str, pieces: list[str], watch: set[str] | None = None
) -> tuple[PartialJSONParser, list[ArrayItem]]:
    """Feed ``pieces`` (which make up ``text``), checking the partial value after each one."""
    final = json.loads(text)
    parser = PartialJSONParser(watch=sorted(watch or ()))
    items: list[ArrayItem] = []
    fed = 0
    for piece in pieces:
        items += parser.feed(piece)
        fed += len(piece)
        assert parser.error is None, parser.error
        assert parser.complete == (fed >= closes_at(text)), fed
        if parser.value is not None:  # None: nothing has started (or the document is null)
            assert_prefix_of(parser.value, final)
        elif isinstance(final, dict | list | str):  # these show from their first character
            assert not text[:fed].strip(" \t\n\r"), fed
    parser.finish()
    assert parser.error is None, parser.error
    assert parser.complete
    assert_same(parser.value, final)
    return parser, items


def shown_by(parser: PartialJSONParser) -> Any:
    """The partial value, typed loosely for the assertions on it."""
    return parser.value


def split(text: str, cuts: list[int]) -> list[str]:
    bounds = [0, *sorted(cuts), len(text)]
    return [text[start:end] for start, end in itertools.pairwise(bounds)]


# --- properties ----------------------------------------------------------------------------------


@settings(max_examples=150, deadline=None)
@given(json_texts())
def test_every_prefix_fed_one_character_at_a_time_is_consistent(text: str) -> None:
    feed_pieces(text, list(text))


@settings(max_examples=60, deadline=None)
@given(json_texts())
def test_cut_at_every_position_into_two_pieces(text: str) -> None:
    for cut in range(len(text) + 1):
        feed_pieces(text, split(text, [cut]))


@settings(max_examples=200, deadline=None)
@given(json_texts(), st.data())
def test_random_pieces_give_a_consistent_value_and_json_loads_at_the_end(
    text: str, data: st.DataObject
) -> None:
    cuts = data.draw(st.lists(st.integers(0, len(text)), max_size=len(text) + 2))
    feed_pieces(text, split(text, cuts))  # repeated cuts feed empty deltas


@settings(max_examples=200, deadline=None)
@given(json_texts(), st.data())
def test_watched_array_elements_fire_once_each_in_order_with_final_values(
    text: str, data: st.DataObject
) -> None:
    final = json.loads(text)
    patterns = sorted(array_patterns(final))
    watched = (
        set(data.draw(st.lists(st.sampled_from(patterns), unique=True))) if patterns else set()
    )
    cuts = data.draw(st.lists(st.integers(0, len(text)), max_size=len(text)))
    _, items = feed_pieces(text, split(text, cuts), watched)
    expected = expected_items(final, watched)
    assert [(item.path, item.index) for item in items] == [(p, i) for p, i, _ in expected]
    for item, (_, _, value) in zip(items, expected, strict=True):
        assert_same(item.value, value)


@settings(max_examples=100, deadline=None)
@given(json_texts(), st.data())
def test_snapshots_keep_the_value_they_had_when_taken(text: str, data: st.DataObject) -> None:
    cuts = data.draw(st.lists(st.integers(0, len(text)), max_size=len(text)))
    parser = PartialJSONParser()
    kept: list[tuple[JSONValue, str]] = []
    for piece in split(text, cuts):
        parser.feed(piece)
        snapshot = parser.snapshot()
        kept.append((snapshot, json.dumps(snapshot)))
    parser.finish()
    for snapshot, as_taken in kept:
        assert json.dumps(snapshot) == as_taken


def refuse_constants(name: str) -> None:
    raise ValueError(f"{name} is not JSON")  # json.loads accepts NaN and Infinity; RFC 8259 not


@settings(max_examples=300, deadline=None)
@given(
    json_texts(),
    st.integers(min_value=0),
    st.sampled_from(["insert", "delete", "replace"]),
    st.sampled_from(list('{}[]",:\\ 0-.eEtfnu1x\x01')),
    st.data(),
)
def test_a_corrupted_document_fails_where_json_loads_fails(
    text: str, where: int, edit: str, char: str, data: st.DataObject
) -> None:
    where %= len(text) + 1
    after = where + (edit != "insert")
    text = text[:where] + ("" if edit == "delete" else char) + text[after:]
    try:
        expected = json.loads(text, parse_constant=refuse_constants)
        failure = None
    except ValueError as error:
        expected, failure = None, error
    cuts = data.draw(st.lists(st.integers(0, len(text)), max_size=8))
    parser = PartialJSONParser()
    for piece in split(text, cuts):
        parser.feed(piece)  # never raises
    parser.finish()
    if failure is None:
        assert parser.error is None
        assert_same(parser.value, expected)
    else:
        assert parser.error is not None
        # At the end of the text we say "Unexpected end of input" (json.loads names the token
        # cut short, at its start); elsewhere the same place as json.loads.
        if isinstance(failure, json.JSONDecodeError) and parser.error_position != len(text):
            assert parser.error_position == failure.pos, (parser.error, failure)


# --- numbers and literals -------------------------------------------------------------------------


def test_a_number_cut_mid_way_shows_only_once_complete() -> None:
    parser = PartialJSONParser()
    parser.feed('{"score": 42')
    assert parser.value == {}
    parser.feed(".731}")
    assert_same(parser.value, {"score": 42.731})


def test_an_array_number_shows_once_a_delimiter_follows() -> None:
    parser = PartialJSONParser()
    parser.feed("[1, 2")
    assert parser.value == [1]
    parser.feed(" ")
    assert parser.value == [1, 2]


def test_an_exponent_cut_after_e_waits() -> None:
    parser = PartialJSONParser()
    parser.feed("[1e")
    assert parser.value == []
    parser.feed("-3]")
    assert_same(parser.value, [1e-3])


def test_a_bare_top_level_number_completes_at_finish() -> None:
    parser = PartialJSONParser()
    parser.feed("123")
    assert (parser.value, parser.complete) == (None, False)
    parser.finish()
    assert (parser.value, parser.complete, parser.error) == (123, True, None)


def test_a_number_cut_by_the_end_of_the_text_never_shows() -> None:
    parser = PartialJSONParser()
    parser.feed('{"a": [1, 2')
    parser.finish()
    assert parser.error == "Unexpected end of input at char 11"
    assert parser.value == {"a": [1]}


def test_a_literal_cut_by_the_end_of_the_text_is_an_unexpected_end() -> None:
    parser = PartialJSONParser()
    parser.feed("[tr")
    parser.finish()
    assert parser.error == "Unexpected end of input at char 3"


def test_a_bare_top_level_number_completes_at_whitespace() -> None:
    parser = PartialJSONParser()
    parser.feed("-7.5\n")
    assert (parser.value, parser.complete) == (-7.5, True)


def test_numbers_convert_exactly_as_json_loads() -> None:
    text = "[-0, -0.0, 0.5, 1E+2, 1e-2, 2.5e308, 123456789012345678901234567890, -1.0e0]"
    parser = PartialJSONParser()
    parser.feed(text)
    assert_same(parser.value, json.loads(text))


def test_an_integer_longer_than_python_converts_is_an_error_as_in_json_loads() -> None:
    text = "[" + "9" * 5000 + "]"
    with pytest.raises(ValueError):
        json.loads(text)
    parser = PartialJSONParser()
    parser.feed(text)
    assert parser.error == "Integer too long at char 1"
    assert parser.value == []


def test_nan_and_infinity_are_not_json() -> None:
    for text in ("[NaN]", "[Infinity]", "[-Infinity]"):
        parser = PartialJSONParser()
        parser.feed(text)
        assert parser.error is not None and parser.value == [], text


def test_literals_split_across_deltas_show_once_whole() -> None:
    parser = PartialJSONParser()
    seen = []
    for delta in ["[t", "ru", "e, n", "ul", "l, f", "als", "e]"]:
        parser.feed(delta)
        seen.append(list(shown_by(parser)))
    assert seen == [[], [], [True], [True], [True, None], [True, None], [True, None, False]]


def test_a_misspelt_literal_is_an_error_at_its_start() -> None:
    parser = PartialJSONParser()
    parser.feed('{"a": tru')
    parser.feed("x}")
    assert parser.error == "Expecting value at char 6"


def test_a_number_followed_by_a_letter_is_an_error_and_never_shows() -> None:
    parser = PartialJSONParser()
    parser.feed("[1")
    parser.feed("x]")
    assert parser.error == "Expecting ',' delimiter at char 2"
    assert parser.value == []


# --- strings and escapes -------------------------------------------------------------------------


def test_a_string_value_shows_while_it_arrives() -> None:
    parser = PartialJSONParser()
    shown = []
    for delta in ['{"text": "Hel', "lo, ", 'world"}']:
        parser.feed(delta)
        shown.append(dict(shown_by(parser)))
    assert shown == [{"text": "Hel"}, {"text": "Hello, "}, {"text": "Hello, world"}]


def test_an_escape_split_after_the_backslash_shows_once_whole() -> None:
    parser = PartialJSONParser()
    parser.feed('"line\\')
    assert parser.value == "line"
    parser.feed('nnext"')
    assert parser.value == "line\nnext"


def test_a_unicode_escape_cut_at_every_position_never_shows_half() -> None:
    text = '"caf\\u00e9!"'
    for cut in range(len(text) + 1):
        parser = PartialJSONParser()
        parser.feed(text[:cut])
        assert "café!".startswith(shown_by(parser) or ""), cut
        assert "\\" not in (shown_by(parser) or "")
        parser.feed(text[cut:])
        assert parser.value == "café!"


def test_a_surrogate_pair_split_across_deltas_never_shows_the_high_half_alone() -> None:
    text = '["\\ud83d\\ude00 ok"]'
    for cut in range(len(text) + 1):
        parser = PartialJSONParser()
        parser.feed(text[:cut])
        shown = shown_by(parser)
        assert shown in ([], None) or "😀 ok".startswith(shown[0]), (cut, shown)
        parser.feed(text[cut:])
        assert parser.value == ["😀 ok"]


def test_a_lone_high_surrogate_stays_as_json_loads_keeps_it() -> None:
    for text in ('"\\ud83d\\u0041"', '"\\ud83d"', '"\\ud83dx"', '"\\ud83d\\ud83d\\ude00"'):
        parser = PartialJSONParser()
        for char in text:
            parser.feed(char)
        assert parser.value == json.loads(text), text


def test_an_invalid_escape_is_an_error() -> None:
    parser = PartialJSONParser()
    parser.feed('["ab\\x"]')
    assert parser.error == "Invalid \\escape at char 4"
    assert parser.value == ["ab"]


def test_an_invalid_unicode_escape_is_reported_before_the_rest_arrives() -> None:
    parser = PartialJSONParser()
    parser.feed('"\\u0g')
    assert parser.error == "Invalid \\uXXXX escape at char 2"


def test_a_raw_control_character_in_a_string_is_an_error() -> None:
    parser = PartialJSONParser()
    parser.feed('{"a": "x\ny"}')
    assert parser.error == "Invalid control character at char 8"
    assert parser.value == {"a": "x"}


# --- keys ----------------------------------------------------------------------------------------


def test_a_key_shows_only_once_its_value_starts() -> None:
    parser = PartialJSONParser()
    shown = []
    for delta in ['{"ke', 'y"', ":", " ", '"', "v", '"}']:
        parser.feed(delta)
        shown.append(dict(shown_by(parser)))
    assert shown == [{}, {}, {}, {}, {"key": ""}, {"key": "v"}, {"key": "v"}]


def test_a_key_whose_value_is_a_container_shows_with_it_empty() -> None:
    parser = PartialJSONParser()
    parser.feed('{"rows": [')
    assert parser.value == {"rows": []}


def test_an_escaped_key_is_decoded() -> None:
    parser = PartialJSONParser()
    for char in '{"a\\u00e9\\"": 1}':
        parser.feed(char)
    assert parser.value == {'aé"': 1}


def test_a_duplicate_key_takes_the_last_value_as_json_loads() -> None:
    text = '{"a": 1, "b": 2, "a": [3]}'
    parser = PartialJSONParser()
    parser.feed(text)
    assert_same(parser.value, json.loads(text))


# --- completion, whitespace, trailing input -----------------------------------------------------


def test_complete_turns_true_with_the_closing_bracket() -> None:
    parser = PartialJSONParser()
    parser.feed('{"a": [1]')
    assert not parser.complete
    parser.feed("}")
    assert parser.complete


def test_whitespace_after_the_close_is_fine() -> None:
    parser = PartialJSONParser()
    parser.feed("[1] ")
    parser.feed("\n\t \r\n")
    parser.finish()
    assert (parser.value, parser.complete, parser.error) == ([1], True, None)


def test_text_after_the_close_is_an_error_and_the_value_stays() -> None:
    parser = PartialJSONParser()
    parser.feed('{"a": 1}  ')
    parser.feed('{"b"')
    assert parser.error == "Extra data at char 10"
    assert parser.error_position == 10
    assert parser.value == {"a": 1}
    assert parser.complete


def test_a_bare_number_followed_by_a_comma_is_extra_data_and_never_shows() -> None:
    parser = PartialJSONParser()
    parser.feed("12,")
    assert parser.error == "Extra data at char 2"
    assert (parser.value, parser.complete) == (None, False)


def test_empty_deltas_change_nothing() -> None:
    parser = PartialJSONParser()
    parser.feed("")
    parser.feed('["a')
    before = parser.chars_examined
    assert parser.feed("") == []
    assert parser.value == ["a"] and parser.chars_examined == before


def test_whitespace_only_is_no_value_yet() -> None:
    parser = PartialJSONParser()
    parser.feed("  \n ")
    assert (parser.value, parser.complete, parser.error) == (None, False, None)


def test_finishing_on_whitespace_only_is_an_error() -> None:
    parser = PartialJSONParser()
    parser.feed("  ")
    parser.finish()
    assert parser.error == "Unexpected end of input at char 2"


def test_finishing_a_cut_document_is_an_error_that_keeps_the_value() -> None:
    parser = PartialJSONParser()
    parser.feed('{"a": [1, 2], "b": "te')
    parser.finish()
    assert parser.error == "Unexpected end of input at char 22"
    assert parser.value == {"a": [1, 2], "b": "te"}


def test_null_document_is_complete_with_value_none() -> None:
    parser = PartialJSONParser()
    parser.feed("null")
    assert (parser.value, parser.complete) == (None, True)


# --- invalid input -------------------------------------------------------------------------------


def test_invalid_json_sets_error_and_does_not_raise() -> None:
    parser = PartialJSONParser()
    items = parser.feed('{"a": 1,}')
    assert items == []
    assert parser.error == "Expecting property name enclosed in double quotes at char 8"
    assert parser.value == {"a": 1}


def test_the_error_position_counts_from_the_start_of_the_whole_text() -> None:
    parser = PartialJSONParser()
    for delta in ["[1,", " 2,", " ]"]:
        parser.feed(delta)
    assert parser.error_position == 7
    with pytest.raises(json.JSONDecodeError) as raised:
        json.loads("[1, 2, ]")
    assert raised.value.pos == 7


def test_input_after_an_error_is_ignored() -> None:
    parser = PartialJSONParser(watch=["[*]"])
    parser.feed("[1, ]")
    examined = parser.chars_examined
    assert parser.feed(", 2, 3]") == []
    parser.finish()
    assert parser.value == [1] and parser.chars_examined == examined
    assert parser.error == "Expecting value at char 4"


def test_a_mismatched_bracket_is_an_error() -> None:
    parser = PartialJSONParser()
    parser.feed('{"a": [1}')
    assert parser.error == "Expecting ',' delimiter at char 8"


def test_a_missing_colon_is_an_error() -> None:
    parser = PartialJSONParser()
    parser.feed('{"a" 1}')
    assert parser.error == "Expecting ':' delimiter at char 5"


def test_strict_mode_raises_decode_error() -> None:
    parser = PartialJSONParser(strict=True)
    parser.feed("[1, ")
    with pytest.raises(oxide_rx.DecodeError, match="Expecting value at char 4"):
        parser.feed("}")
    with pytest.raises(oxide_rx.DecodeError):
        parser.feed("]")


def test_strict_mode_raises_at_finish_on_a_cut_document() -> None:
    parser = PartialJSONParser(strict=True)
    parser.feed('{"a": ')
    with pytest.raises(oxide_rx.DecodeError, match="Unexpected end of input"):
        parser.finish()


# --- watched arrays ------------------------------------------------------------------------------


def test_a_watched_element_fires_with_the_delta_that_closes_it() -> None:
    parser = PartialJSONParser(watch=["items[*]"])
    assert parser.feed('{"items": [{"id": 1') == []
    assert parser.feed("}") == [ArrayItem("items[*]", 0, {"id": 1})]
    assert parser.feed(', "tw') == []
    assert parser.feed('o", 3') == [ArrayItem("items[*]", 1, "two")]
    assert parser.feed("]}") == [ArrayItem("items[*]", 2, 3)]


def test_only_the_watched_path_fires() -> None:
    parser = PartialJSONParser(watch=["items[*]"])
    items = parser.feed('{"other": [1, 2], "nested": {"items": [3]}, "items": [4]}')
    assert items == [ArrayItem("items[*]", 0, 4)]


def test_a_root_array_is_watched_with_star() -> None:
    parser = PartialJSONParser(watch=["[*]"])
    assert parser.feed('[[1], {"a": []}, "s", null]') == [
        ArrayItem("[*]", 0, [1]),
        ArrayItem("[*]", 1, {"a": []}),
        ArrayItem("[*]", 2, "s"),
        ArrayItem("[*]", 3, None),
    ]


def test_a_nested_path_is_watched() -> None:
    parser = PartialJSONParser(watch=["a.b[*]"])
    assert parser.feed('{"a": {"b": [true, false], "c": [0]}, "b": [1]}') == [
        ArrayItem("a.b[*]", 0, True),
        ArrayItem("a.b[*]", 1, False),
    ]


def test_paths_through_arrays_watch_every_inner_array() -> None:
    parser = PartialJSONParser(watch=["rows[*].tags[*]", "rows[*]"])
    items = parser.feed('{"rows": [{"tags": ["x"]}, {"tags": ["y", "z"]}]}')
    assert items == [
        ArrayItem("rows[*].tags[*]", 0, "x"),
        ArrayItem("rows[*]", 0, {"tags": ["x"]}),
        ArrayItem("rows[*].tags[*]", 0, "y"),
        ArrayItem("rows[*].tags[*]", 1, "z"),
        ArrayItem("rows[*]", 1, {"tags": ["y", "z"]}),
    ]


def test_an_item_value_is_never_changed_afterwards() -> None:
    parser = PartialJSONParser(watch=["[*]"])
    (item,) = parser.feed('[{"a": [1, 2]}, ')
    parser.feed('{"a": [3]}]')
    assert item.value == {"a": [1, 2]}
    assert item.value is shown_by(parser)[0]


@pytest.mark.parametrize("path", ["items", "", "a..b[*]", "[*]x", "a[0]", "a.[*]", ".a[*]"])
def test_a_malformed_watch_path_is_refused(path: str) -> None:
    with pytest.raises(ValueError, match="watch path"):
        PartialJSONParser(watch=[path])


# --- live view and snapshots ---------------------------------------------------------------------


def test_value_is_a_live_view_updated_in_place() -> None:
    parser = PartialJSONParser()
    parser.feed('{"rows": [1')
    root = shown_by(parser)
    rows = root["rows"]
    parser.feed(", 2, 3]")
    assert parser.value is root
    assert rows == [1, 2, 3]


def test_snapshot_does_not_change_with_later_deltas() -> None:
    parser = PartialJSONParser()
    parser.feed('{"rows": [{"id": 1}, {"id": 2, "name": "a')
    kept = parser.snapshot()
    parser.feed('bc"}], "done": true}')
    assert kept == {"rows": [{"id": 1}, {"id": 2, "name": "a"}]}


def test_snapshot_shares_the_containers_that_have_closed() -> None:
    parser = PartialJSONParser()
    parser.feed('{"rows": [{"id": 1}, {"id": 2')
    kept: Any = parser.snapshot()
    assert kept == parser.value
    assert kept is not parser.value
    assert kept["rows"][0] is shown_by(parser)["rows"][0]


def test_snapshot_without_a_feed_between_returns_the_same_object() -> None:
    parser = PartialJSONParser()
    parser.feed('[{"a": "x')
    assert parser.snapshot() is parser.snapshot()


def test_snapshot_of_a_complete_document_is_its_value() -> None:
    parser = PartialJSONParser()
    parser.feed('{"a": [1]}')
    assert parser.snapshot() is parser.value


# --- cost ----------------------------------------------------------------------------------------


def realistic_arguments(records: int) -> str:
    rng = random.Random(12)
    rows = [
        {
            "id": index,
            "name": rng.choice(["Ada", "Grace", "Linus", "Guido"]) + f" #{index}",
            "score": round(rng.uniform(-100, 100), 3),
            "tags": rng.sample(["red", "green", "blue", "ünï", "😀"], 2),
            "active": rng.random() < 0.5,
            "note": None,
        }
        for index in range(records)
    ]
    summary = 'A medium text field with "quotes", \\ backslashes,\nnew lines and é. ' * 10
    return json.dumps({"title": "report", "summary": summary, "rows": rows}, ensure_ascii=True)


@pytest.mark.parametrize("records", [20, 2000])
def test_each_delta_reads_only_itself_and_a_short_cut_token(records: int) -> None:
    text = realistic_arguments(records)
    parser = PartialJSONParser(watch=["rows[*]"])
    worst = 0
    for start in range(0, len(text), 4):
        delta = text[start : start + 4]
        before = parser.chars_examined
        parser.feed(delta)
        assert parser.value is not None
        worst = max(worst, parser.chars_examined - before - len(delta))
    assert parser.complete and parser.value == json.loads(text)
    # Each delta re-reads at most the token the previous one cut (an escape, a literal, a
    # short number): the same bound for 3 KB and 200 KB, never the document.
    assert worst <= 11


def test_the_module_examples_are_true() -> None:
    failed, attempted = doctest.testmod(partial_json)
    assert attempted > 0 and failed == 0
