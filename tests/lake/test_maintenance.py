"""Compaction, snapshot expiry and orphan removal on real Iceberg tables, racing a writer."""

from __future__ import annotations

import os
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pytest
from pyiceberg.catalog import Catalog
from pyiceberg.table import Table

from wikistream.errors import LakeError
from wikistream.eventlog.base import EventLog
from wikistream.lake.bronze import POSITION_PROPERTY, BronzeWriter
from wikistream.lake.catalog import ensure_table
from wikistream.lake.maintenance import (
    MaintenanceReport,
    compact_table,
    maintain_lake,
    maintain_table,
)
from wikistream.lake.schemas import BRONZE, DAILY_SUMMARY, SILVER
from wikistream.settings import Settings

from .envelopes import envelope, event_line

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
DAY1 = 1772064000  # 2026-02-26T00:00:00Z
DAY2 = DAY1 + 86400
TODAY = int(NOW.timestamp()) - 3600


def files_per_partition(table: Table) -> dict[str, int]:
    counts: dict[str, int] = {}
    for task in table.scan().plan_files():
        key = str(task.file.partition)
        counts[key] = counts.get(key, 0) + 1
    return counts


def sorted_rows(table: Table) -> list[tuple[object, ...]]:
    data = table.scan().to_arrow().drop_columns(["bronze_processed_at"]).sort_by("event_id")
    return [tuple(r.values()) for r in data.to_pylist()]


def small_commits(settings: Settings, log: EventLog, catalog: Catalog, stamps: list[int]) -> None:
    settings.lake.commit_rows = 2
    log.append({"raw-events": [envelope(event_line(timestamp=t)) for t in stamps]})
    BronzeWriter(settings, log, catalog).drain()


def test_compaction_shrinks_closed_days_and_keeps_rows(
    lake_settings: Settings, event_log: EventLog, catalog: Catalog
) -> None:
    stamps = [DAY1 + i * 60 for i in range(20)] + [DAY2 + i for i in range(20)]
    stamps += [TODAY + i for i in range(12)]
    small_commits(lake_settings, event_log, catalog, stamps)
    table = catalog.load_table(BRONZE.identifier)
    before = sorted_rows(table)
    position = table.properties[POSITION_PROPERTY]
    assert sorted(files_per_partition(table).values()) == [6, 10, 10]

    lake_settings.lake.compact_max_files = 4
    report = maintain_table(
        catalog, BRONZE.identifier, lake_settings.lake, now=NOW, expire=False, orphans=False
    )
    table = catalog.load_table(BRONZE.identifier)
    counts = sorted(files_per_partition(table).values())
    assert counts == [1, 1, 6]  # today (6 files) is open: left alone
    assert report.partitions_compacted == 2
    assert (report.data_files_before, report.data_files_after) == (26, 8)
    assert sorted_rows(table) == before
    assert table.properties[POSITION_PROPERTY] == position
    # compaction commits are tagged, so the bronze writer keeps its id cache
    tags = {s.summary.get("wikistream.writer") for s in table.snapshots() if s.summary}
    assert tags == {"bronze", "maintenance"}


def test_expiry_applies_the_policy_and_deletes_unreachable_files(
    lake_settings: Settings, event_log: EventLog, catalog: Catalog
) -> None:
    lake_settings.lake.snapshot_max_count = 1000  # the writer must not expire inline here
    small_commits(lake_settings, event_log, catalog, [DAY1 + i for i in range(40)])
    lake_settings.lake.compact_max_files = 1
    maintain_table(catalog, BRONZE.identifier, lake_settings.lake, now=NOW, expire=False)
    table = catalog.load_table(BRONZE.identifier)
    before = sorted_rows(table)
    assert len(table.snapshots()) == 22  # 20 appends + compaction (delete + append)
    metadata_dir = Path(table.location().removeprefix("file://")) / "metadata"
    data_dir = Path(table.location().removeprefix("file://")) / "data"
    lists_before = len(list(metadata_dir.glob("snap-*.avro")))
    parquet_before = len(list(data_dir.rglob("*.parquet")))

    lake_settings.lake.snapshot_min_keep = 2  # the compaction's delete + append
    # snapshots are younger than 48 h: only the count limit applies
    lake_settings.lake.snapshot_max_count = 5
    report = maintain_table(
        catalog, BRONZE.identifier, lake_settings.lake, compact=False, orphans=False
    )
    assert (report.snapshots_expired, report.snapshots_left) == (17, 5)
    # age limit: everything older than 1 h goes, min_keep stays
    lake_settings.lake.snapshot_max_count = 1000
    later = datetime.now(UTC) + timedelta(hours=2)
    lake_settings.lake.snapshot_max_age_h = 1
    report = maintain_table(
        catalog, BRONZE.identifier, lake_settings.lake, now=later, compact=False, orphans=False
    )
    assert (report.snapshots_expired, report.snapshots_left) == (3, 2)
    table = catalog.load_table(BRONZE.identifier)
    assert sorted_rows(table) == before
    assert len(list(metadata_dir.glob("snap-*.avro"))) == lists_before - 20
    # the 20 small files only old snapshots referenced are gone; the compacted one stays
    assert len(list(data_dir.rglob("*.parquet"))) == parquet_before - 20 == 1


def test_orphans_older_than_grace_are_removed_young_ones_kept(
    lake_settings: Settings, event_log: EventLog, catalog: Catalog
) -> None:
    small_commits(lake_settings, event_log, catalog, [DAY1 + i for i in range(6)])
    table = catalog.load_table(BRONZE.identifier)
    root = Path(table.location().removeprefix("file://"))
    old = root / "data" / "crashed-write.parquet"
    young = root / "data" / "in-flight.parquet"
    for path in (old, young):
        path.write_bytes(b"PAR1 not really")
    week_ago = time.time() - 7 * 86400
    os.utime(old, (week_ago, week_ago))
    before = sorted_rows(table)

    lake_settings.lake.orphan_grace_h = 72
    report = maintain_table(
        catalog, BRONZE.identifier, lake_settings.lake, compact=False, expire=False
    )
    assert report.orphans_deleted == 1
    assert not old.exists()
    assert young.exists()
    # even with no grace at all, referenced files are never touched
    lake_settings.lake.orphan_grace_h = 0
    maintain_table(catalog, BRONZE.identifier, lake_settings.lake, compact=False, expire=False)
    assert not young.exists()
    assert sorted_rows(catalog.load_table(BRONZE.identifier)) == before


def test_compaction_retries_when_a_writer_commits_first(
    lake_settings: Settings, event_log: EventLog, catalog: Catalog
) -> None:
    small_commits(lake_settings, event_log, catalog, [DAY1 + i for i in range(12)])
    stale = catalog.load_table(BRONZE.identifier)
    # the writer commits a late event for the same day after maintenance planned
    small_commits(lake_settings, event_log, catalog, [DAY1 + 500])
    views = iter([stale, stale])  # planning and the first attempt see the stale view

    def load() -> Table:
        return next(views, None) or catalog.load_table(BRONZE.identifier)

    report = MaintenanceReport(table=BRONZE.identifier)
    compact_table(load, 2, report, NOW)
    assert report.commit_retries == 1
    assert report.partitions_compacted == 1
    table = catalog.load_table(BRONZE.identifier)
    assert table.scan().to_arrow().num_rows == 13  # the racing commit is not lost
    assert list(files_per_partition(table).values()) == [1]


def test_writer_retries_after_maintenance_without_reloading_ids(
    lake_settings: Settings, event_log: EventLog, catalog: Catalog
) -> None:
    lake_settings.lake.commit_rows = 2
    event_log.append({"raw-events": [envelope(event_line(timestamp=DAY1 + i)) for i in range(8)]})
    writer = BronzeWriter(lake_settings, event_log, catalog)
    writer.drain()
    loaded = writer._seen.days_loaded
    lake_settings.lake.compact_max_files = 1
    maintain_table(catalog, BRONZE.identifier, lake_settings.lake, now=NOW)
    event_log.append({"raw-events": [envelope(event_line(timestamp=DAY1 + 99))]})
    result = writer.drain()
    assert writer.stats.commit_conflicts == 1
    assert result.rows_written == 1
    assert writer._seen.days_loaded == loaded  # maintenance commits are known, cache kept
    assert catalog.load_table(BRONZE.identifier).scan().to_arrow().num_rows == 9


def test_writer_racing_maintenance_loses_nothing(
    lake_settings: Settings, event_log: EventLog, catalog: Catalog
) -> None:
    lake_settings.lake.commit_rows = 3
    lake_settings.lake.compact_max_files = 1
    lines = [event_line(timestamp=DAY1 + i) for i in range(90)]
    writer = BronzeWriter(lake_settings, event_log, catalog)
    done = threading.Event()

    def write() -> None:
        try:
            for i in range(0, len(lines), 9):
                event_log.append({"raw-events": [envelope(x) for x in lines[i : i + 9]]})
                writer.drain()
        finally:
            done.set()

    thread = threading.Thread(target=write)
    thread.start()
    retries = 0
    while not done.is_set():
        report = maintain_table(catalog, BRONZE.identifier, lake_settings.lake, now=NOW)
        retries += report.commit_retries
    thread.join()
    table = catalog.load_table(BRONZE.identifier)
    ids = table.scan().to_arrow().column("event_id").to_pylist()
    assert len(ids) == len(set(ids)) == 90
    assert retries + writer.stats.commit_conflicts > 0
    maintain_table(catalog, BRONZE.identifier, lake_settings.lake, now=NOW)
    assert list(files_per_partition(catalog.load_table(BRONZE.identifier)).values()) == [1]


def test_maintenance_is_generic_over_tables(settings: Settings, catalog: Catalog) -> None:
    silver = ensure_table(catalog, SILVER)
    summary = ensure_table(catalog, DAILY_SUMMARY)
    for day in ("2026-02-25", "2026-02-26", "2026-11-27"):
        for i in range(3):
            silver.append(
                pa.Table.from_pylist(
                    [{"event_id": f"{day}-{i}", "event_date": day}], silver.schema().as_arrow()
                )
            )
    for i in range(6):
        summary.append(
            pa.Table.from_pylist(
                [{"summary_date": f"2026-02-{10 + i}"}], summary.schema().as_arrow()
            )
        )
    settings.lake.compact_max_files = 2
    reports = maintain_lake(catalog, settings.lake, now=NOW)
    by_table = {r.table: r for r in reports}
    assert by_table[SILVER.identifier].partitions_compacted == 2  # 2026-11-27 is today: open
    assert by_table[DAILY_SUMMARY.identifier].partitions_compacted == 1
    assert sorted(files_per_partition(catalog.load_table(SILVER.identifier)).values()) == [1, 1, 3]
    assert catalog.load_table(DAILY_SUMMARY.identifier).scan().to_arrow().num_rows == 6
    with pytest.raises(LakeError, match=r"no table 'nope\.nothing'"):
        maintain_lake(catalog, settings.lake, ["nope.nothing"])
