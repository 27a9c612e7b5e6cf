"""Bronze deduplication (the seed's deduplicate_bronze, weakness 17 fixed) on a real table."""

from __future__ import annotations

from collections import Counter

import pyarrow as pa

from tests.lake.bronze_rows import PROCESSED_AT, bronze_table, event, repeat, shifted
from tests.lake.conftest import Lake
from wikistream.lake.changes import Cursor, plan_changes, read_files
from wikistream.lake.dedup import deduplicate_bronze, keep_earliest
from wikistream.lake.schemas import BRONZE


def _ids_and_offsets(lake: Lake) -> list[tuple[str, int]]:
    rows = lake.table(BRONZE).scan(selected_fields=("event_id", "log_offset")).to_arrow()
    return sorted(zip(rows["event_id"].to_pylist(), rows["log_offset"].to_pylist(), strict=True))


def test_keeps_the_earliest_log_position_of_each_id() -> None:
    rows = [
        shifted(event(1), offset=50),
        event(1),  # offset 1: earliest, although listed second
        shifted(event(2), offset=7, partition=1),
        shifted(event(2), offset=9, partition=0),  # partition 0 comes first
        event(3),
    ]
    kept = keep_earliest(bronze_table(rows)).to_pylist()
    assert [(r["event_id"], r["log_partition"], r["log_offset"]) for r in kept] == [
        ("e1", 0, 1),
        ("e2", 0, 9),
        ("e3", 0, 3),
    ]


def test_null_positions_lose_and_exact_copies_collapse() -> None:
    a = event(4)
    no_position = {**a, "log_partition": None, "log_offset": None}
    kept = keep_earliest(bronze_table([no_position, a, a, no_position]))
    assert kept.num_rows == 1
    assert kept["log_offset"].to_pylist() == [4]
    assert keep_earliest(bronze_table([])).num_rows == 0


def test_seed_bug_cases_are_removed(lake: Lake) -> None:
    """Weakness 17: copies sharing one bronze_processed_at survived the seed's NOT IN delete."""
    lake.append(repeat(5, 0, at="2026-02-26 10:00"))
    lake.append([shifted(event(i, at="2026-02-26 10:00"), offset=100 + i) for i in range(3)])
    # a copy whose bronze_processed_at is the minimum of *another* id (the uncorrelated NOT IN)
    late = shifted(event(4, at="2026-02-26 10:00"), offset=200)
    lake.append([{**late, "bronze_processed_at": PROCESSED_AT}])
    report = deduplicate_bronze(lake.catalog)
    assert (report.duplicate_ids, report.surplus_rows) == (4, 4)
    assert report.rows_before == 9
    assert report.rows_after == report.distinct_after == 5
    assert report.uniqueness_after == 1.0
    assert _ids_and_offsets(lake) == [(f"e{i}", i) for i in range(5)]


def test_only_partitions_with_duplicates_are_rewritten(lake: Lake) -> None:
    lake.append(repeat(4, 0, at="2026-02-25 10:00"))
    lake.append(repeat(4, 10, at="2026-02-26 10:00"))
    lake.append([shifted(event(10, at="2026-02-26 10:00"), offset=99)])
    before = {t.file.file_path for t in lake.table(BRONZE).scan().plan_files()}
    commits = len(lake.table(BRONZE).metadata.metadata_log)
    report = deduplicate_bronze(lake.catalog)
    assert report.days == ["2026-02-26"]
    assert report.surplus_rows == 1
    table = lake.table(BRONZE)
    after = {t.file.file_path: t.file for t in table.scan().plan_files()}
    untouched = {p for p, f in after.items() if p in before}
    # the 2026-02-25 file is still the very same file; 2026-02-26 was rewritten once
    assert len(untouched) == 1
    (day_file,) = [after[p] for p in untouched]
    assert (
        read_files(table, [day_file], ("event_date",))["event_date"].to_pylist()
        == ["2026-02-25"] * 4
    )
    summary = table.current_snapshot().summary  # type: ignore[union-attr]
    assert summary is not None
    assert summary.get("wikistream.operation") == "dedup-bronze"
    # one atomic commit (pyiceberg's overwrite stages a delete and an append snapshot in it)
    assert len(table.metadata.metadata_log) == commits + 1


def test_dry_run_and_clean_table_change_nothing(lake: Lake) -> None:
    lake.append(repeat(3, 0))
    lake.append([shifted(event(0), offset=9)])
    snapshot = lake.table(BRONZE).current_snapshot()
    dry = deduplicate_bronze(lake.catalog, dry_run=True)
    assert dry.surplus_rows == 1
    assert dry.rows_after == 3
    assert dry.snapshot_id is None
    assert lake.table(BRONZE).current_snapshot() == snapshot
    deduplicate_bronze(lake.catalog)
    fixed = lake.table(BRONZE).current_snapshot()
    clean = deduplicate_bronze(lake.catalog)
    assert clean.duplicate_ids == 0
    assert clean.rows_after == 3
    assert lake.table(BRONZE).current_snapshot() == fixed


def test_change_set_after_dedup_holds_only_live_rows(lake: Lake) -> None:
    """A file appended and then removed after the cursor is no change at all (gates read it)."""
    lake.append(repeat(3, 0))
    table = lake.table(BRONZE)
    cursor = Cursor(table.current_snapshot().snapshot_id)  # type: ignore[union-attr]
    lake.append([shifted(event(5), offset=50), shifted(event(5), offset=51), event(6)])
    deduplicate_bronze(lake.catalog)
    table = lake.table(BRONZE)
    changes = plan_changes(table, cursor)
    rows = read_files(table, changes.added, ("event_id", "log_offset"))
    counts = Counter(rows["event_id"].to_pylist())
    # the rewritten day file holds every live row once; the removed planted file is not read
    assert counts == Counter({"e0": 1, "e1": 1, "e2": 1, "e5": 1, "e6": 1})
    assert pa.compute.min(rows["log_offset"]).as_py() == 0
    # the removed file that predates the cursor is still reported (gold recomputes its groups)
    assert len(changes.removed) == 1
