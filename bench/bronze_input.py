"""Bronze rows from generated recentchange events, for engine parity tests and benchmarks.

A plain field mapping (SEED-FACTS §2.2), enough to feed silver: ``event_id = meta.id``, event time
from ``timestamp`` (else ``meta.dt``), arrival (``bronze_processed_at``) one slot per line, the line
number as log offset. Byte-exact duplicate lines stay (silver dedups them); canary events keep a
NULL ``event_type`` (silver drops them as invalid); late events keep their old ``meta.dt``.
"""

from __future__ import annotations

import gzip
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import msgspec
import pyarrow as pa

from wikistream.lake.schemas import BRONZE, SCHEMA_VERSION

ARRIVAL_STEP = timedelta(milliseconds=50)
_decode = msgspec.json.Decoder()


def _ts(value: Any) -> datetime | None:
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value, UTC)
    return None


def _dt(text: Any) -> datetime | None:
    if not isinstance(text, str):
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None


def bronze_row(line: bytes, offset: int, arrived: datetime) -> dict[str, Any]:
    """One bronze row (as a dict of column → value) for one event line."""
    event = _decode.decode(line)
    meta = event.get("meta") or {}
    length = event.get("length") or {}
    revision = event.get("revision") or {}
    meta_dt = _dt(meta.get("dt"))
    ts = _ts(event.get("timestamp")) or meta_dt
    old, new = length.get("old"), length.get("new")
    return {
        "event_id": meta.get("id"),
        "rc_id": event.get("id", -1),
        "event_type": event.get("type"),
        "namespace": event.get("namespace"),
        "domain": meta.get("domain"),
        "title": event.get("title"),
        "title_url": event.get("title_url"),
        "user": event.get("user"),
        "is_bot": bool(event.get("bot", False)),
        "comment": event.get("comment"),
        "wiki": event.get("wiki"),
        "server_name": event.get("server_name"),
        "length_old": old,
        "length_new": new,
        "length_delta": new - old if old is not None and new is not None else None,
        "revision_old": revision.get("old"),
        "revision_new": revision.get("new"),
        "event_timestamp": ts,
        "bronze_processed_at": arrived,
        "event_date": ts.date().isoformat() if ts else None,
        "event_hour": ts.hour if ts else None,
        "schema_version": SCHEMA_VERSION,
        "meta_dt": meta_dt,
        "log_partition": 0,
        "log_offset": offset,
    }


def read_lines(path: Path) -> Iterator[bytes]:
    """The lines of a generated event file (plain or gzip)."""
    opener: Any = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as handle:
        for line in handle:
            if line.strip():
                yield line


def bronze_table(lines: Iterable[bytes], start: datetime, *, chunk: int = 100_000) -> pa.Table:
    """Every line as a bronze row (the bronze table's Arrow schema), built chunk by chunk."""
    schema = BRONZE.schema().as_arrow()
    names = schema.names
    batches: list[pa.RecordBatch] = []
    rows: list[dict[str, Any]] = []
    for offset, line in enumerate(lines):
        rows.append(bronze_row(line, offset, start + offset * ARRIVAL_STEP))
        if len(rows) >= chunk:
            batches.append(pa.RecordBatch.from_pylist(_fill(rows, names), schema=schema))
            rows = []
    if rows:
        batches.append(pa.RecordBatch.from_pylist(_fill(rows, names), schema=schema))
    return pa.Table.from_batches(batches, schema=schema)


def _fill(rows: list[dict[str, Any]], names: list[str]) -> list[dict[str, Any]]:
    # event_id is required in bronze: a line without meta.id gets a stable stand-in
    for row in rows:
        if row["event_id"] is None:
            row["event_id"] = f"missing-id-{row['log_offset']}"
    return [{n: r.get(n) for n in names} for r in rows]
