"""Issue 6, acceptance 1 (replay-driven): the dashboard over what `wikistream run --once` built.

A generated file with two planted vandals and two MEDIUM users is replayed through the whole
pipeline; the dashboard (``start_server``) then shows, page by page, the numbers the tables hold
(read here through pyiceberg), the vandals first on the Risk page, and a second replayed batch
appears on the open page without a reload.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.runs import generate, lake_settings, read_table, wikistream
from tests.serve.test_browser import chart, open_page, tile
from wikistream.lake.schemas import (
    BRONZE,
    DAILY_SUMMARY,
    HOURLY_STATS,
    QUALITY_RESULTS,
    RISK_SCORES,
)
from wikistream.serve.server import start_server

pytestmark = [pytest.mark.browser, pytest.mark.slow]

START = datetime(2026, 3, 5, 6, 0, tzinfo=UTC)


def _day_rows(rows: list[dict[str, Any]], column: str) -> tuple[str, list[dict[str, Any]]]:
    day = max(r[column] for r in rows)
    return day, [r for r in rows if r[column] == day]


def test_dashboard_shows_the_replayed_tables_and_a_second_batch_live(
    browser: Any, tmp_path: Path
) -> None:
    first = tmp_path / "first.jsonl.gz"
    manifest = generate(first, 12_000, seed=4, vandals=2, medium=2, start=START)
    data_dir = tmp_path / "data"
    wikistream(data_dir, "run", "--replay", str(first), "--speed", "max", "--once")
    settings = lake_settings(data_dir)
    server = start_server(settings, port=0)
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        # Pipeline: lag, dead letters, throughput and gate checks as the log and tables have them
        open_page(page, server.url, "pipeline")
        bronze = read_table(settings, BRONZE)
        assert tile(page, "pipe-lag") == 0
        assert tile(page, "pipe-dlq") == 0
        assert sum(chart(page, "throughput")["sets"]["bronze events / min"]) == bronze.num_rows
        quality = read_table(settings, QUALITY_RESULTS).to_pylist()
        passed = sum(1 for r in quality if r["status"] == "PASSED")
        assert sum(chart(page, "gates")["sets"]["passed checks"]) == passed

        # Activity: the day's totals from gold.hourly_stats
        day, stats = _day_rows(read_table(settings, HOURLY_STATS).to_pylist(), "stat_date")
        open_page(page, server.url, "activity")
        assert tile(page, "act-total") == sum(r["total_events"] for r in stats)
        assert tile(page, "act-bots") == sum(r["bot_edits"] for r in stats)
        assert tile(page, "act-ip") == sum(r["ip_edits"] for r in stats)
        assert tile(page, "act-wikis") == len({r["domain"] for r in stats})

        # Risk: the planted vandals first, HIGH; the MEDIUM users counted
        _, risk = _day_rows(read_table(settings, RISK_SCORES).to_pylist(), "stat_date")
        vandals = sorted(manifest["vandals"], key=lambda u: -u["expected_seed_risk"]["risk_score"])
        open_page(page, server.url, "risk")
        users = page.locator(
            "[data-testid=risk-users-row] td[data-col=entity_id]"
        ).all_inner_texts()
        assert users[:2] == [u["user"] for u in vandals]
        levels = page.locator(
            "[data-testid=risk-users-row] td[data-col=risk_level]"
        ).all_inner_texts()
        assert levels[:2] == ["HIGH", "HIGH"]
        assert tile(page, "risk-high") == 2
        assert tile(page, "risk-medium") == sum(1 for r in risk if r["risk_level"] == "MEDIUM") == 2
        assert tile(page, "risk-scored") == len(risk)

        # Daily: one point per summary row
        daily = sorted(
            read_table(settings, DAILY_SUMMARY).to_pylist(), key=lambda r: r["summary_date"]
        )
        open_page(page, server.url, "daily")
        events = chart(page, "daily-events")
        assert events["labels"] == [r["summary_date"] for r in daily]
        assert events["sets"]["events"] == [r["total_events"] for r in daily]
        assert tile(page, "daily-health") == daily[-1]["platform_health_score"]
        assert tile(page, "daily-high") == daily[-1]["high_risk_user_count"] == 2

        # A second batch replayed while the Activity page is open shows up without a reload
        open_page(page, server.url, "activity")
        page.evaluate("() => { window.__notReloaded = true; }")
        before = tile(page, "act-total")
        second = tmp_path / "second.jsonl.gz"
        later = datetime.fromisoformat(manifest["event_time_range"]["max"].replace("Z", "+00:00"))
        generate(second, 3_000, seed=9, start=later)
        wikistream(data_dir, "run", "--replay", str(second), "--speed", "max", "--once")
        _, stats = _day_rows(read_table(settings, HOURLY_STATS).to_pylist(), "stat_date")
        expected_total = sum(r["total_events"] for r in stats if r["stat_date"] == day)
        assert expected_total > before
        page.wait_for_function(
            "n => Number(document.querySelector('[data-testid=act-total] .value')"
            ".dataset.value) === n",
            arg=expected_total,
            timeout=30_000,
        )
        assert page.evaluate("() => window.__notReloaded") is True
        assert expected_total == read_table(settings, BRONZE).num_rows
    finally:
        context.close()
        server.close()
    assert errors == [], errors
