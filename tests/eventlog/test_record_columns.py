"""RecordColumns: the bulk form of a list of LogRecord, and the fallback for any EventLog."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from wikistream.eventlog.base import LogRecord, RecordColumns, read_columns


def _records() -> list[LogRecord]:
    stamp = datetime(2026, 2, 26, 12, 0, 0, 123456, tzinfo=UTC)
    return [
        LogRecord("raw-events", 1, 7, b"k", b"v7", stamp),
        LogRecord("raw-events", 0, 3, None, b"v3", datetime(1999, 12, 31, 23, 59, tzinfo=UTC)),
    ]


def test_columns_round_trip_to_records() -> None:
    records = _records()
    columns = RecordColumns.of("raw-events", records)
    assert len(columns) == 2
    assert columns.timestamps_us[0] == 1772107200123456
    assert columns.records() == records


def test_concat_keeps_order() -> None:
    records = _records()
    parts = [
        RecordColumns.of("raw-events", records[:1]),
        RecordColumns.of("raw-events", records[1:]),
    ]
    assert RecordColumns.concat(parts).records() == records
    assert RecordColumns.concat(parts[:1]) is parts[0]


class _ListLog:
    """An event log without the columnar capability (only ``read``)."""

    def read(self, topic: str, after: dict[int, int], max_records: int) -> list[LogRecord]:
        return [r for r in _records() if r.offset > after.get(r.partition, -1)][:max_records]


def test_read_columns_falls_back_to_read() -> None:
    log = _ListLog()
    columns = read_columns(log, "raw-events", {1: 7}, 10)  # type: ignore[arg-type]
    assert columns.records() == _records()[1:]


def test_packed_values_behave_like_a_list_of_bytes() -> None:
    from array import array

    from wikistream.eventlog.base import PackedValues

    blob = b"aabbbcdddd"
    ends = array("q", [0, 2, 5, 6, 10])
    packed = PackedValues(
        [(blob, ends, 1, 4), (b"xyz", array("q", [0, 1, 3]), 0, 2), (blob, ends, 2, 2)]
    )
    expected = [b"bbb", b"c", b"dddd", b"x", b"yz"]
    assert len(packed) == 5
    assert list(packed) == expected
    assert [packed[i] for i in range(-5, 5)] == expected * 2
    assert packed[1:4] == expected[1:4]
    assert packed[::-2] == expected[::-2]
    with pytest.raises(IndexError):
        packed[5]
    both = PackedValues.concat([packed, PackedValues([(blob, ends, 0, 1)])])
    assert list(both) == [*expected, b"aa"]
    assert len(both.segments) == 3
    assert len(PackedValues([])) == 0
    assert list(PackedValues([])) == []
