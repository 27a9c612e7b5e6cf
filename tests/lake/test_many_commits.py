"""After thousands of small commits, maintenance restores the file and snapshot policy."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest
from pyiceberg.catalog import Catalog

from wikistream.eventlog.base import EventLog
from wikistream.lake.bronze import BronzeWriter
from wikistream.lake.maintenance import maintain_table
from wikistream.lake.schemas import BRONZE
from wikistream.settings import Settings

from .envelopes import envelope, event_line

COMMITS = 2000
DAY1 = 1772064000  # 2026-02-26T00:00:00Z


@pytest.mark.slow
@pytest.mark.timeout(1800)
def test_maintenance_after_2000_small_commits(
    lake_settings: Settings, event_log: EventLog, catalog: Catalog
) -> None:
    now = datetime.now(UTC)
    today = int(now.timestamp()) - 60
    # one row per commit, spread over three closed days and today
    stamps = [DAY1 + (i % 3) * 86400 + i for i in range(COMMITS - 20)] + [today] * 20
    event_log.append({"raw-events": [envelope(event_line(timestamp=t)) for t in stamps]})
    lake_settings.lake.commit_rows = 1
    # a small cap keeps this test's commits cheap; the policy under test is the same
    lake_settings.lake.snapshot_max_count = 20
    writer = BronzeWriter(lake_settings, event_log, catalog)
    started = time.monotonic()
    result = writer.drain()
    elapsed = time.monotonic() - started
    assert result.commits == COMMITS
    table = catalog.load_table(BRONZE.identifier)
    # the writer keeps the snapshot count near its cap as it goes
    cap = lake_settings.lake.snapshot_max_count
    assert len(table.snapshots()) <= cap + max(5, cap // 5)
    print(f"{COMMITS} commits in {elapsed:.1f} s ({elapsed / COMMITS * 1000:.0f} ms/commit)")

    def snapshot_of_rows() -> list[tuple[object, ...]]:
        data = catalog.load_table(BRONZE.identifier).scan().to_arrow()
        data = data.drop_columns(["bronze_processed_at"]).sort_by("event_id")
        return [tuple(r.values()) for r in data.to_pylist()]

    before = snapshot_of_rows()
    report = maintain_table(catalog, BRONZE.identifier, lake_settings.lake, now=now)
    table = catalog.load_table(BRONZE.identifier)
    per_partition: dict[str, int] = {}
    for task in table.scan().plan_files():
        key = str(task.file.partition)
        per_partition[key] = per_partition.get(key, 0) + 1
    closed = {k: v for k, v in per_partition.items() if v != 20}
    assert len(closed) == 3
    assert all(v <= lake_settings.lake.compact_max_files for v in closed.values())
    assert report.partitions_compacted == 3
    assert len(table.snapshots()) <= cap
    assert snapshot_of_rows() == before
    assert len(before) == COMMITS
