"""`rebuild`: recompute silver or gold from the layer below, in full or for a date range."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from tests.lake.bronze_rows import event, repeat
from tests.lake.conftest import Lake, make_lake
from wikistream.errors import ConfigError
from wikistream.lake.changes import Cursor
from wikistream.lake.gold import GOLD_TABLES
from wikistream.lake.predicates import eq
from wikistream.lake.refresh import rebuild, run_silver_gold
from wikistream.lake.schemas import BRONZE, DAILY_SUMMARY, SILVER
from wikistream.lake.silver import CURSOR_PREFIX

SRC = Path(__file__).resolve().parents[2] / "src"


def three_days(lake: Lake) -> None:
    lake.append(repeat(5, 1, user="Ann", at="2026-02-24 08:00"))
    lake.append(repeat(5, 10, user="Ann", at="2026-02-25 08:00"))
    lake.append(repeat(5, 20, user="Ann", at="2026-02-26 08:00"))
    run_silver_gold(lake.settings, lake.catalog)


def test_full_rebuild_reproduces_the_incremental_tables(lake: Lake) -> None:
    three_days(lake)
    before = {t.identifier: lake.rows(t) for t in (SILVER, *GOLD_TABLES)}
    silver = rebuild(lake.settings, "silver", catalog=lake.catalog)
    assert silver.rows_out == 15
    assert silver.commits == 1
    assert Cursor.load(lake.table(SILVER).properties, CURSOR_PREFIX) == silver.cursor
    rebuild(lake.settings, "gold", catalog=lake.catalog)
    assert {t.identifier: lake.rows(t) for t in (SILVER, *GOLD_TABLES)} == before
    _, gold = run_silver_gold(lake.settings, lake.catalog)
    assert gold.noop  # a full gold rebuild also moved the gold cursors


def stamps(lake: Lake) -> dict[str, object]:
    rows = lake.rows(SILVER, keep_processed_at=True)
    return {r["event_id"]: r["silver_processed_at"] for r in rows}


def test_range_rebuild_rewrites_only_that_range(lake: Lake) -> None:
    three_days(lake)
    stamps = {
        r["event_id"]: r["silver_processed_at"] for r in lake.rows(SILVER, keep_processed_at=True)
    }
    result = rebuild(
        lake.settings, "silver", date(2026, 2, 25), date(2026, 2, 25), catalog=lake.catalog
    )
    assert result.dates == ("2026-02-25",)
    after = {
        r["event_id"]: r["silver_processed_at"] for r in lake.rows(SILVER, keep_processed_at=True)
    }
    changed = {e for e in after if after[e] != stamps[e]}
    assert changed == {f"e{n}" for n in range(10, 15)}


def test_a_silver_rebuild_after_bronze_lost_a_day_removes_it_downstream(lake: Lake) -> None:
    three_days(lake)
    lake.table(BRONZE).delete(eq("event_date", "2026-02-24"))  # e.g. a purge
    rebuild(lake.settings, "silver", date(2026, 2, 24), date(2026, 2, 24), catalog=lake.catalog)
    assert {r["event_date"] for r in lake.rows(SILVER)} == {"2026-02-25", "2026-02-26"}
    _, gold = run_silver_gold(lake.settings, lake.catalog)
    assert "2026-02-24" in gold.dates
    assert [d["summary_date"] for d in lake.rows(DAILY_SUMMARY)] == ["2026-02-25", "2026-02-26"]


def test_gold_range_rebuild_keeps_cursor_and_drops_stale_dates(lake: Lake, tmp_path: Path) -> None:
    three_days(lake)
    lake.append([event(99, at="2026-02-26 09:00")])  # pending for gold
    lake.silver()
    result = rebuild(
        lake.settings, "gold", date(2026, 2, 24), date(2026, 2, 24), catalog=lake.catalog
    )
    assert result.dates == ("2026-02-24",)
    assert result.cursor == result.cursor_before  # the pending change is still pending…
    _, gold = run_silver_gold(lake.settings, lake.catalog)
    assert gold.dates == ("2026-02-26",)  # …and the next run picks it up
    assert lake.one(DAILY_SUMMARY, summary_date="2026-02-26")["total_events"] == 6


def test_rebuild_refuses_bad_arguments(lake: Lake) -> None:
    with pytest.raises(ConfigError, match="unknown layer 'bronze'"):
        rebuild(lake.settings, "bronze", catalog=lake.catalog)
    with pytest.raises(ConfigError, match="after --to"):
        rebuild(lake.settings, "gold", date(2026, 2, 2), date(2026, 2, 1), catalog=lake.catalog)


def cli(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WIKISTREAM_")}
    env["PYTHONPATH"] = str(SRC)
    command = [sys.executable, "-m", "wikistream", "--data-dir", str(data_dir), *args]
    return subprocess.run(command, capture_output=True, text=True, env=env, timeout=120)


def test_cli_rebuild(tmp_path: Path) -> None:
    lake = make_lake(tmp_path / "data")
    three_days(lake)
    done = cli(
        tmp_path / "data", "rebuild", "--layer", "gold", "--from", "2026-02-25", "-o", "json"
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["layer"] == "gold"
    assert report["dates"] == ["2026-02-25", "2026-02-26"]
    bad = cli(tmp_path / "data", "rebuild", "--layer", "gold", "--from", "26.02.2026")
    assert bad.returncode == 1
    assert "--from '26.02.2026' is not a date; use YYYY-MM-DD" in bad.stderr
    wrong = cli(tmp_path / "data", "rebuild", "--layer", "platinum")
    assert wrong.returncode == 1
    assert "unknown layer 'platinum'" in wrong.stderr
