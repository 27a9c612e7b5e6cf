"""Small readable row builders for bronze, silver and gold slices (real table schemas)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pyarrow as pa

from wikistream.lake.schemas import BRONZE, HOURLY_STATS, RISK_SCORES, SILVER, TableDef

T0 = datetime(2026, 2, 26, 10, 0, tzinfo=UTC)


def table(defn: TableDef, rows: list[dict[str, Any]], *, strict: bool = True) -> pa.Table:
    """An Arrow table with ``defn``'s schema; missing columns are NULL.

    ``strict=False`` makes every column nullable, so a check fixture can hold the NULLs a broken
    writer might produce in a required column.
    """
    schema = defn.schema().as_arrow()
    if not strict:
        schema = pa.schema([f.with_nullable(True) for f in schema])
    return pa.Table.from_pylist([{n: r.get(n) for n in schema.names} for r in rows], schema=schema)


def bronze_row(i: int = 0, **over: Any) -> dict[str, Any]:
    """A valid bronze row; ``over`` replaces columns."""
    ts = over.pop("event_timestamp", T0 + timedelta(seconds=i))
    row: dict[str, Any] = {
        "event_id": f"ev-{i}",
        "rc_id": 1000 + i,
        "event_type": "edit",
        "namespace": 0,
        "domain": "en.wikipedia.org",
        "title": f"Page {i}",
        "user": f"User{i}",
        "is_bot": False,
        "wiki": "enwiki",
        "length_old": 100,
        "length_new": 150,
        "length_delta": 50,
        "event_timestamp": ts,
        "bronze_processed_at": None if ts is None else ts + timedelta(seconds=30),
        "event_date": None if ts is None else ts.strftime("%Y-%m-%d"),
        "event_hour": None if ts is None else ts.hour,
        "schema_version": "1.0.0",
        "log_partition": 0,
        "log_offset": i,
    }
    row.update(over)
    return row


def bronze(n: int = 10, **over: Any) -> pa.Table:
    """``n`` valid bronze rows."""
    return table(BRONZE, [bronze_row(i, **dict(over)) for i in range(n)])


def silver_row(i: int = 0, **over: Any) -> dict[str, Any]:
    """A valid silver row; ``over`` replaces columns."""
    ts = over.pop("event_timestamp", T0 + timedelta(seconds=i))
    row: dict[str, Any] = {
        "event_id": f"ev-{i}",
        "rc_id": 1000 + i,
        "event_type": "edit",
        "domain": "en.wikipedia.org",
        "region": "americas",
        "language": "en",
        "title": f"Page {i}",
        "namespace": 0,
        "user_normalized": f"User{i}",
        "is_bot": False,
        "is_anonymous": False,
        "user_kind": "registered",
        "length_old": 100,
        "length_new": 150,
        "length_delta": 50,
        "is_valid": True,
        "is_large_deletion": False,
        "is_large_addition": False,
        "event_timestamp": ts,
        "event_date": None if ts is None else ts.strftime("%Y-%m-%d"),
        "event_hour": None if ts is None else ts.hour,
        "schema_version": "1.0.0",
    }
    row.update(over)
    return row


def silver(n: int = 10, **over: Any) -> pa.Table:
    """``n`` valid silver rows."""
    return table(SILVER, [silver_row(i, **dict(over)) for i in range(n)])


def hourly_row(hour: int = 0, **over: Any) -> dict[str, Any]:
    """A valid gold.hourly_stats row."""
    row: dict[str, Any] = {
        "stat_date": "2026-02-26",
        "stat_hour": hour,
        "domain": "en.wikipedia.org",
        "region": "americas",
        "total_events": 10,
        "unique_users": 4,
        "unique_pages": 7,
        "bot_edits": 2,
        "human_edits": 8,
        "bot_percentage": 20.0,
    }
    row.update(over)
    return row


def hourly(n: int = 3, **over: Any) -> pa.Table:
    """``n`` valid hourly rows (hours 0..n-1)."""
    return table(HOURLY_STATS, [hourly_row(h, **dict(over)) for h in range(n)])


def risk_row(i: int = 0, **over: Any) -> dict[str, Any]:
    """A valid gold.risk_scores row."""
    row: dict[str, Any] = {
        "stat_date": "2026-02-26",
        "entity_id": f"User{i}",
        "entity_type": "user",
        "total_edits": 30,
        "risk_score": 20.0,
        "risk_level": "LOW",
    }
    row.update(over)
    return row


def risk(n: int = 3, **over: Any) -> pa.Table:
    """``n`` valid risk rows."""
    return table(RISK_SCORES, [risk_row(i, **dict(over)) for i in range(n)])
