"""The incremental SSE parser against the WHATWG rules and real EventStreams bytes."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.ingest.sse_server import frame, load_events
from wikistream.ingest.source import SseEvent
from wikistream.ingest.sse_parser import SseParser


def parse(*chunks: bytes) -> list[SseEvent]:
    parser = SseParser()
    events: list[SseEvent] = []
    for chunk in chunks:
        events.extend(parser.feed(chunk))
    return events


def real_stream(shared_data: Path, count: int) -> tuple[bytes, list[SseEvent]]:
    """The first ``count`` events of the 2026 sample framed exactly like EventStreams."""
    events = load_events(shared_data / "recentchange-2026-02-26.jsonl")[:count]
    body = b":ok\n\n" + b"".join(frame(e) for e in events)
    return body, [SseEvent(data=e.data, id=e.id) for e in events]


def test_real_stream_parses_whole(shared_data: Path) -> None:
    body, expected = real_stream(shared_data, 50)
    assert parse(body) == expected
    assert len(expected) == 50


def test_split_at_every_byte_position(shared_data: Path) -> None:
    body, expected = real_stream(shared_data, 4)
    # The slice must hold multi-byte UTF-8 so that some splits land inside a character.
    assert any(b > 0x7F for b in body)
    for cut in range(len(body) + 1):
        assert parse(body[:cut], body[cut:]) == expected, f"split at byte {cut}"


@pytest.mark.parametrize("newline", [b"\r\n", b"\r"])
def test_split_at_every_byte_with_crlf_and_cr(shared_data: Path, newline: bytes) -> None:
    body, expected = real_stream(shared_data, 3)
    body = body.replace(b"\n", newline)
    for cut in range(len(body) + 1):
        assert parse(body[:cut], body[cut:]) == expected, f"split at byte {cut}"


def test_one_byte_at_a_time(shared_data: Path) -> None:
    body, expected = real_stream(shared_data, 10)
    assert parse(*(body[i : i + 1] for i in range(len(body)))) == expected


@settings(max_examples=60, deadline=None)
@given(cuts=st.lists(st.integers(min_value=0, max_value=20_000), max_size=40))
def test_random_chunking_matches_whole(cuts: list[int]) -> None:
    body = (
        ":ok\r\n\r\nevent: message\rid: 1\r\ndata: é漢字🙂\ndata: line2\n\n"
        'retry: 250\n\nid: 2\ndata: {"a": 1}\r\n\r\n'
    ).encode() * 50
    bounds = sorted({min(c, len(body)) for c in cuts} | {0, len(body)})
    chunks = [body[a:b] for a, b in itertools.pairwise(bounds)]
    assert parse(*chunks) == parse(body)
    assert len(parse(body)) == 100


def test_multi_line_data_is_joined_with_newline() -> None:
    events = parse(b'data: {\ndata:  "a": 1\ndata: }\n\n')
    assert events == [SseEvent(data='{\n "a": 1\n}', id=None)]


def test_only_one_space_after_colon_is_removed() -> None:
    assert parse(b"data:x\n\n")[0].data == "x"
    assert parse(b"data: x\n\n")[0].data == "x"
    assert parse(b"data:  x\n\n")[0].data == " x"


def test_empty_data_line_gives_empty_event_and_no_data_gives_none() -> None:
    assert parse(b"data:\n\n") == [SseEvent(data="", id=None)]
    assert parse(b"data\n\n") == [SseEvent(data="", id=None)]
    assert parse(b"data:\ndata:\n\n") == [SseEvent(data="\n", id=None)]
    assert parse(b"id: 5\nevent: x\n\n") == []


def test_comments_are_ignored() -> None:
    assert parse(b":ok\n\n: keepalive\ndata: a\n:mid\ndata: b\n\n") == [
        SseEvent(data="a\nb", id=None)
    ]


def test_event_type_defaults_to_message_and_resets() -> None:
    events = parse(b"event: error\ndata: {}\n\ndata: next\n\n")
    assert [e.event for e in events] == ["error", "message"]


def test_id_persists_until_changed_and_nul_is_ignored() -> None:
    events = parse(b"id: a\ndata: 1\n\ndata: 2\n\nid: b\0c\ndata: 3\n\nid\ndata: 4\n\n")
    assert [e.id for e in events] == ["a", "a", "a", ""]


def test_id_of_a_real_event_is_kept_verbatim(shared_data: Path) -> None:
    body, expected = real_stream(shared_data, 1)
    assert (
        parse(body)[0].id
        == '[{"topic":"codfw.mediawiki.recentchange","partition":0,"offset":2015394065}]'
    )
    assert expected[0].id == parse(body)[0].id


def test_retry_field() -> None:
    parser = SseParser()
    parser.feed(b"retry: 2500\n\n")
    assert parser.retry_ms == 2500
    for bad in (b"retry: 25x\n\n", b"retry: -1\n\n", b"retry:\n\n", "retry: ٣\n\n".encode()):
        parser.feed(bad)
        assert parser.retry_ms == 2500, bad


def test_bom_only_at_stream_start_is_dropped() -> None:
    assert parse(b"\xef\xbb\xbfdata: a\n\n") == [SseEvent(data="a", id=None)]
    assert parse(b"\xef", b"\xbb", b"\xbfdata: a\n\n") == [SseEvent(data="a", id=None)]
    # A BOM later in the stream is part of a field name, which is then unknown.
    assert parse(b"data: a\n\n\xef\xbb\xbfdata: b\n\n") == [SseEvent(data="a", id=None)]


def test_unknown_fields_and_field_without_value() -> None:
    assert parse(b"foo: bar\nevent\ndata: x\n\n") == [SseEvent(data="x", id=None, event="message")]


def test_invalid_utf8_becomes_replacement_character() -> None:
    assert parse(b"data: a\xffb\n\n")[0].data == "a\ufffdb"


def test_crlf_split_between_cr_and_lf_gives_no_extra_blank_line() -> None:
    # If the LF after a chunk-final CR were taken as a second line end, "data: b" would
    # be dispatched early and "c" would become its own event.
    assert parse(b"data: a\r\ndata: b\r", b"\ndata: c\r\n\r\n") == [
        SseEvent(data="a\nb\nc", id=None)
    ]


def test_partial_event_is_never_returned() -> None:
    parser = SseParser()
    assert parser.feed(b'id: 1\ndata: complete\n\nid: 2\ndata: {"half": ') == [
        SseEvent(data="complete", id="1")
    ]
    assert parser.pending_bytes > 0
    # A finished line without the blank line is not an event either.
    assert parser.feed(b"1}\n") == []


def test_oversize_data_is_cut_to_one_more_than_the_limit() -> None:
    parser = SseParser(max_data_chars=100)
    events = parser.feed(b"id: 1\ndata: " + b"x" * 10_000 + b"\n\nid: 2\ndata: ok\n\n")
    assert [len(e.data) for e in events] == [101, 2]
    assert [e.id for e in events] == ["1", "2"]
    assert parser.truncated_events == 1


def test_oversize_over_many_data_lines_is_cut_too() -> None:
    parser = SseParser(max_data_chars=100)
    events = parser.feed(b"data: " + b"y" * 60 + b"\n" + b"data: " + b"z" * 60 + b"\n" * 2)
    assert events[0].data == "y" * 60 + "\n" + "z" * 40
    assert len(events[0].data) == 101
    # Exactly at the limit is not cut.
    exact = SseParser(max_data_chars=100).feed(
        b"data: " + b"a" * 49 + b"\ndata: " + b"b" * 50 + b"\n\n"
    )
    assert len(exact[0].data) == 100


def test_endless_line_keeps_memory_bounded() -> None:
    parser = SseParser(max_data_chars=100)
    assert parser.feed(b"data: ") == []
    for _ in range(1000):
        assert parser.feed(b"w" * 1000) == []
        assert parser.pending_bytes <= 4 * 100 + 64
    events = parser.feed(b"w\r\n\r\ndata: next\n\n")
    assert [len(e.data) for e in events] == [101, 4]
    assert events[1].data == "next"
    assert parser.truncated_events == 1


def test_multibyte_oversize_still_reads_as_oversize() -> None:
    parser = SseParser(max_data_chars=100)
    (event,) = parser.feed(b"data: " + "漢".encode() * 5000 + b"\n\n")
    assert len(event.data) == 101
    assert len(event.data.encode()) > 100


def test_no_limit_by_default() -> None:
    (event,) = SseParser().feed(b"data: " + b"q" * 3_000_000 + b"\n\n")
    assert len(event.data) == 3_000_000
