"""Known rows written into real Iceberg tables, for dashboard and sandbox tests.

Until the whole pipeline runs in tests, the pages are checked against tables filled here with
values chosen by hand: hourly stats for four wikis, risk scores with two planted vandals, silver
rows with their diffs, three daily summaries, DQ runs (one failing), recent bronze rows with
known processing delays, stage status files, alarms and an event log with DLQ records and an
ingest checkpoint.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pyarrow as pa

from wikistream.eventlog.base import NewRecord
from wikistream.eventlog.registry import open_event_log
from wikistream.lake.catalog import ensure_lake, open_catalog
from wikistream.lake.schemas import (
    BRONZE,
    DAILY_SUMMARY,
    HOURLY_STATS,
    QUALITY_RESULTS,
    RISK_SCORES,
    SILVER,
    TableDef,
)
from wikistream.orchestrate.status import StageStatus, status_dir, write_status
from wikistream.settings import Settings

WIKIS = {
    "en.wikipedia.org": "americas",
    "de.wikipedia.org": "europe",
    "ja.wikipedia.org": "asia_pacific",
    "ar.wikipedia.org": "middle_east",
}
VANDALS = ("Vandal-Alpha", "203.0.113.66")
HOURS = range(6)
BRONZE_DELAYS_S = [float(x) for x in range(1, 101)]  # event → bronze delays: p50 50.5, p95 95.05


def arrow(table: TableDef, rows: list[dict[str, Any]]) -> pa.Table:
    """Rows as an Arrow table with exactly the Iceberg schema (missing columns are null)."""
    schema = table.schema().as_arrow()
    return pa.Table.from_pylist(
        [{name: row.get(name) for name in schema.names} for row in rows], schema=schema
    )


def hourly_row(day: str, hour: int, domain: str, base: int) -> dict[str, Any]:
    """One hourly_stats row whose figures all derive from ``base``."""
    total = base
    bots = base // 5
    ips = base // 10
    temps = base // 20
    return {
        "stat_date": day,
        "stat_hour": hour,
        "domain": domain,
        "region": WIKIS.get(domain, "other"),
        "total_events": total,
        "unique_users": base // 2,
        "unique_pages": base // 3,
        "bytes_added": base * 100,
        "bytes_removed": base * 40,
        "avg_edit_size": 70.0,
        "bot_edits": bots,
        "human_edits": total - bots,
        "bot_percentage": round(100 * bots / total, 2),
        "anonymous_edits": ips,
        "type_edit": total - 2,
        "type_new": 1,
        "type_categorize": 1,
        "type_log": 0,
        "large_deletions": 0,
        "large_additions": 0,
        "gold_processed_at": datetime.now(UTC),
        "schema_version": "1.0.0",
        "ip_edits": ips,
        "temporary_edits": temps,
    }


def hourly_rows(day: str) -> list[dict[str, Any]]:
    """Hours 0–5 of ``day`` for the four wikis; base = 10·(wiki index + 1) + hour."""
    return [
        hourly_row(day, hour, domain, 10 * (i + 1) + hour)
        for hour in HOURS
        for i, domain in enumerate(WIKIS)
    ]


def risk_row(day: str, user: str, **values: Any) -> dict[str, Any]:
    """A risk_scores row; points and score must be given."""
    points = {k: values.get(k, 0.0) for k in ("velocity_points", "deletion_points")}
    points |= {k: values.get(k, 0.0) for k in ("anonymous_points", "cross_domain_points")}
    score = float(min(100.0, sum(points.values())))
    total = int(values.get("total_edits", 5))
    return {
        "stat_date": day,
        "entity_id": user,
        "entity_type": "user",
        "total_edits": total,
        "edits_per_hour_avg": round(total / 24.0, 6),
        "large_deletions": int(values.get("large_deletions", 0)),
        "domains_edited": int(values.get("domains_edited", 1)),
        "risk_score": score,
        "risk_level": values.get("risk_level", "LOW"),
        "evidence": json.dumps(
            {
                "edits_per_hour": round(total / 24.0, 2),
                "large_deletions": int(values.get("large_deletions", 0)),
                "domains_edited": int(values.get("domains_edited", 1)),
                "total_edits": total,
                "anonymous_edits": int(values.get("anonymous_edits", 0)),
            }
        ),
        "alert_triggered": bool(values.get("alert_triggered", False)),
        "gold_processed_at": datetime.now(UTC),
        "schema_version": "1.0.0",
        "anonymous_edits": int(values.get("anonymous_edits", 0)),
        "peak_hour_edits": int(values.get("peak_hour_edits", total)),
        "user_kind": values.get("user_kind", "registered"),
        **points,
    }


def risk_rows(day: str) -> list[dict[str, Any]]:
    """Two HIGH vandals, one MEDIUM, three LOW users."""
    return [
        risk_row(day, "Calm-Editor", total_edits=8),
        risk_row(day, "Busy-Gnome", total_edits=300, velocity_points=10.0, deletion_points=15.0,
                 large_deletions=2),
        risk_row(day, "198.51.100.4", total_edits=6, anonymous_points=20.0, anonymous_edits=6,
                 user_kind="ip"),
        risk_row(day, "Night-Owl", total_edits=700, velocity_points=25.0, deletion_points=15.0,
                 large_deletions=2, risk_level="MEDIUM"),
        risk_row(day, VANDALS[0], total_edits=1300, velocity_points=40.0, deletion_points=30.0,
                 cross_domain_points=10.0, large_deletions=9, domains_edited=6, risk_level="HIGH",
                 alert_triggered=True),
        risk_row(day, VANDALS[1], total_edits=1250, velocity_points=40.0, deletion_points=30.0,
                 anonymous_points=20.0, anonymous_edits=1250, large_deletions=5,
                 risk_level="HIGH", alert_triggered=True, user_kind="ip"),
    ]  # fmt: skip


def silver_rows(day: str, now: datetime) -> list[dict[str, Any]]:
    """Three edits by each vandal (with revision ids for diff links) and two by others."""
    rows = []
    users = [*VANDALS, "Calm-Editor"]
    for u, user in enumerate(users):
        for k in range(3 if user in VANDALS else 2):
            rev = 1_000_000 + 100 * u + k
            domain = list(WIKIS)[k % len(WIKIS)]
            rows.append(
                {
                    "event_id": f"ev-{u}-{k}",
                    "rc_id": rev,
                    "event_type": "edit",
                    "domain": domain,
                    "region": WIKIS[domain],
                    "language": domain.split(".")[0],
                    "title": f"Page {u}-{k}",
                    "namespace": 0,
                    "user_normalized": user,
                    "is_bot": False,
                    "is_anonymous": user.count(".") == 3,
                    "length_old": 9000,
                    "length_new": 100,
                    "length_delta": -8900,
                    "revision_old": rev - 1,
                    "revision_new": rev,
                    "is_valid": True,
                    "is_large_deletion": True,
                    "is_large_addition": False,
                    "event_timestamp": now - timedelta(minutes=30 - k),
                    "bronze_processed_at": now - timedelta(seconds=20),
                    "silver_processed_at": now - timedelta(seconds=10),
                    "event_date": day,
                    "schema_version": "1.0.0",
                    "user_kind": "ip" if user.count(".") == 3 else "registered",
                    "event_hour": (now - timedelta(minutes=30 - k)).hour,
                    "log_partition": 0,
                    "log_offset": rev,
                }
            )
    return rows


def daily_row(day: str, total: int, health: float) -> dict[str, Any]:
    """A daily summary row with a few chosen KPIs."""
    return {
        "summary_date": day,
        "total_events": total,
        "unique_users": total // 4,
        "active_domains": 4,
        "unique_pages_edited": total // 2,
        "bot_percentage": 20.0,
        "anonymous_percentage": 10.0,
        "registered_user_percentage": 70.0,
        "total_bytes_added": total * 100,
        "total_bytes_removed": total * 40,
        "net_content_change": total * 60,
        "avg_edit_size_bytes": 70.0,
        "new_pages_created": total // 50,
        "large_deletions_count": 3,
        "large_additions_count": 1,
        "large_deletion_rate": round(100 * 3 / total, 4),
        "high_risk_user_count": 2,
        "medium_risk_user_count": 1,
        "low_risk_user_count": 3,
        "platform_avg_risk_score": 40.0,
        "platform_max_risk_score": 100.0,
        "total_alerts_triggered": 2,
        "europe_percentage": 30.0,
        "americas_percentage": 25.0,
        "asia_pacific_percentage": 35.0,
        "peak_hour_events": total // 10,
        "avg_events_per_hour": round(total / 24.0, 2),
        "platform_health_score": health,
        "gold_processed_at": datetime.now(UTC),
        "schema_version": "1.0.0",
        "middle_east_percentage": 10.0,
        "other_percentage": 0.0,
    }


def quality_rows(now: datetime) -> list[dict[str, Any]]:
    """Four gate runs: bronze and silver pass, one gold run fails, a later gold run passes."""
    warn = [("PASSED", "error"), ("WARNING", "warning")]
    runs = [
        ("dq-1", "bronze", now - timedelta(minutes=40), [("PASSED", "error")] * 3),
        ("dq-2", "silver", now - timedelta(minutes=30), warn),
        ("dq-3", "gold", now - timedelta(minutes=20), [("PASSED", "error"), ("FAILED", "error")]),
        ("dq-4", "gold", now - timedelta(minutes=10), [("PASSED", "error"), ("PASSED", "error")]),
    ]  # fmt: skip
    rows = []
    for run_id, layer, at, checks in runs:
        for k, (status, severity) in enumerate(checks):
            rows.append(
                {
                    "run_id": run_id,
                    "layer": layer,
                    "table_name": f"{layer}.x",
                    "check_name": f"check_{k}",
                    "check_type": "completeness",
                    "status": status,
                    "records_checked": 100,
                    "message": f"{status.lower()} check {k}",
                    "run_timestamp": at,
                    "run_date": at.strftime("%Y-%m-%d"),
                    "severity": severity,
                }
            )
    return rows


def bronze_rows(now: datetime) -> list[dict[str, Any]]:
    """100 events processed 5 s ago, each with a known event → bronze delay (1..100 s)."""
    processed = now - timedelta(seconds=5)
    rows = []
    for i, delay in enumerate(BRONZE_DELAYS_S):
        event_ts = processed - timedelta(seconds=delay)
        rows.append(
            {
                "event_id": f"b-{i}",
                "domain": "en.wikipedia.org",
                "event_type": "edit",
                "event_timestamp": event_ts,
                "bronze_processed_at": processed,
                "event_date": event_ts.strftime("%Y-%m-%d"),
                "event_hour": event_ts.hour,
                "schema_version": "1.0.0",
            }
        )
    return rows


@dataclass
class Planted:
    """What :func:`plant_lake` wrote, for assertions."""

    today: str
    days: list[str]
    now: datetime


def plant_lake(settings: Settings, now: datetime | None = None) -> Planted:
    """Create every table and append the known rows; also status files, alarms and the log."""
    now = now or datetime.now(UTC)
    today = now.strftime("%Y-%m-%d")
    days = [(now - timedelta(days=d)).strftime("%Y-%m-%d") for d in (2, 1, 0)]
    tables = ensure_lake(open_catalog(settings))
    tables[HOURLY_STATS.identifier].append(arrow(HOURLY_STATS, hourly_rows(today)))
    tables[RISK_SCORES.identifier].append(arrow(RISK_SCORES, risk_rows(today)))
    tables[SILVER.identifier].append(arrow(SILVER, silver_rows(today, now)))
    tables[DAILY_SUMMARY.identifier].append(
        arrow(DAILY_SUMMARY, [daily_row(d, 1000 * (i + 1), 80.0 + i) for i, d in enumerate(days)])
    )
    tables[QUALITY_RESULTS.identifier].append(arrow(QUALITY_RESULTS, quality_rows(now)))
    tables[BRONZE.identifier].append(arrow(BRONZE, bronze_rows(now)))
    plant_run_files(settings)
    plant_event_log(settings, now)
    return Planted(today=today, days=days, now=now)


def plant_run_files(settings: Settings) -> None:
    """Status files of three stages and one active alarm."""
    for stage, state in (("ingest", "running"), ("bronze", "running"), ("refine", "failed")):
        write_status(
            settings.data_dir,
            StageStatus(
                stage=stage,
                state=state,
                message=f"{stage} is {state}",
                last_error="boom: disk full" if state == "failed" else None,
                counters={"events": 42.0},
            ),
        )
    alerts = [
        {
            "name": "dlq-high-rate",
            "severity": "WARNING",
            "status": "ALARM",
            "title": "More than 10 dead letters a minute",
            "since": "2026-01-28T15:00:00Z",
        }
    ]
    (status_dir(settings.data_dir) / "alerts.json").write_text(json.dumps(alerts))


def plant_event_log(settings: Settings, now: datetime) -> None:
    """Five raw records, three DLQ records and an ingest checkpoint with a coverage ledger."""
    log = open_event_log(settings)
    hour = now.strftime("%Y-%m-%dT%H")
    checkpoint = {
        "version": 1,
        "counters": {"received": 10, "appended": 5, "dead_lettered": 3, "filtered": 2},
        "coverage": {
            "offsets": {"eqiad.mediawiki.recentchange|0": 99},
            "hours": {hour: {"eqiad.mediawiki.recentchange|0": [90, 10, 2]}},
        },
        "updated_at": now.isoformat(),
    }
    raw = [NewRecord(value=b'{"id": "x%d"}' % i, key=b"k") for i in range(5)]
    dlq = [
        NewRecord(
            value=json.dumps(
                {"error_type": kind, "error": f"bad event {i}", "stage": "ingest",
                 "received_at": now.isoformat(), "raw_payload": "{nope"}
            ).encode()
        )
        for i, kind in enumerate(["invalid_json", "invalid_json", "missing_field"])
    ]  # fmt: skip
    try:
        log.append(
            {settings.log.raw_topic: raw, settings.log.dlq_topic: dlq},
            checkpoint=("ingest", checkpoint),
        )
    finally:
        log.close()
