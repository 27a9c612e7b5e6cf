"""The bronze writer against a real SQLite log and a real Iceberg catalog."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest
from pyiceberg.catalog import Catalog

from wikistream.errors import LakeError
from wikistream.eventlog.base import EventLog
from wikistream.eventlog.registry import open_event_log
from wikistream.lake.bronze import GROUP, POSITION_PROPERTY, BronzeWriter
from wikistream.lake.bronze_parse import BRONZE_ARROW_SCHEMA, open_parser, parse_records
from wikistream.lake.schemas import BRONZE
from wikistream.settings import Settings

from .envelopes import envelope, event_line, raw_value, real_lines


def bronze_rows(catalog: Catalog) -> pa.Table:
    return catalog.load_table(BRONZE.identifier).scan().to_arrow()


def dlq_bodies(log: EventLog, settings: Settings) -> list[dict[str, object]]:
    return [json.loads(r.value) for r in log.read(settings.log.dlq_topic, {}, 100_000)]


def test_replay_of_real_files_lands_once_per_valid_target_event(
    lake_settings: Settings, event_log: EventLog, catalog: Catalog, shared_data: Path
) -> None:
    lines = real_lines(shared_data, lake_settings.ingest.target_domains)
    generated = [event_line() for _ in range(200)]
    bad = [raw_value(b"{oops"), raw_value({"id": "z", "data": "[]"})]
    records = [envelope(x) for x in lines + generated]
    # at-least-once upstream: some events arrive twice, in a later append
    event_log.append({"raw-events": records[:3000] + bad})
    event_log.append({"raw-events": records[2900:] + records[:50]})
    writer = BronzeWriter(lake_settings, event_log, catalog)
    result = writer.drain()

    expected_ids = {json.loads(x)["meta"]["id"] for x in lines + generated}
    table = bronze_rows(catalog)
    ids = table.column("event_id").to_pylist()
    assert len(ids) == len(set(ids)) == len(expected_ids)
    assert set(ids) == expected_ids
    assert result.rows_written == len(expected_ids)
    assert result.dead_lettered == 2
    assert result.duplicates == 150
    head = event_log.head("raw-events")
    assert result.position == head
    assert event_log.committed(GROUP, "raw-events") == head
    dlq = dlq_bodies(event_log, lake_settings)
    assert [d["stage"] for d in dlq] == ["bronze", "bronze"]
    assert {d["error_type"] for d in dlq} == {"invalid_envelope_json", "event_not_object"}
    # the duplicate keeps the earliest log position
    first = json.loads(lines[0])["meta"]["id"]
    (row,) = table.filter(pa.compute.equal(table.column("event_id"), first)).to_pylist()
    assert row["log_offset"] == 0
    assert writer.stats.rows_committed == len(expected_ids)
    # one partition per UTC day of event time
    days = set(table.column("event_date").to_pylist())
    assert days == {"2026-02-26", "2023-07-29", "2018-03-07"}


def test_restart_resumes_after_the_stored_position(
    lake_settings: Settings, event_log: EventLog, catalog: Catalog
) -> None:
    first = [envelope(event_line()) for _ in range(40)]
    event_log.append({"raw-events": first})
    BronzeWriter(lake_settings, event_log, catalog).drain()
    table = catalog.load_table(BRONZE.identifier)
    assert json.loads(table.properties[POSITION_PROPERTY]) == {"0": 39}

    second = [envelope(event_line()) for _ in range(10)]
    event_log.append({"raw-events": second + first[:5]})
    again = BronzeWriter(lake_settings, event_log, catalog)
    assert again.position == {0: 39}
    result = again.drain()
    assert result.records_read == 15
    assert result.rows_written == 10
    assert result.duplicates == 5
    assert bronze_rows(catalog).num_rows == 50
    # nothing new: no commit, no snapshot
    snapshots = len(catalog.load_table(BRONZE.identifier).snapshots())
    assert BronzeWriter(lake_settings, event_log, catalog).drain().commits == 0
    assert len(catalog.load_table(BRONZE.identifier).snapshots()) == snapshots


def test_late_event_lands_in_its_own_day(
    lake_settings: Settings, event_log: EventLog, catalog: Catalog
) -> None:
    event_log.append({"raw-events": [envelope(event_line(timestamp=1772120976))]})
    writer = BronzeWriter(lake_settings, event_log, catalog)
    writer.drain()
    # three days late, much later in the log
    event_log.append({"raw-events": [envelope(event_line(timestamp=1771861776))]})
    writer.drain()
    days = sorted(bronze_rows(catalog).column("event_date").to_pylist())
    assert days == ["2026-02-23", "2026-02-26"]


def test_commit_rows_trigger_splits_batches(
    lake_settings: Settings, event_log: EventLog, catalog: Catalog
) -> None:
    lake_settings.lake.commit_rows = 100
    event_log.append({"raw-events": [envelope(event_line()) for _ in range(250)]})
    writer = BronzeWriter(lake_settings, event_log, catalog)
    result = writer.drain()
    assert result.commits == 3
    assert writer.stats.batches == 3
    assert len(catalog.load_table(BRONZE.identifier).snapshots()) == 3


def test_step_commits_on_the_time_trigger(
    lake_settings: Settings, event_log: EventLog, catalog: Catalog
) -> None:
    lake_settings.lake.commit_interval_s = 0.5
    writer = BronzeWriter(lake_settings, event_log, catalog)
    started = time.monotonic()
    idle = writer.step()
    assert idle.commits == 0
    assert 0.4 <= time.monotonic() - started < 2.0

    event_log.append({"raw-events": [envelope(event_line()) for _ in range(10)]})
    started = time.monotonic()
    result = writer.step()
    elapsed = time.monotonic() - started
    assert result.commits == 1
    assert result.rows_written == 10
    assert 0.4 <= elapsed < 2.0
    assert writer.stats.last_commit_at is not None
    assert writer.stats.last_event_age_s is not None
    assert writer.stats.last_event_age_s >= 0.4


def test_step_returns_promptly_when_stopped(
    lake_settings: Settings, event_log: EventLog, catalog: Catalog
) -> None:
    lake_settings.lake.commit_interval_s = 30
    writer = BronzeWriter(lake_settings, event_log, catalog)
    event_log.append({"raw-events": [envelope(event_line()) for _ in range(3)]})
    stop = threading.Event()
    threading.Timer(0.3, stop.set).start()
    started = time.monotonic()
    result = writer.step(stop)
    assert time.monotonic() - started < 3.0
    assert result.rows_written == 3  # what was buffered is committed, not dropped


def test_a_step_with_a_backlog_catches_up_in_several_commits(
    lake_settings: Settings, event_log: EventLog, catalog: Catalog
) -> None:
    lake_settings.lake.commit_rows = 100
    event_log.append({"raw-events": [envelope(event_line()) for _ in range(250)]})
    writer = BronzeWriter(lake_settings, event_log, catalog)
    result = writer.step()
    assert (result.commits, result.rows_written, result.records_read) == (3, 250, 250)
    assert writer.position == {0: 249}
    assert writer.stats.batches == 3


def test_a_catching_up_step_stops_reading_at_its_deadline(
    lake_settings: Settings, event_log: EventLog, catalog: Catalog
) -> None:
    lake_settings.lake.commit_rows = 20
    lake_settings.lake.commit_interval_s = 0.05
    event_log.append({"raw-events": [envelope(event_line()) for _ in range(2_000)]})
    writer = BronzeWriter(lake_settings, event_log, catalog)
    first = writer.step()
    assert 0 < first.rows_written < 2_000  # committed what it read, then returned
    assert writer.position == {0: first.rows_written - 1}
    while writer.step().commits:
        pass
    ids = bronze_rows(catalog).column("event_id").to_pylist()
    assert len(ids) == len(set(ids)) == 2_000


def test_a_different_log_is_detected_and_can_be_rebound(
    lake_settings: Settings, catalog: Catalog
) -> None:
    log = open_event_log(lake_settings)
    events = [envelope(event_line()) for _ in range(5)]
    log.append({"raw-events": events})
    BronzeWriter(lake_settings, log, catalog).drain()
    log.close()
    (lake_settings.data_dir / "eventlog.db").unlink()

    fresh = open_event_log(lake_settings)
    fresh.append({"raw-events": [envelope(event_line()), *events[:2]]})
    with pytest.raises(LakeError, match="--rebind-log"):
        BronzeWriter(lake_settings, fresh, catalog)
    result = BronzeWriter(lake_settings, fresh, catalog, rebind_log=True).drain()
    assert (result.rows_written, result.duplicates) == (1, 2)
    assert bronze_rows(catalog).num_rows == 6
    assert BronzeWriter(lake_settings, fresh, catalog).position == {0: 2}
    fresh.close()


def test_foreign_commit_is_seen_and_ids_stay_unique(
    lake_settings: Settings, event_log: EventLog, catalog: Catalog
) -> None:
    records = [envelope(event_line()) for _ in range(6)]
    event_log.append({"raw-events": records[:3]})
    writer = BronzeWriter(lake_settings, event_log, catalog)
    writer.drain()
    event_log.append({"raw-events": records[3:]})
    # another program appends one of the next events directly (same day partition)
    foreign = event_log.read("raw-events", {0: 2}, 1)
    parsed = parse_records(open_parser(), foreign, kafka=False).rows.drop_columns(["log_ts"])
    catalog.load_table(BRONZE.identifier).append(parsed)
    result = writer.drain()  # stale view: conflict, reload, sees the foreign snapshot
    assert writer.stats.commit_conflicts == 1
    assert (result.rows_written, result.duplicates) == (2, 1)
    ids = bronze_rows(catalog).column("event_id").to_pylist()
    assert len(ids) == len(set(ids)) == 6
    assert writer.position == {0: 5}


def test_two_writers_on_one_table_stay_exactly_once(
    lake_settings: Settings, event_log: EventLog, catalog: Catalog
) -> None:
    lake_settings.lake.commit_rows = 7
    lake_settings.lake.commit_interval_s = 0.05
    event_log.append({"raw-events": [envelope(event_line()) for _ in range(60)]})
    a = BronzeWriter(lake_settings, event_log, catalog)
    b = BronzeWriter(lake_settings, event_log, catalog)
    for _ in range(12):
        a.step()
        b.step()
    a.drain()
    b.drain()
    ids = bronze_rows(catalog).column("event_id").to_pylist()
    assert len(ids) == len(set(ids)) == 60
    assert a.stats.commit_conflicts + b.stats.commit_conflicts > 0


def test_independent_reader_sees_the_same_rows(
    lake_settings: Settings, event_log: EventLog, catalog: Catalog, shared_data: Path
) -> None:
    lake_settings.lake.commit_rows = 1000
    lines = real_lines(shared_data, lake_settings.ingest.target_domains)[:2500]
    event_log.append({"raw-events": [envelope(x) for x in lines]})
    BronzeWriter(lake_settings, event_log, catalog).drain()
    table = catalog.load_table(BRONZE.identifier)
    files = [task.file.file_path.removeprefix("file://") for task in table.scan().plan_files()]
    assert len(files) >= 3
    con = duckdb.connect()
    listing = ", ".join(f"'{f}'" for f in files)
    independent = con.sql(
        f"SELECT event_id, rc_id, event_timestamp, raw_event FROM read_parquet([{listing}]) "
        "ORDER BY event_id"
    ).fetchall()
    via_iceberg = table.scan(
        selected_fields=("event_id", "rc_id", "event_timestamp", "raw_event")
    ).to_arrow()
    con.register("t", via_iceberg)
    ours = con.sql("SELECT * FROM t ORDER BY event_id").fetchall()
    assert independent == ours
    assert len(ours) == len(lines)
    assert Counter(r[3] for r in ours) == Counter(lines)
    assert via_iceberg.schema.field("event_id").type == BRONZE_ARROW_SCHEMA.field("event_id").type


def test_writers_draining_at_once_stay_exactly_once(
    lake_settings: Settings,
    event_log: EventLog,
    catalog: Catalog,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Pipelined drains (commit on one thread, read ahead on another) racing on one table."""
    lake_settings.lake.commit_rows = 40
    event_log.append({"raw-events": [envelope(event_line()) for _ in range(1_200)]})
    writers = [BronzeWriter(lake_settings, event_log, catalog) for _ in range(2)]
    errors: list[BaseException] = []
    caplog.set_level("WARNING", logger="wikistream.lake.bronze")

    def drain(writer: BronzeWriter) -> None:
        try:
            writer.drain()
        except BaseException as exc:  # reported below, not lost in the thread
            errors.append(exc)

    threads = [threading.Thread(target=drain, args=(w,)) for w in writers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    ids = bronze_rows(catalog).column("event_id").to_pylist()
    assert len(ids) == len(set(ids)) == 1_200
    assert sum(w.stats.commit_conflicts for w in writers) > 0
    assert "another writer moved the position" in caplog.text  # read-ahead dropped, read again
    table = catalog.load_table(BRONZE.identifier)
    assert json.loads(table.properties[POSITION_PROPERTY]) == {"0": 1_199}
    # each writer ends where the table is (a moved position dropped what it had read ahead)
    assert all(w.position == {0: 1_199} for w in writers)
