"""Page data computed from the planted tables, the event log and the run files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.serve.conftest import Lake
from tests.serve.lake_rows import VANDALS, WIKIS, hourly_rows
from wikistream.clock import utc_now
from wikistream.errors import CatalogError
from wikistream.eventlog.base import NewRecord
from wikistream.eventlog.registry import open_event_log
from wikistream.lake.catalog import open_catalog
from wikistream.serve import panels, pipeline
from wikistream.serve.dashboard import Dashboard
from wikistream.serve.lakeread import LakeReader
from wikistream.settings import load_settings


def test_activity_matches_hourly_stats(lake: Lake) -> None:
    body = panels.activity_panel(lake.reader)
    rows = hourly_rows(lake.planted.today)
    assert body["date"] == lake.planted.today
    assert body["totals"]["total_events"] == sum(r["total_events"] for r in rows)
    assert body["totals"]["bot_edits"] == sum(r["bot_edits"] for r in rows)
    assert body["totals"]["ip_edits"] == sum(r["ip_edits"] for r in rows)
    assert body["totals"]["temporary_edits"] == sum(r["temporary_edits"] for r in rows)
    assert body["totals"]["registered_edits"] == sum(
        r["total_events"] - r["ip_edits"] - r["temporary_edits"] for r in rows
    )
    assert body["totals"]["bytes_removed"] == sum(r["bytes_removed"] for r in rows)
    for region in set(WIKIS.values()):
        for hour in range(24):
            expected = sum(
                r["total_events"] for r in rows if r["region"] == region and r["stat_hour"] == hour
            )
            assert body["by_region"][region][hour] == expected
    assert next(w["domain"] for w in body["by_wiki"]) == "ar.wikipedia.org"
    assert body["bot_human"]["bot"][3] == sum(r["bot_edits"] for r in rows if r["stat_hour"] == 3)


def test_activity_of_an_unknown_day_falls_back_to_today(lake: Lake) -> None:
    assert panels.activity_panel(lake.reader, "1999-01-01")["date"] == lake.planted.today


def test_risk_lists_vandals_first_with_factors_and_diff_links(lake: Lake) -> None:
    body = panels.risk_panel(lake.reader)
    users = body["users"]
    assert [u["entity_id"] for u in users[:2]] == [VANDALS[1], VANDALS[0]]
    assert all(u["risk_level"] == "HIGH" for u in users[:2])
    top = users[0]
    assert (top["velocity_points"], top["deletion_points"], top["anonymous_points"]) == (40, 30, 20)
    assert top["evidence"]["total_edits"] == 1250
    assert len(top["diffs"]) == 3
    diff = top["diffs"][0]
    assert diff["url"] == (
        f"https://{diff['domain']}/w/index.php?diff={diff['revision_new']}"
        f"&oldid={diff['revision_old']}"
    )
    assert body["levels"] == {"HIGH": 2, "MEDIUM": 1, "LOW": 3}
    assert body["scored_users"] == 6


def test_diff_url_of_a_page_creation_and_of_a_log_event() -> None:
    assert (
        panels.diff_url("de.wikipedia.org", 5, None)
        == "https://de.wikipedia.org/w/index.php?oldid=5"
    )
    assert panels.diff_url("de.wikipedia.org", None, None) is None


def test_daily_trend_is_ordered_oldest_first(lake: Lake) -> None:
    body = panels.daily_panel(lake.reader)
    assert body["days"] == lake.planted.days
    assert [r["total_events"] for r in body["rows"]] == [1000, 2000, 3000]
    assert [r["platform_health_score"] for r in body["rows"]] == [80.0, 81.0, 82.0]


def test_pipeline_figures(lake: Lake) -> None:
    figures = pipeline.lake_figures(lake.reader)
    bronze = figures["freshness"]["bronze"]
    assert (bronze["events"], bronze["p50_s"], bronze["p95_s"]) == (100, 50.5, 95.05)
    assert figures["events_per_s"] == pytest.approx(100 / 60, abs=0.01)
    assert len(figures["throughput"]) == 60
    assert sum(m["events"] for m in figures["throughput"]) == 100
    gates = {g["run_id"]: g for g in figures["gates"]}
    assert [gates[r]["passed_gate"] for r in ("dq-1", "dq-2", "dq-3", "dq-4")] == [
        True, True, False, True
    ]  # fmt: skip
    assert gates["dq-3"]["failed_checks"] == ["check_1"]
    assert gates["dq-2"]["warnings"] == 1


def test_log_figures(lake: Lake) -> None:
    event_log = open_event_log(lake.settings, readonly=True)
    try:
        figures = pipeline.log_figures(event_log, lake.reader, "raw-events", "dlq-events")
    finally:
        event_log.close()
    assert figures["bronze_lag"] == 5
    assert figures["lag_source"] == "group"
    assert figures["dlq"]["reasons_last_hour"] == {"invalid_json": 2, "missing_field": 1}
    assert figures["dlq"]["latest"][0]["error"] == "bad event 2"
    assert figures["coverage"][0]["coverage_pct"] == 90.0
    assert figures["ingest_counters"]["dead_lettered"] == 3


def test_stage_rows_and_alarms(lake: Lake) -> None:
    rows = {r["stage"]: r for r in pipeline.stage_rows(lake.settings.data_dir, lake.planted.now)}
    assert rows["refine"]["state"] == "failed"
    assert rows["refine"]["last_error"] == "boom: disk full"
    assert rows["ingest"]["stale"] is False
    alarms = pipeline.read_alarms(lake.settings.data_dir)
    assert alarms[0]["name"] == "dlq-high-rate"
    assert alarms[0]["status"] == "ALARM"


def test_bad_run_files_and_log_records_are_read_defensively(tmp_path: Path) -> None:
    settings = load_settings(overrides={"data_dir": tmp_path / "data"})
    run = settings.path("run")
    run.mkdir()
    (run / "alerts.json").write_text("{not json")
    assert pipeline.read_alarms(settings.data_dir) == []
    (run / "alerts.json").write_text(json.dumps({"alerts": [{"name": "x"}, 5]}))
    assert pipeline.read_alarms(settings.data_dir) == [
        {"name": "x", "severity": None, "status": None, "title": None, "since": None}
    ]
    (run / "bronze.status.json").write_text("{half")
    assert pipeline.stage_rows(settings.data_dir, utc_now()) == []
    log = open_event_log(settings)
    log.append(
        {"dlq-events": [NewRecord(value=b"\xff not json"), NewRecord(value=b"[1, 2]")]},
        checkpoint=("ingest", {"coverage": {"hours": {"h": {"t|0": ["x"], "u|1": [1, 2, 3]}}}}),
    )
    summary = pipeline.dlq_summary(log, "dlq-events", utc_now())
    assert [d["error_type"] for d in summary["latest"]] == ["unreadable", "unreadable"]
    assert pipeline.coverage_rows(log.load_checkpoint("ingest")) == [
        {"hour": "h", "received": 1, "skipped": 2, "duplicates": 3, "coverage_pct": 33.333}
    ]
    log.close()


def test_empty_data_dir_gives_empty_pages(tmp_path: Path) -> None:
    settings = load_settings(overrides={"data_dir": tmp_path / "data"})
    dashboard = Dashboard(settings)
    try:
        snapshot = dashboard.snapshot()
    finally:
        dashboard.close()
    assert snapshot["activity"]["empty"]
    assert snapshot["risk"]["users"] == []
    assert snapshot["daily"]["rows"] == []
    assert snapshot["pipeline"]["stages"] == []
    assert snapshot["pipeline"]["alarms"] == []
    assert snapshot["pipeline"]["lake"]["freshness"]["bronze"]["events"] == 0
    reader = LakeReader(open_catalog(settings))
    assert reader.read("gold.hourly_stats").num_rows == 0


def test_reads_of_an_unchanged_snapshot_are_cached(lake: Lake) -> None:
    first = lake.reader.read("gold.daily_analytics_summary")
    assert lake.reader.read("gold.daily_analytics_summary") is first


def test_pipeline_page_survives_an_unreadable_lake(
    lake: Lake, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(reader: LakeReader) -> dict[str, object]:
        raise CatalogError("cannot open Iceberg catalog 'wikistream': database is locked")

    monkeypatch.setattr(pipeline, "lake_figures", broken)
    dashboard = Dashboard(lake.settings)
    try:
        body = dashboard.pipeline()
    finally:
        dashboard.close()
    assert "database is locked" in body["lake"]["error"]
    assert len(body["stages"]) == 3
    assert body["log"]["dlq"]["last_hour"] == 3


def test_a_checkpoint_ingest_refuses_shows_no_counters_but_keeps_the_page(tmp_path: Path) -> None:
    settings = load_settings(overrides={"data_dir": tmp_path / "data"})
    log = open_event_log(settings)
    log.append(
        {"dlq-events": [NewRecord(value=b'{"error_type": "too_large"}')]},
        checkpoint=(
            "ingest",
            {
                "version": 99,
                "counters": {"received": 7},
                "coverage": {"hours": {"h": {"t|0": [3, 1, 0]}}},
            },
        ),
    )
    try:
        figures = pipeline.log_figures(
            log, LakeReader(open_catalog(settings)), "raw-events", "dlq-events"
        )
    finally:
        log.close()
    assert figures["available"] is True
    assert figures["ingest_counters"] == {}
    assert figures["ingest_updated_at"] is None
    assert figures["coverage"][0]["coverage_pct"] == 75.0
    assert figures["dlq"]["reasons_last_hour"] == {"too_large": 1}
