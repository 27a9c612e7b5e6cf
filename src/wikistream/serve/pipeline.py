"""The data behind the Pipeline page: stage states, throughput, lag, freshness, DLQ, gates, alarms.

Sources, each read defensively (a missing or unreadable one leaves its figure empty, never
breaks the page): stage status files under ``<data-dir>/run``, the event log (head offsets, the
DLQ topic, the ingest checkpoint with its coverage ledger), the bronze table's stored log
position, the bronze/silver rows processed in the last hour, ``dq_audit.quality_results`` and
``<data-dir>/run/alerts.json`` (active alarms, written by the runner).
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa

from wikistream.clock import seconds_since, to_iso, utc_now
from wikistream.errors import IngestError, WikiStreamError
from wikistream.eventlog.base import EventLog, lag
from wikistream.ingest.checkpoint import CHECKPOINT_NAME, IngestState
from wikistream.ingest.ledger import rows_from_state
from wikistream.ingest.report import read_dlq
from wikistream.lake.bronze import GROUP as BRONZE_GROUP
from wikistream.lake.bronze import POSITION_PROPERTY as BRONZE_POSITION_PROPERTY
from wikistream.lake.predicates import ge
from wikistream.orchestrate.feed import read_alerts
from wikistream.orchestrate.status import is_stale, read_all_status
from wikistream.serve.lakeread import LakeReader
from wikistream.serve.panels import run_sql

log = logging.getLogger(__name__)

WINDOW = timedelta(hours=1)
FRESHNESS_WINDOW = timedelta(minutes=15)
GATE_WINDOW = timedelta(hours=48)
RATE_WINDOW = timedelta(seconds=60)
DLQ_SCAN = 1000
DLQ_SHOWN = 10

# Minute buckets from epoch seconds: date_trunc on TIMESTAMPTZ goes through ICU and is ~5x slower.
THROUGHPUT_SQL = """
SELECT floor(epoch(bronze_processed_at) / 60)::BIGINT AS minute, count(*) AS events
FROM bronze WHERE bronze_processed_at >= $since GROUP BY ALL
"""
RATE_SQL = "SELECT count(*) AS events FROM bronze WHERE bronze_processed_at >= $since"
FRESHNESS_SQL = """
SELECT count(*) AS events,
       quantile_cont(epoch(processed_at) - epoch(event_timestamp), 0.5) AS p50_s,
       quantile_cont(epoch(processed_at) - epoch(event_timestamp), 0.95) AS p95_s
FROM rows WHERE processed_at >= $since AND event_timestamp IS NOT NULL
"""
GATES_SQL = """
SELECT run_id, layer, min(run_timestamp) AS run_timestamp,
       count(*) FILTER (status = 'PASSED') AS passed,
       count(*) FILTER (status IN ('FAILED', 'ERROR')
                        AND coalesce(severity, 'error') = 'error') AS blocking,
       count(*) FILTER (status IN ('FAILED', 'ERROR', 'WARNING')
                        AND NOT (status IN ('FAILED', 'ERROR')
                                 AND coalesce(severity, 'error') = 'error')) AS warnings,
       count(*) AS checks,
       list(check_name ORDER BY check_name) FILTER (status IN ('FAILED', 'ERROR')
                        AND coalesce(severity, 'error') = 'error') AS failed_checks
FROM quality WHERE run_timestamp >= $since
GROUP BY run_id, layer ORDER BY run_timestamp, run_id
"""


def stage_rows(data_dir: Path, now: datetime) -> list[dict[str, Any]]:
    """Every stage status file, with heartbeat/progress ages and a staleness flag."""
    rows = []
    for name, st in sorted(read_all_status(data_dir).items()):
        rows.append(
            {
                "stage": name,
                "state": st.state,
                "pid": st.pid,
                "started_at": to_iso(st.started_at),
                "heartbeat_age_s": seconds_since(st.heartbeat_at, now),
                "progress_age_s": seconds_since(st.progress_at, now),
                "pending": st.pending,
                "message": st.message,
                "last_error": st.last_error,
                "counters": st.counters,
                "stale": is_stale(st, now),
            }
        )
    return rows


def read_alarms(data_dir: Path) -> list[dict[str, Any]]:
    """Active alarms written by the runner to ``run/alerts.json`` (empty if absent or bad)."""
    keys = ("name", "severity", "status", "title", "since")
    return [{k: item.get(k) for k in keys} for item in read_alerts(data_dir)]


def dlq_summary(event_log: EventLog, topic: str, now: datetime) -> dict[str, Any]:
    """Dead letters: total retained, per minute over the last hour, reasons, the latest few."""
    stats = event_log.stats(topic)
    decoded = [
        (
            record.timestamp,
            {
                "offset": record.offset,
                "partition": record.partition,
                "appended_at": to_iso(record.timestamp),
                "stage": body.get("stage"),
                "error_type": body.get("error_type"),
                "error": str(body.get("error") or "")[:300],
                "received_at": body.get("received_at") or body.get("timestamp"),
            },
        )
        for record, body in read_dlq(event_log, topic, DLQ_SCAN, stats)
    ]
    last_hour = [(ts, d) for ts, d in decoded if now - ts <= WINDOW]
    last_5m = [d for ts, d in last_hour if now - ts <= timedelta(minutes=5)]
    reasons: dict[str, int] = {}
    for _, d in last_hour:
        reasons[str(d["error_type"])] = reasons.get(str(d["error_type"]), 0) + 1
    latest = [d for _, d in reversed(decoded[-DLQ_SHOWN:])]
    return {
        "retained": stats.records,
        "last_hour": len(last_hour),
        "last_hour_capped": len(decoded) >= DLQ_SCAN and len(last_hour) == len(decoded),
        "per_min_5m": round(len(last_5m) / 5.0, 2),
        "reasons_last_hour": dict(sorted(reasons.items(), key=lambda kv: -kv[1])),
        "latest": latest,
    }


def coverage_rows(checkpoint: dict[str, Any] | None) -> list[dict[str, Any]]:
    """Per UTC hour: events received, upstream offsets skipped, duplicates and coverage share."""
    coverage = (checkpoint or {}).get("coverage")
    totals: dict[str, list[int]] = {}
    for row in rows_from_state(coverage if isinstance(coverage, dict) else None):
        received_skipped_dups = totals.setdefault(row.hour, [0, 0, 0])
        received_skipped_dups[0] += row.received
        if row.partition >= 0:  # events without upstream offsets cannot be gaps
            received_skipped_dups[1] += row.skipped
        received_skipped_dups[2] += row.duplicates
    rows = []
    for hour, (received, skipped, duplicates) in sorted(totals.items()):
        total = received + skipped
        rows.append(
            {
                "hour": hour,
                "received": received,
                "skipped": skipped,
                "duplicates": duplicates,
                "coverage_pct": round(100.0 * received / total, 3) if total else None,
            }
        )
    return rows


def _ingest_state(checkpoint: dict[str, Any] | None) -> IngestState | None:
    try:
        return IngestState.from_body(checkpoint)
    except IngestError as exc:
        log.warning("pipeline page: ingest counters not shown: %s", exc)
        return None


def _bronze_position(reader: LakeReader) -> dict[int, int] | None:
    table = reader.load("bronze.raw_events")
    raw = table.properties.get(BRONZE_POSITION_PROPERTY) if table is not None else None
    if not raw:
        return None
    try:
        return {int(p): int(o) for p, o in json.loads(raw).items()}
    except (ValueError, TypeError, AttributeError):
        return None


def log_figures(
    event_log: EventLog | None, reader: LakeReader, raw_topic: str, dlq_topic: str
) -> dict[str, Any]:
    """Lag of bronze behind the raw topic, ingest counters, coverage ledger, DLQ summary."""
    now = utc_now()
    if event_log is None:
        return {"available": False}
    try:
        head = event_log.head(raw_topic)
        position = _bronze_position(reader)
        source = "table"
        if position is None:
            position = event_log.committed(BRONZE_GROUP, raw_topic)
            source = "group"
        checkpoint = event_log.load_checkpoint(CHECKPOINT_NAME)
        state = _ingest_state(checkpoint)
        raw_stats = event_log.stats(raw_topic)
        return {
            "available": True,
            "bronze_lag": lag(head, position),
            "lag_source": source,
            "raw_records": raw_stats.records,
            "raw_newest_age_s": seconds_since(raw_stats.newest, now),
            "ingest_counters": {} if state is None else state.counters.as_dict(),
            "ingest_updated_at": None if state is None else state.updated_at,
            "coverage": coverage_rows(checkpoint),
            "dlq": dlq_summary(event_log, dlq_topic, now),
        }
    except WikiStreamError as exc:
        log.warning("pipeline page: cannot read the event log: %s", exc)
        return {"available": False, "error": str(exc)}


def lake_figures(reader: LakeReader) -> dict[str, Any]:
    """Throughput per minute, freshness p50/p95, last commit ages and the gate timeline."""
    now = utc_now()
    since = now - WINDOW
    # Whole minutes keep the scan filter (and so the read cache key) stable between polls;
    # the SQL below applies the exact window.
    scan_since = (since - timedelta(minutes=1)).replace(second=0, microsecond=0)
    bronze = reader.read(
        "bronze.raw_events",
        ["event_timestamp", "bronze_processed_at"],
        ge("bronze_processed_at", scan_since.isoformat()),
    )
    silver = reader.read(
        "silver.cleaned_events",
        ["event_timestamp", "silver_processed_at"],
        ge("silver_processed_at", scan_since.isoformat()),
    )
    per_minute = _minutes(run_sql(THROUGHPUT_SQL, {"since": since}, bronze=bronze), now)
    recent = run_sql(RATE_SQL, {"since": now - RATE_WINDOW}, bronze=bronze)[0]["events"]
    fresh_since = now - FRESHNESS_WINDOW
    freshness = {
        "bronze": _freshness(
            bronze.rename_columns(["event_timestamp", "processed_at"]), fresh_since
        ),
        "silver": _freshness(
            silver.rename_columns(["event_timestamp", "processed_at"]), fresh_since
        ),
    }
    quality = reader.read(
        "dq_audit.quality_results",
        ["run_id", "layer", "check_name", "status", "severity", "run_timestamp"],
        ge(
            "run_timestamp",
            (now - GATE_WINDOW).replace(minute=0, second=0, microsecond=0).isoformat(),
        ),
    )
    gates = run_sql(GATES_SQL, {"since": now - GATE_WINDOW}, quality=quality)
    for gate in gates:
        gate["passed_gate"] = gate["blocking"] == 0
    return {
        "throughput": per_minute,
        "events_per_s": round(recent / RATE_WINDOW.total_seconds(), 3),
        "freshness": freshness,
        "last_commit_age_s": {name: _commit_age(reader, name, now) for name in _COMMIT_TABLES},
        "gates": gates,
    }


_COMMIT_TABLES = ("bronze.raw_events", "silver.cleaned_events", "gold.hourly_stats")


def _minutes(rows: list[dict[str, Any]], now: datetime) -> list[dict[str, Any]]:
    """One entry per minute of the last hour (zero where nothing was processed)."""
    counts = {int(r["minute"]): r["events"] for r in rows}
    first = int((now - WINDOW).timestamp() // 60) + 1
    last = int(now.timestamp() // 60)
    return [
        {
            "minute": to_iso(datetime.fromtimestamp(m * 60, tz=UTC)),
            "events": counts.get(m, 0),
        }
        for m in range(first, last + 1)
    ]


def _freshness(rows: pa.Table, since: datetime) -> dict[str, Any]:
    result = run_sql(FRESHNESS_SQL, {"since": since}, rows=rows)[0]
    return {
        "events": result["events"],
        "p50_s": None if result["p50_s"] is None else round(result["p50_s"], 3),
        "p95_s": None if result["p95_s"] is None else round(result["p95_s"], 3),
        "window_s": FRESHNESS_WINDOW.total_seconds(),
    }


def _commit_age(reader: LakeReader, name: str, now: datetime) -> float | None:
    table = reader.load(name)
    snap = table.current_snapshot() if table is not None else None
    if snap is None:
        return None
    return round(now.timestamp() - snap.timestamp_ms / 1000.0, 1)
