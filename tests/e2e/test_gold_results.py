"""Issue 4, acceptance 3: `wikistream run --replay F --once`, then gold read through pyiceberg.

The generated file plants known users (its manifest is the ground truth): two vandal bursts the
seed's risk rules score HIGH and two users they score MEDIUM. Expected figures are computed here
from the file and from silver with pyarrow, independently of the gold SQL models.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow.compute as pc
import pytest

from tests.e2e.runs import expected_ids, generate, lake_settings, read_table, wikistream
from wikistream.lake.schemas import BRONZE, DAILY_SUMMARY, HOURLY_STATS, RISK_SCORES, SILVER

START = datetime(2026, 3, 1, 22, 30, tzinfo=UTC)  # the file crosses midnight: two UTC days


@pytest.fixture(scope="module")
def gold_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    root = tmp_path_factory.mktemp("gold")
    replay = root / "bursts.jsonl.gz"
    manifest = generate(replay, 20_000, seed=7, vandals=2, medium=2, rate=2.5, start=START)
    done = wikistream(
        root / "data", "run", "--replay", str(replay), "--speed", "max", "--once", "-o", "json"
    )
    summary = json.loads(done.stdout)
    assert not summary["blocked"], summary["blocked"]
    assert all(gate["passed"] for gate in summary["gates"]), summary["gates"]
    return root, manifest | {"replay": replay, "summary": summary}


def test_bronze_and_silver_hold_every_target_event_once(
    gold_run: tuple[Path, dict[str, Any]],
) -> None:
    root, manifest = gold_run
    settings = lake_settings(root / "data")
    expected = sorted(expected_ids([manifest["replay"]]))
    assert len(expected) == manifest["target_events"]
    assert sorted(read_table(settings, BRONZE).column("event_id").to_pylist()) == expected
    assert sorted(read_table(settings, SILVER).column("event_id").to_pylist()) == expected


def test_hourly_stats_match_silver_counts(gold_run: tuple[Path, dict[str, Any]]) -> None:
    root, manifest = gold_run
    settings = lake_settings(root / "data")
    silver = read_table(settings, SILVER).to_pylist()
    hourly = read_table(settings, HOURLY_STATS).to_pylist()
    want = Counter((r["event_date"], r["event_hour"], r["domain"]) for r in silver)
    got = {(r["stat_date"], r["stat_hour"], r["domain"]): r["total_events"] for r in hourly}
    assert got == dict(want)
    assert len({r["stat_date"] for r in hourly}) == 2  # the midnight crossing
    by_date = Counter(r["event_date"] for r in silver)
    assert by_date == Counter(manifest["target_events_by_date"])
    for row in hourly:
        mine = [
            s
            for s in silver
            if (s["event_date"], s["event_hour"], s["domain"])
            == (row["stat_date"], row["stat_hour"], row["domain"])
        ]
        assert row["bot_edits"] == sum(1 for s in mine if s["is_bot"])
        assert row["human_edits"] == row["total_events"] - row["bot_edits"]
        assert row["unique_users"] == len({s["user_normalized"] for s in mine})
        types = Counter(s["event_type"] for s in mine)
        assert (row["type_edit"], row["type_new"], row["type_log"], row["type_categorize"]) == (
            types["edit"],
            types["new"],
            types["log"],
            types["categorize"],
        )


def test_risk_levels_match_the_planted_users(gold_run: tuple[Path, dict[str, Any]]) -> None:
    root, manifest = gold_run
    settings = lake_settings(root / "data")
    risk = read_table(settings, RISK_SCORES).to_pylist()
    vandals = {u["user"]: u for u in manifest["vandals"]}
    medium = {u["user"]: u for u in manifest["medium_users"]}
    assert len(vandals) == 2
    assert len(medium) == 2
    for user, planted in vandals.items():
        rows = [r for r in risk if r["entity_id"] == user and r["stat_date"] == planted["date"]]
        assert [r["risk_level"] for r in rows] == ["HIGH"], (user, rows)
        assert rows[0]["alert_triggered"] is True
        assert rows[0]["total_edits"] == planted["edits"]
        assert rows[0]["risk_score"] == planted["expected_seed_risk"]["risk_score"]
    for user, planted in medium.items():
        rows = [r for r in risk if r["entity_id"] == user and r["stat_date"] == planted["date"]]
        assert [r["risk_level"] for r in rows] == ["MEDIUM"], (user, rows)
        assert rows[0]["risk_score"] == planted["expected_seed_risk"]["risk_score"]
    above_low = {r["entity_id"] for r in risk if r["risk_level"] in ("HIGH", "MEDIUM", "CRITICAL")}
    assert above_low == set(vandals) | set(medium)
    assert {r["risk_level"] for r in risk} <= {"HIGH", "MEDIUM", "LOW"}


def test_daily_summary_is_consistent(gold_run: tuple[Path, dict[str, Any]]) -> None:
    root, _ = gold_run
    settings = lake_settings(root / "data")
    silver = read_table(settings, SILVER)
    hourly = read_table(settings, HOURLY_STATS).to_pylist()
    risk = read_table(settings, RISK_SCORES).to_pylist()
    daily = read_table(settings, DAILY_SUMMARY).to_pylist()
    assert len(daily) == 2
    for day in daily:
        date = day["summary_date"]
        rows = silver.filter(pc.equal(silver["event_date"], date))
        day_hours = [h for h in hourly if h["stat_date"] == date]
        day_risk = [r for r in risk if r["stat_date"] == date]
        assert day["total_events"] == rows.num_rows == sum(h["total_events"] for h in day_hours)
        assert day["unique_users"] == len(set(rows["user_normalized"].to_pylist()))
        assert day["active_domains"] == len({h["domain"] for h in day_hours})
        assert day["new_pages_created"] == sum(h["type_new"] for h in day_hours)
        assert day["large_deletions_count"] == sum(h["large_deletions"] for h in day_hours)
        levels = Counter(r["risk_level"] for r in day_risk)
        assert day["high_risk_user_count"] == levels["HIGH"]
        assert day["medium_risk_user_count"] == levels["MEDIUM"]
        assert day["low_risk_user_count"] == levels["LOW"]
        assert day["total_alerts_triggered"] == sum(1 for r in day_risk if r["alert_triggered"])
        assert day["platform_max_risk_score"] == max(r["risk_score"] for r in day_risk)
        assert day["peak_hour_events"] == max(
            sum(h["total_events"] for h in day_hours if h["stat_hour"] == hour)
            for hour in {h["stat_hour"] for h in day_hours}
        )
        bots = sum(h["bot_edits"] for h in day_hours)
        assert day["bot_percentage"] == pytest.approx(100 * bots / rows.num_rows, abs=0.01)


def test_tables_and_query_commands_on_the_result(gold_run: tuple[Path, dict[str, Any]]) -> None:
    root, manifest = gold_run
    tables = json.loads(wikistream(root / "data", "tables", "-o", "json").stdout)
    rows = {t["table"]: t["rows"] for t in tables}
    assert rows["bronze.raw_events"] == rows["silver.cleaned_events"] == manifest["target_events"]
    assert rows["gold.daily_analytics_summary"] == 2
    answer = wikistream(
        root / "data",
        "query",
        "SELECT entity_id, risk_level FROM gold.risk_scores "
        "WHERE risk_level = 'HIGH' ORDER BY risk_score DESC, entity_id",
        "-o",
        "json",
    )
    high = [r["entity_id"] for r in json.loads(answer.stdout)]
    assert set(high) == {u["user"] for u in manifest["vandals"]}
    status = json.loads(wikistream(root / "data", "status", "-o", "json").stdout)
    assert {g["layer"]: g["status"] for g in status["gates"]} == {
        "bronze": "PASSED",
        "silver": "PASSED",
        "gold": "PASSED",
    }
    assert {t["table"]: t["rows"] for t in status["tables"]} == rows
