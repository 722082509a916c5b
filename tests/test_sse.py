"""SSEDecoder: one test per WHATWG rule (HTML §9.2.5-§9.2.6), the limits, reset() and finish()."""

from __future__ import annotations

import msgspec
import pytest

from oxide_rx import SSEError
from oxide_rx.sse import DEFAULT_MAX_EVENT_SIZE, ServerSentEvent, SSEDecoder

MiB = 1024 * 1024


def feed_all(*chunks: bytes, decoder: SSEDecoder | None = None) -> list[ServerSentEvent]:
    decoder = decoder or SSEDecoder()
    return [event for chunk in chunks for event in decoder.feed(chunk)]


def datas(*chunks: bytes) -> list[str]:
    return [event.data for event in feed_all(*chunks)]


# --- events and fields ---------------------------------------------------------------------


def test_one_event() -> None:
    assert feed_all(b'data: {"a": 1}\n\n') == [ServerSentEvent('{"a": 1}', "message", "", None)]


def test_many_events_in_one_read() -> None:
    assert datas(b"data: 1\n\ndata: 2\n\ndata: 3\n\n") == ["1", "2", "3"]


def test_event_field_sets_the_type() -> None:
    assert feed_all(b"event: delta\ndata: x\n\n")[0].event == "delta"


def test_empty_event_field_means_message() -> None:
    assert feed_all(b"event: foo\nevent:\ndata: x\n\n")[0].event == "message"


def test_event_type_does_not_carry_over_to_the_next_event() -> None:
    assert [e.event for e in feed_all(b"event: a\ndata: 1\n\ndata: 2\n\n")] == ["a", "message"]


def test_data_lines_are_joined_with_lf() -> None:
    assert datas(b"data: a\ndata: b\ndata: c\n\n") == ["a\nb\nc"]


def test_only_one_leading_space_is_stripped() -> None:
    assert datas(b"data:  two spaces\n\n") == [" two spaces"]


def test_value_without_space_after_colon() -> None:
    assert datas(b"data:x\n\n") == ["x"]


def test_colons_after_the_first_stay_in_the_value() -> None:
    assert datas(b"data: a: b:c\n\n") == ["a: b:c"]


def test_field_name_without_colon_has_an_empty_value() -> None:
    assert datas(b"data\n\ndata\ndata\n\n") == ["", "\n"]


def test_empty_data_field_dispatches_an_empty_event() -> None:
    assert datas(b"data:\n\n") == [""]


def test_field_names_are_case_sensitive() -> None:
    assert datas(b"Data: x\n\n") == []


def test_unknown_fields_are_ignored() -> None:
    assert datas(b"foo: bar\ndata: x\nbaz\n\n") == ["x"]


def test_comments_never_produce_events() -> None:
    assert datas(b": comment\n\n:\n\n: data: x\n\n") == []


def test_keep_alive_only_stream_produces_nothing() -> None:
    assert datas(b": keep-alive\n\n" * 3 + b"\n\n\n") == []


def test_comment_inside_an_event_is_skipped() -> None:
    assert datas(b"data: a\n: note\ndata: b\n\n") == ["a\nb"]


def test_block_without_data_dispatches_nothing() -> None:
    assert datas(b"event: ping\n\nretry: 5\n\nid: 3\n\n") == []


def test_unicode_line_separators_are_not_terminators() -> None:
    text = "a\u2028b\u2029c\u0085d\x0be\x0cf"
    assert datas(f"data: {text}\n\n".encode()) == [text]


def test_nul_in_data_is_kept() -> None:
    assert datas(b"data: a\x00b\n\n") == ["a\x00b"]


# --- id and retry --------------------------------------------------------------------------


def test_id_is_reported_on_the_event() -> None:
    assert feed_all(b"id: 42\ndata: x\n\n")[0].id == "42"


def test_id_persists_across_later_events() -> None:
    assert [e.id for e in feed_all(b"id: 1\ndata: a\n\ndata: b\n\n")] == ["1", "1"]


def test_empty_id_resets_the_last_event_id() -> None:
    assert [e.id for e in feed_all(b"id: 1\ndata: a\n\nid\ndata: b\n\n")] == ["1", ""]


def test_id_containing_nul_is_ignored() -> None:
    assert [e.id for e in feed_all(b"id: 1\ndata: a\n\nid: 2\x003\ndata: b\n\n")] == ["1", "1"]


def test_id_only_block_still_updates_last_event_id() -> None:
    decoder = SSEDecoder()
    events = feed_all(b"id: 7\n\ndata: x\n\n", decoder=decoder)
    assert (decoder.last_event_id, events[0].id) == ("7", "7")


def test_last_event_id_changes_when_the_block_ends() -> None:
    decoder = SSEDecoder()
    decoder.feed(b"id: 9\n")
    before = decoder.last_event_id
    decoder.feed(b"\n")
    assert (before, decoder.last_event_id) == ("", "9")


def test_retry_sets_reconnection_time_and_the_event_field() -> None:
    decoder = SSEDecoder()
    events = feed_all(b"retry: 1500\ndata: x\n\n", decoder=decoder)
    assert (events[0].retry, decoder.retry) == (1500, 1500)


def test_retry_is_only_on_the_event_of_its_block() -> None:
    assert [e.retry for e in feed_all(b"retry: 5\ndata: a\n\ndata: b\n\n")] == [5, None]


def test_retry_in_a_data_less_block_changes_only_the_reconnection_time() -> None:
    decoder = SSEDecoder()
    events = feed_all(b"retry: 5\n\ndata: a\n\n", decoder=decoder)
    assert ([e.retry for e in events], decoder.retry) == ([None], 5)


@pytest.mark.parametrize("value", [b"", b"+5", b"-1", b" 7", b"1_000", b"1.5", b"5ms", b"\xd9\xa3"])
def test_retry_that_is_not_ascii_digits_is_ignored(value: bytes) -> None:
    decoder = SSEDecoder()
    events = feed_all(b"retry: 10\n\nretry: " + value + b"\ndata: x\n\n", decoder=decoder)
    assert (events[0].retry, decoder.retry) == (None, 10)


# --- line terminators and bytes ------------------------------------------------------------


@pytest.mark.parametrize("eol", [b"\n", b"\r", b"\r\n"], ids=["LF", "CR", "CRLF"])
def test_each_terminator_ends_lines(eol: bytes) -> None:
    assert datas(b"data: a" + eol + b"data: b" + eol + eol) == ["a\nb"]


def test_mixed_terminators() -> None:
    assert datas(b"data: a\rdata: b\r\ndata: c\n\r\n") == ["a\nb\nc"]


def test_cr_at_end_of_read_then_lf_in_next_read_is_one_terminator() -> None:
    assert datas(b"data: a\r", b"\ndata: b\r", b"\n\r", b"\n") == ["a\nb"]


def test_cr_at_end_of_read_then_cr_is_two_terminators() -> None:
    assert datas(b"data: a\r", b"\r") == ["a"]


def test_event_ended_by_cr_at_end_of_read_is_dispatched_without_waiting() -> None:
    assert datas(b"data: a\r\r") == ["a"]


def test_empty_reads_change_nothing() -> None:
    assert datas(b"", b"data: a\r", b"", b"\n", b"", b"\n", b"") == ["a"]


def test_leading_bom_is_stripped() -> None:
    assert datas(b"\xef\xbb\xbfdata: a\n\n") == ["a"]


def test_bom_split_across_three_feeds_is_stripped() -> None:
    assert datas(b"\xef", b"\xbb", b"\xbfdata: a\n\n") == ["a"]


def test_second_bom_makes_the_field_name_unknown() -> None:
    assert datas(b"\xef\xbb\xbf\xef\xbb\xbfdata: a\n\ndata: b\n\n") == ["b"]


def test_bom_after_the_stream_start_is_not_stripped() -> None:
    assert datas(b"data: a\n\n", b"\xef\xbb\xbfdata: b\n\n") == ["a"]


def test_incomplete_bom_at_start_is_content() -> None:
    assert feed_all(b"\xef\xbb", b"data: a\n\n") == []


def test_multi_byte_character_split_across_reads() -> None:
    body = "data: изв€😀\n\n".encode()
    assert datas(*(body[i : i + 1] for i in range(len(body)))) == ["изв€😀"]


def test_invalid_utf8_becomes_replacement_character() -> None:
    assert datas(b"data: a\xffb\xe2\x82\n\n") == ["a\ufffdb\ufffd"]


def test_invalid_utf8_in_event_and_id() -> None:
    event = feed_all(b"event: \xff\nid: \xfe\ndata: x\n\n")[0]
    assert (event.event, event.id) == ("\ufffd", "\ufffd")


# --- finish() and reset() ------------------------------------------------------------------


def test_finish_discards_an_event_without_its_blank_line() -> None:
    decoder = SSEDecoder()
    assert (decoder.feed(b"data: a\n"), decoder.finish()) == ([], [])


def test_finish_discards_an_unterminated_line() -> None:
    decoder = SSEDecoder()
    decoder.feed(b"data: a\n\ndata: b")
    assert decoder.finish() == []


def test_finish_does_not_commit_a_pending_id() -> None:
    decoder = SSEDecoder()
    decoder.feed(b"id: 1\ndata: a\n\nid: 2\n")
    decoder.finish()
    assert decoder.last_event_id == "1"


def test_decoder_reads_a_new_stream_after_finish() -> None:
    decoder = SSEDecoder()
    decoder.feed(b"data: lost")
    decoder.finish()
    assert feed_all(b"\xef\xbb\xbfdata: a\n\n", decoder=decoder)[0].data == "a"


def test_reset_forgets_partial_line_and_event() -> None:
    decoder = SSEDecoder()
    decoder.feed(b"event: old\ndata: old\ndata: par")
    decoder.reset()
    assert feed_all(b"data: new\n\n", decoder=decoder) == [ServerSentEvent("new")]


def test_reset_keeps_last_event_id() -> None:
    decoder = SSEDecoder()
    decoder.feed(b"id: 5\ndata: a\n\nid: 6\n")
    decoder.reset()
    events = feed_all(b"data: b\n\n", decoder=decoder)
    assert (decoder.last_event_id, events[0].id) == ("5", "5")


def test_reset_keeps_reconnection_time() -> None:
    decoder = SSEDecoder()
    decoder.feed(b"retry: 250\n")
    decoder.reset()
    assert decoder.retry == 250


def test_reset_starts_a_new_stream_so_a_bom_is_stripped_again() -> None:
    decoder = SSEDecoder()
    decoder.feed(b"data: a\n\n")
    decoder.reset()
    assert feed_all(b"\xef\xbb\xbfdata: b\n\n", decoder=decoder)[0].data == "b"


def test_reset_forgets_a_pending_cr() -> None:
    decoder = SSEDecoder()
    decoder.feed(b"data: a\r")
    decoder.reset()
    assert feed_all(b"\ndata: b\n\n", decoder=decoder)[0].data == "b"


# --- limits --------------------------------------------------------------------------------


def test_default_max_event_size_is_128_mib() -> None:
    assert DEFAULT_MAX_EVENT_SIZE == 134_217_728


def test_event_of_exactly_max_event_size_is_accepted() -> None:
    decoder = SSEDecoder(max_event_size=10)
    assert decoder.feed(b"data: " + b"x" * 10 + b"\n\n")[0].data == "x" * 10


def test_event_over_max_event_size_raises() -> None:
    with pytest.raises(SSEError, match=r"event too large.*11 > 10 bytes"):
        SSEDecoder(max_event_size=10).feed(b"data: " + b"x" * 11 + b"\n\n")


def test_multi_line_event_counts_the_joined_data() -> None:
    with pytest.raises(SSEError, match="max_event_size"):
        SSEDecoder(max_event_size=10).feed(b"data: 12345\ndata: 12345\n\n")


def test_many_small_events_never_hit_the_limit() -> None:
    assert len(SSEDecoder(max_event_size=10).feed(b"data: 1234567890\n\n" * 1000)) == 1000


def test_endless_line_without_terminator_raises() -> None:
    decoder = SSEDecoder(max_event_size=1000)
    with pytest.raises(SSEError, match=r"line too long.*over the limit"):
        for _ in range(100):
            decoder.feed(b"x" * 100)


def test_endless_line_raises_before_memory_grows_past_the_limit() -> None:
    decoder = SSEDecoder(max_event_size=MiB)
    read = b"y" * (64 * 1024)
    fed = 0
    with pytest.raises(SSEError):
        while fed < 10 * MiB:
            decoder.feed(read)
            fed += len(read)
    assert fed <= MiB + len(read)


def test_endless_comment_line_is_bounded_too() -> None:
    decoder = SSEDecoder(max_event_size=100)
    decoder.feed(b":" + b"z" * 99)
    with pytest.raises(SSEError):
        decoder.feed(b"z" * 100)


def test_one_huge_line_in_a_single_read_raises() -> None:
    with pytest.raises(SSEError):
        SSEDecoder(max_event_size=MiB).feed(b"data: " + b"q" * (2 * MiB))


def test_no_limit_with_none() -> None:
    decoder = SSEDecoder(max_event_size=None)
    decoder.feed(b"data: " + b"a" * (3 * MiB))
    assert len(decoder.feed(b"\n\n")[0].data) == 3 * MiB


def test_long_event_split_over_many_reads_within_the_limit() -> None:
    decoder = SSEDecoder(max_event_size=MiB)
    events = feed_all(b"data: ", *[b"b" * 1024] * 1024, b"\n\n", decoder=decoder)
    assert len(events[0].data) == MiB


def test_negative_max_event_size_is_rejected() -> None:
    with pytest.raises(ValueError, match="max_event_size"):
        SSEDecoder(max_event_size=-1)


# --- the event type ------------------------------------------------------------------------


def test_server_sent_event_defaults() -> None:
    assert ServerSentEvent("x") == ServerSentEvent(data="x", event="message", id="", retry=None)


def test_server_sent_event_is_immutable() -> None:
    with pytest.raises(AttributeError):
        ServerSentEvent("x").data = "y"  # type: ignore[misc]


def test_server_sent_event_field_order() -> None:
    names = [field.name for field in msgspec.structs.fields(ServerSentEvent)]
    assert names == ["data", "event", "id", "retry"]


def test_a_newline_bomb_dispatches_nothing_and_the_next_event_still_arrives() -> None:
    decoder = SSEDecoder(max_event_size=1024)
    blank = b"\n" * (8 * 1024 * 1024)
    events = []
    for start in range(0, len(blank), 16384):
        events += decoder.feed(blank[start:start + 16384])
    events += decoder.feed(b"\r\n\r\r\n" * 1000 + b"data: after\n\n")
    assert [e.data for e in events] == ["after"]
