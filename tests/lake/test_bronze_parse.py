"""Column-by-column derivations of bronze rows and the reasons records are dead-lettered."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from wikistream.eventlog.base import LogRecord, NewRecord
from wikistream.lake.bronze_parse import PARALLEL_ROWS, open_parser, parse_records
from wikistream.lake.schemas import BRONZE

from .envelopes import envelope, event_line, raw_value, real_lines

APPENDED = datetime(2026, 2, 26, 15, 49, 40, 123000, tzinfo=UTC)


def as_log(records: list[NewRecord], topic: str = "raw-events") -> list[LogRecord]:
    return [
        LogRecord(topic, 0, i, r.key, r.value, APPENDED) for i, r in enumerate(records, start=7)
    ]


def parse_one(line: str, **kwargs: Any) -> dict[str, Any]:
    batch = parse_records(open_parser(), as_log([envelope(line)]), kafka=kwargs.get("kafka", False))
    assert batch.rejected == []
    (row,) = batch.rows.to_pylist()
    return row


def ts(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def test_real_edit_maps_every_column(shared_data: Path) -> None:
    line = real_lines(shared_data, ["en.wikipedia.org"])[30]
    event = json.loads(line)
    assert event["type"] == "edit"
    row = parse_one(line)
    assert list(row)[: len(BRONZE.column_names)] == BRONZE.column_names
    assert row["event_id"] == event["meta"]["id"]
    assert row["kafka_topic"] is None
    assert row["kafka_partition"] is None
    assert row["kafka_offset"] is None
    assert row["kafka_timestamp"] is None
    assert row["rc_id"] == event["id"]
    assert row["event_type"] == "edit"
    assert row["namespace"] == event["namespace"]
    assert row["domain"] == "en.wikipedia.org"
    for col in ("title", "title_url", "user", "comment", "wiki", "server_name"):
        assert row[col] == event[col], col
    assert row["is_bot"] is event["bot"]
    assert row["length_old"] == event["length"]["old"]
    assert row["length_new"] == event["length"]["new"]
    assert row["length_delta"] == event["length"]["new"] - event["length"]["old"]
    assert row["revision_old"] == event["revision"]["old"]
    assert row["revision_new"] == event["revision"]["new"]
    assert row["event_timestamp"] == datetime.fromtimestamp(event["timestamp"], UTC)
    assert row["producer_ingested_at"] == datetime(2026, 2, 26, 15, 49, 37, 123456, tzinfo=UTC)
    assert row["bronze_processed_at"] is None  # stamped at commit
    expected = datetime.fromtimestamp(event["timestamp"], UTC)
    assert row["event_date"] == expected.strftime("%Y-%m-%d")
    assert row["event_hour"] == expected.hour
    assert row["schema_version"] == "1.0.0"
    assert row["meta_dt"] == ts(event["meta"]["dt"].replace("Z", "+00:00"))
    assert (row["log_partition"], row["log_offset"]) == (0, 7)
    assert row["raw_event"] == line  # verbatim, byte for byte


def test_kafka_columns_come_from_the_log_record() -> None:
    row = parse_one(event_line(), kafka=True)
    assert row["kafka_topic"] == "raw-events"
    assert row["kafka_partition"] == 0
    assert row["kafka_offset"] == 7
    assert row["kafka_timestamp"] == APPENDED


def test_log_event_with_null_id_gets_seed_default(shared_data: Path) -> None:
    events = [(x, json.loads(x)) for x in real_lines(shared_data)]
    line = next(x for x, e in events if e.get("type") == "log" and "id" in e and e["id"] is None)
    row = parse_one(line)
    assert row["rc_id"] == -1
    assert row["event_type"] == "log"
    assert row["length_old"] is None
    assert row["length_delta"] is None


def test_new_page_without_old_length() -> None:
    row = parse_one(event_line(type="new", length={"new": 812}, revision={"new": 99}))
    assert row["length_old"] is None
    assert row["length_new"] == 812
    assert row["length_delta"] is None
    assert row["revision_old"] is None
    assert row["revision_new"] == 99


def test_categorize_without_length_or_revision() -> None:
    row = parse_one(event_line(type="categorize", length=None, revision=None, namespace=14))
    assert row["event_type"] == "categorize"
    assert row["length_old"] is None
    assert row["length_new"] is None
    assert row["revision_old"] is None
    assert row["revision_new"] is None
    assert row["namespace"] == 14


@pytest.mark.parametrize(
    ("dt", "expected"),
    [
        ("2026-02-26T15:49:36.569Z", "2026-02-26T15:49:36.569+00:00"),  # 2026: milliseconds
        ("2023-07-29T07:51:39Z", "2023-07-29T07:51:39+00:00"),  # 2023: whole seconds
        ("2018-03-07T16:16:17+00:00", "2018-03-07T16:16:17+00:00"),  # 2018: offset
        ("2026-02-27T01:30:00.5+02:00", "2026-02-26T23:30:00.5+00:00"),  # other offset
        ("2026-02-26T15:49:36", "2026-02-26T15:49:36+00:00"),  # no offset = UTC
    ],
)
def test_meta_dt_forms_when_timestamp_is_missing(dt: str, expected: str) -> None:
    row = parse_one(event_line(timestamp=None, meta_dt=dt))
    assert row["event_timestamp"] == ts(expected)
    assert row["meta_dt"] == ts(expected)
    assert row["event_date"] == ts(expected).strftime("%Y-%m-%d")
    assert row["event_hour"] == ts(expected).hour


def test_timestamp_wins_over_meta_dt_and_date_is_utc() -> None:
    # 23:59:59 UTC on 2026-02-26; meta.dt in +05:00 says 2026-02-27 local.
    row = parse_one(event_line(timestamp=1772150399, meta_dt="2026-02-27T04:59:58+05:00"))
    assert row["event_timestamp"] == datetime(2026, 2, 26, 23, 59, 59, tzinfo=UTC)
    assert (row["event_date"], row["event_hour"]) == ("2026-02-26", 23)


def test_implausible_timestamp_falls_back_to_meta_dt() -> None:
    row = parse_one(event_line(timestamp=0, meta_dt="2026-02-26T10:00:00Z"))
    assert row["event_timestamp"] == datetime(2026, 2, 26, 10, tzinfo=UTC)


def test_temporary_account_negative_namespace_and_defaults() -> None:
    row = parse_one(
        event_line(user="~2026-12881-95", namespace=-1, type=None, bot=None, id=None, comment=None)
    )
    assert row["user"] == "~2026-12881-95"
    assert row["namespace"] == -1
    assert row["event_type"] == "unknown"
    assert row["is_bot"] is False
    assert row["rc_id"] == -1
    assert row["comment"] is None


def test_length_delta_does_not_overflow() -> None:
    row = parse_one(event_line(length={"old": -2147483000, "new": 2147483000}))
    assert row["length_delta"] is None
    assert row["length_new"] == 2147483000


def test_envelope_without_id_uses_meta_id() -> None:
    line = event_line()
    body = json.loads(envelope(line).value)
    body["id"] = None
    batch = parse_records(open_parser(), as_log([raw_value(body)]), kafka=False)
    assert batch.rows.column("event_id").to_pylist() == [json.loads(line)["meta"]["id"]]


def _bad_cases() -> list[tuple[str, NewRecord]]:
    good = json.loads(envelope(event_line()).value)
    return [
        ("invalid_envelope_json", raw_value(b'{"id": "x", "data": ')),
        ("invalid_utf8", raw_value(b'{"id": "\xff\xfe"}')),
        ("envelope_not_object", raw_value([1, 2])),
        ("envelope_not_object", raw_value(b"42")),
        ("missing_data", raw_value({"id": "a", "data": None})),
        ("missing_data", raw_value({"id": "a"})),
        ("invalid_event_json", raw_value({"id": "a", "data": "{not json"})),
        ("event_not_object", raw_value({"id": "a", "data": "5"})),
        ("event_not_object", raw_value({"id": "a", "data": "[1]"})),
        ("missing_event_id", raw_value({**good, "id": None, "data": event_line(meta_id=None)})),
        ("missing_event_id", raw_value({**good, "id": "", "data": event_line(meta_id="")})),
        (
            "no_event_time",
            raw_value({**good, "data": event_line(timestamp=None, meta_dt="yesterday")}),
        ),
        ("no_event_time", raw_value({**good, "data": event_line(timestamp=None, meta_dt=None)})),
        (
            "no_event_time",
            raw_value({**good, "data": event_line(timestamp=True, meta_dt="0001-01-01T00:00:00Z")}),
        ),
    ]


def test_each_bad_record_is_rejected_with_its_reason() -> None:
    cases = _bad_cases()
    good = [envelope(event_line()) for _ in range(3)]
    records = as_log([good[0], *(r for _, r in cases), good[1], good[2]])
    batch = parse_records(open_parser(), records, kafka=False)
    assert batch.rows.num_rows == 3
    by_offset = {r.offset: r for r in batch.rejected}
    assert len(by_offset) == len(cases)
    for i, (reason, _) in enumerate(cases, start=8):
        assert by_offset[i].error_type == reason, (i, by_offset[i].error)
        assert f"raw-events[0]@{i}" in by_offset[i].error
    # the event object is kept when there is one
    assert by_offset[8 + 9].original_event is not None


@pytest.mark.parametrize(("reason", "record"), _bad_cases())
def test_a_bad_record_alone(reason: str, record: NewRecord) -> None:
    batch = parse_records(open_parser(), as_log([record]), kafka=False)
    assert batch.rows.num_rows == 0
    assert [r.error_type for r in batch.rejected] == [reason]


def test_a_big_chunk_parsed_on_two_threads_equals_small_chunks() -> None:
    """Chunks of PARALLEL_ROWS or more are split for two DuckDB threads: same rows, same order."""
    n = PARALLEL_ROWS + 1_001
    cases = _bad_cases()
    records = [envelope(event_line(title=f"Page {i}")) for i in range(n)]
    bad_at = {i * 301: record for i, (_, record) in enumerate(cases, start=1)}
    for i, record in bad_at.items():
        records[i] = record
    logged = as_log(records)
    whole = parse_records(open_parser(), logged, kafka=False)
    step = PARALLEL_ROWS // 4
    parts = [
        parse_records(open_parser(), logged[i : i + step], kafka=False) for i in range(0, n, step)
    ]
    assert whole.rows.num_rows == n - len(bad_at)
    assert whole.rows.drop_columns(["bronze_processed_at"]).equals(
        pa.concat_tables(p.rows for p in parts).drop_columns(["bronze_processed_at"])
    )
    reasons = sorted((r.offset, r.error_type) for r in whole.rejected)
    assert [offset for offset, _ in reasons] == sorted(i + 7 for i in bad_at)
    assert reasons == sorted((r.offset, r.error_type) for p in parts for r in p.rejected)


def test_records_read_packed_from_the_sqlite_log_parse_like_a_list(tmp_path: Path) -> None:
    """Values read from the SQLite log stay packed in its rows; they go to Arrow without a copy
    per value, and parse (good rows, each reason, invalid UTF-8 included) exactly like a list."""
    from wikistream.eventlog import sqlite_batches
    from wikistream.eventlog.base import PackedValues, RecordColumns
    from wikistream.eventlog.sqlite import SqliteEventLog
    from wikistream.lake.bronze_parse import parse_columns

    cases = _bad_cases()
    records = [envelope(event_line(title=f"Page {i}")) for i in range(60)]
    for i, (_, record) in enumerate(cases):
        records[i * 4 + 1] = record
    log = SqliteEventLog(tmp_path / "l.db", retention_s=None)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(sqlite_batches, "ROW_RECORDS", 7)  # many rows, cut in the middle
        log.append({"raw-events": records})
    parts = [
        log.read_columns("raw-events", {0: 2}, 20),
        log.read_columns("raw-events", {0: 22}, 40),
    ]
    packed = RecordColumns.concat(parts)
    assert isinstance(packed.values, PackedValues)
    assert len(packed.values.segments) > 2
    listed = RecordColumns(
        packed.topic, packed.partitions, packed.offsets, packed.keys, list(packed.values),
        packed.timestamps_us,
    )  # fmt: skip
    assert list(packed.values) == [r.value for r in records[3:]]
    one, other = (
        parse_columns(open_parser(), packed, kafka=False),
        parse_columns(open_parser(), listed, kafka=False),
    )
    assert one.rows.num_rows == 57 - sum(1 for i in range(len(cases)) if i * 4 + 1 >= 3)
    assert one.rows.drop_columns(["bronze_processed_at"]).equals(
        other.rows.drop_columns(["bronze_processed_at"])
    )
    assert one.rejected == other.rejected
    assert "invalid_utf8" in {r.error_type for r in one.rejected}
