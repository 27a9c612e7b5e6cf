"""Readable bronze fixtures: build ``bronze.raw_events`` rows as Arrow tables, append them.

``event(...)`` makes one row with sensible defaults (an English Wikipedia edit by ``Alice``);
``recentchange_row(...)`` maps one real EventStreams JSON event the way bronze does (SEED-FACTS
§2.2), for tests on real user names. Neither is the bronze writer: they only give silver and gold
realistic input.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import pyarrow as pa
from pyiceberg.table import Table

from wikistream.lake.schemas import BRONZE, SCHEMA_VERSION

ARROW_SCHEMA = BRONZE.schema().as_arrow()
PROCESSED_AT = datetime(2026, 2, 26, 16, 0, tzinfo=UTC)


def ts(text: str) -> datetime:
    """``"2026-02-26 15:04"`` or ISO text → aware UTC datetime."""
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def event(
    offset: int,
    *,
    at: str | datetime = "2026-02-26 15:00",
    user: str | None = "Alice",
    domain: str | None = "en.wikipedia.org",
    event_type: str | None = "edit",
    title: str | None = None,
    delta: int | None = 10,
    bot: bool = False,
    event_id: str | None = None,
    partition: int = 0,
    processed_at: datetime = PROCESSED_AT,
) -> dict[str, Any]:
    """One bronze row; ``event_id`` defaults to ``e<offset>``, ``title`` to ``Page <offset>``."""
    when = ts(at) if isinstance(at, str) else at
    length_old = 1000 if delta is not None else None
    length_new = 1000 + delta if delta is not None else None
    return {
        "event_id": event_id if event_id is not None else f"e{offset}",
        "kafka_topic": None,
        "kafka_partition": None,
        "kafka_offset": None,
        "kafka_timestamp": None,
        "rc_id": offset,
        "event_type": event_type,
        "namespace": 0,
        "domain": domain,
        "title": title if title is not None else f"Page {offset}",
        "title_url": None,
        "user": user,
        "is_bot": bot,
        "comment": "fixture",
        "wiki": None,
        "server_name": domain,
        "length_old": length_old,
        "length_new": length_new,
        "length_delta": delta,
        "revision_old": offset * 10,
        "revision_new": offset * 10 + 1,
        "event_timestamp": when,
        "producer_ingested_at": when,
        "bronze_processed_at": processed_at,
        "event_date": when.strftime("%Y-%m-%d") if when else None,
        "event_hour": when.hour if when else None,
        "schema_version": SCHEMA_VERSION,
        "meta_dt": when,
        "log_partition": partition,
        "log_offset": offset,
        "raw_event": None,
    }


def repeat(n: int, first_offset: int, **kwargs: Any) -> list[dict[str, Any]]:
    """``n`` rows like :func:`event` with consecutive offsets from ``first_offset``."""
    return [event(first_offset + i, **kwargs) for i in range(n)]


def recentchange_row(raw: Mapping[str, Any] | str, offset: int) -> dict[str, Any]:
    """Map one EventStreams recentchange event (dict or JSON line) to a bronze row."""
    data = json.loads(raw) if isinstance(raw, str) else dict(raw)
    meta = data.get("meta") or {}
    length = data.get("length") or {}
    revision = data.get("revision") or {}
    old, new = length.get("old"), length.get("new")
    when = datetime.fromtimestamp(data["timestamp"], UTC) if data.get("timestamp") else None
    row = event(offset, at=when or PROCESSED_AT)
    row.update(
        event_id=meta.get("id") or f"missing-{offset}",
        rc_id=data.get("id") if data.get("id") is not None else -1,
        event_type=data.get("type") or "unknown",
        namespace=data.get("namespace"),
        domain=meta.get("domain"),
        title=data.get("title"),
        user=data.get("user"),
        is_bot=bool(data.get("bot", False)),
        length_old=old,
        length_new=new,
        length_delta=new - old if old is not None and new is not None else None,
        revision_old=revision.get("old"),
        revision_new=revision.get("new"),
        event_timestamp=when,
        raw_event=json.dumps(data),
    )
    return row


def bronze_table(rows: Iterable[Mapping[str, Any]]) -> pa.Table:
    """Rows (dicts) → an Arrow table with exactly the bronze schema."""
    return pa.Table.from_pylist([dict(r) for r in rows], schema=ARROW_SCHEMA)


def append_bronze(table: Table, rows: Iterable[Mapping[str, Any]]) -> None:
    """Append rows to a real bronze Iceberg table as one commit."""
    arrow = bronze_table(rows)
    if arrow.num_rows:
        table.append(arrow)


def shifted(row: Mapping[str, Any], *, offset: int, partition: int = 0) -> dict[str, Any]:
    """A copy of ``row`` at another log position (how a duplicate reaches bronze)."""
    copy = dict(row)
    copy["log_offset"] = offset
    copy["log_partition"] = partition
    copy["bronze_processed_at"] = PROCESSED_AT + timedelta(seconds=offset)
    return copy
