"""GoldStep increments: exactly the touched groups are replaced, and the result equals a rebuild."""

from __future__ import annotations

from typing import Any

import pytest

from tests.lake.bronze_rows import event, repeat, shifted
from tests.lake.conftest import SORT_KEYS, Lake, make_lake
from wikistream.errors import CommitConflictError
from wikistream.lake import gold as gold_module
from wikistream.lake import steps
from wikistream.lake.changes import Cursor
from wikistream.lake.gold import CURSOR_PREFIX, GOLD_TABLES
from wikistream.lake.refresh import rebuild
from wikistream.lake.schemas import DAILY_SUMMARY, HOURLY_STATS, RISK_SCORES, SILVER

DAY = "2026-02-26"


def processed_at(lake: Lake, table: Any) -> dict[tuple[Any, ...], Any]:
    keys = SORT_KEYS[table.identifier]
    return {
        tuple(r[k] for k in keys): r["gold_processed_at"]
        for r in lake.rows(table, keep_processed_at=True)
    }


def gold_tables(lake: Lake) -> dict[str, list[dict[str, Any]]]:
    return {t.identifier: lake.rows(t) for t in GOLD_TABLES}


def seed_day(lake: Lake) -> None:
    lake.append(repeat(6, 1, user="Alice", at=f"{DAY} 10:00"))
    lake.append(repeat(6, 20, user="Bob", at=f"{DAY} 11:00", domain="de.wikipedia.org"))
    lake.append(repeat(2, 40, user="Carol", at="2026-02-25 09:00"))
    lake.run()


def test_only_touched_groups_are_rewritten(lake: Lake) -> None:
    seed_day(lake)
    hourly_before = processed_at(lake, HOURLY_STATS)
    risk_before = processed_at(lake, RISK_SCORES)
    lake.append([event(100, user="Alice", at=f"{DAY} 10:30")])
    _silver, gold = lake.run()
    assert gold.dates == (DAY,)
    assert gold.groups[HOURLY_STATS.identifier] == 1
    assert gold.groups[RISK_SCORES.identifier] == 1
    hourly_after = processed_at(lake, HOURLY_STATS)
    changed = {k for k in hourly_after if hourly_after[k] != hourly_before.get(k)}
    assert changed == {(DAY, 10, "en.wikipedia.org")}
    risk_after = processed_at(lake, RISK_SCORES)
    assert {k for k in risk_after if risk_after[k] != risk_before[k]} == {(DAY, "Alice")}
    assert lake.one(RISK_SCORES, entity_id="Alice")["total_edits"] == 7
    assert lake.one(HOURLY_STATS, stat_date=DAY, stat_hour=10)["total_events"] == 7
    assert lake.one(DAILY_SUMMARY, summary_date=DAY)["total_events"] == 13


def test_rerun_without_new_silver_is_a_noop_and_cursors_match_silver(lake: Lake) -> None:
    seed_day(lake)
    snapshot = lake.table(SILVER).current_snapshot()
    assert snapshot is not None
    for table in GOLD_TABLES:
        cursor = Cursor.load(lake.table(table).properties, CURSOR_PREFIX)
        assert cursor.snapshot_id == snapshot.snapshot_id
    before = {t.identifier: lake.table(t).current_snapshot() for t in GOLD_TABLES}
    again = lake.gold()
    assert again.noop
    assert again.commits == 0
    assert {t.identifier: lake.table(t).current_snapshot() for t in GOLD_TABLES} == before


def test_late_event_three_days_back_updates_that_day(lake: Lake) -> None:
    seed_day(lake)
    lake.append([event(200, user="Dora", at="2026-02-23 05:00")])
    _, gold = lake.run()
    assert gold.dates == ("2026-02-23",)
    assert lake.one(DAILY_SUMMARY, summary_date="2026-02-23")["total_events"] == 1


def test_a_replaced_silver_row_moves_its_gold_group(lake: Lake) -> None:
    """An earlier duplicate arriving later wins in silver; gold drops the old group's count."""
    late_copy = event(7, at=f"{DAY} 18:00", domain="fr.wikipedia.org", user="Eve")
    lake.append([shifted(late_copy, offset=90, partition=1)])
    lake.run()
    assert lake.one(HOURLY_STATS, stat_hour=18)["domain"] == "fr.wikipedia.org"
    # the same event id at an earlier log position, recorded differently (other wiki)
    earlier = {**shifted(late_copy, offset=2, partition=0), "domain": "it.wikipedia.org"}
    lake.append([earlier])
    silver, _ = lake.run()
    assert silver.rows_deleted == 1
    (hour,) = lake.rows(HOURLY_STATS)
    assert (hour["domain"], hour["total_events"]) == ("it.wikipedia.org", 1)
    assert_equals_rebuild(lake)


def assert_equals_rebuild(lake: Lake) -> None:
    """The incremental gold tables equal a full recompute from silver."""
    incremental = gold_tables(lake)
    rebuild(lake.settings, "gold", catalog=lake.catalog)
    assert gold_tables(lake) == incremental


def test_a_crash_between_gold_tables_is_repaired_by_the_next_run(
    lake: Lake, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed_day(lake)
    lake.append(repeat(5, 300, user="Frank", at=f"{DAY} 12:00"))
    lake.silver()
    real_commit = steps.rewrite_files

    def fail_on_risk(table: Any, **kwargs: Any) -> None:
        if table.name()[-1] == "risk_scores":
            raise CommitConflictError("simulated conflict on risk_scores")
        real_commit(table, **kwargs)

    monkeypatch.setattr(gold_module, "rewrite_files", fail_on_risk)
    with pytest.raises(CommitConflictError):
        lake.gold()
    silver_id = lake.table(SILVER).current_snapshot().snapshot_id  # type: ignore[union-attr]
    hourly_cursor = Cursor.load(lake.table(HOURLY_STATS).properties, CURSOR_PREFIX)
    risk_cursor = Cursor.load(lake.table(RISK_SCORES).properties, CURSOR_PREFIX)
    assert hourly_cursor.snapshot_id == silver_id  # committed with its data
    assert risk_cursor.snapshot_id != silver_id  # not moved: Frank is still pending
    monkeypatch.setattr(gold_module, "rewrite_files", real_commit)
    result = lake.gold()
    assert result.groups[RISK_SCORES.identifier] == 1
    assert lake.one(RISK_SCORES, entity_id="Frank")["total_edits"] == 5
    assert_equals_rebuild(lake)


def test_whole_date_mode_gives_the_same_tables(
    lake: Lake, monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    other = make_lake(tmp_path / "whole")
    batches = [
        repeat(6, 1, user="Alice", at=f"{DAY} 10:00"),
        repeat(3, 20, user="Bob", at=f"{DAY} 11:00"),
        [event(30, user="Alice", at=f"{DAY} 23:59"), event(31, at="2026-02-25 01:00")],
    ]
    for rows in batches:
        lake.append(rows)
        lake.run()
    monkeypatch.setattr(gold_module, "FULL_DATE_ROWS", 0)
    for rows in batches:
        other.append(rows)
        _, gold = other.run()
        assert gold.groups["full_dates"] == len(gold.dates)
    assert gold_tables(lake) == gold_tables(other)
