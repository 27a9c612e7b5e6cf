"""Remove duplicate ``event_id`` rows from bronze: the seed's ``deduplicate_bronze``, done right.

The bronze writer inserts only absent ids, so duplicates come from elsewhere: a foreign writer, a
restored backup, a hand-made append. The seed's one-off script (SEED-FACTS §5.11, weakness 17)
deleted by an uncorrelated ``NOT IN (MIN(bronze_processed_at) of all ids)`` and left most
duplicates in place. Here, per ``event_id``, the row with the earliest event-log position
(``log_partition``, ``log_offset``; then ``bronze_processed_at``) is kept and every other copy is
removed. Only the day partitions holding a duplicated id are rewritten, in one Iceberg transaction
that asserts the snapshot it planned on (a concurrent bronze commit makes it re-plan, never lose
rows). Table properties (bronze's log position) are untouched.
"""

from __future__ import annotations

import logging
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
from pyiceberg.catalog import Catalog
from pyiceberg.exceptions import CommitFailedException
from pyiceberg.expressions import IsNull
from pyiceberg.table import Table

from wikistream.errors import CommitConflictError
from wikistream.lake.catalog import ensure_table
from wikistream.lake.predicates import BooleanExpression, all_of, any_of, ge, lt
from wikistream.lake.schemas import BRONZE
from wikistream.lake.transaction import begin

log = logging.getLogger(__name__)

WRITER_PROPERTY = "wikistream.writer"
DEDUP_TAGS = {WRITER_PROPERTY: "maintenance", "wikistream.operation": "dedup-bronze"}
COMMIT_ATTEMPTS = 10
# Which copy of an event survives: the first one the event log holds.
KEEP_ORDER = ("log_partition", "log_offset", "bronze_processed_at")
_EPOCH = date(1970, 1, 1)


@dataclass
class DedupReport:
    """What one bronze deduplication found and did."""

    table: str = BRONZE.identifier
    dry_run: bool = False
    rows_before: int = 0
    duplicate_ids: int = 0
    surplus_rows: int = 0
    days: list[str] = field(default_factory=list)  # partitions rewritten ("null": no timestamp)
    rows_rewritten: int = 0
    rows_after: int = 0
    distinct_after: int = 0
    snapshot_id: int | None = None
    commit_retries: int = 0
    duration_ms: float = 0.0

    @property
    def uniqueness_after(self) -> float:
        """Distinct ids / rows after the run (1.0 when unique or empty)."""
        return self.distinct_after / self.rows_after if self.rows_after else 1.0

    def as_dict(self) -> dict[str, Any]:
        """Plain data for JSON output."""
        return asdict(self) | {"uniqueness_after": round(self.uniqueness_after, 6)}


def _day_of(values: pa.ChunkedArray) -> list[str | None]:
    """UTC day (``YYYY-MM-DD``) of each timestamp; ``None`` for a null timestamp."""
    days = pc.cast(values, pa.date32()).to_pylist()
    return [None if d is None else d.isoformat() for d in days]


def _days_filter(days: list[str | None]) -> BooleanExpression:
    """A row filter matching exactly the bronze partitions (days of event_timestamp) given."""
    parts: list[BooleanExpression] = []
    for day in days:
        if day is None:
            parts.append(IsNull("event_timestamp"))  # type: ignore[call-arg,arg-type]
            continue
        start = datetime.combine(date.fromisoformat(day), datetime.min.time(), UTC)
        end = start + timedelta(days=1)
        parts.append(
            all_of(
                [ge("event_timestamp", start.isoformat()), lt("event_timestamp", end.isoformat())]
            )
        )
    return any_of(parts)


def keep_earliest(rows: pa.Table) -> pa.Table:
    """One row per ``event_id``: the earliest by :data:`KEEP_ORDER` (nulls last, stable)."""
    if rows.num_rows == 0:
        return rows
    keys = [("event_id", "ascending", "at_end")] + [(c, "ascending", "at_end") for c in KEEP_ORDER]
    order = pc.sort_indices(rows, sort_keys=keys)
    ordered = rows.take(order)
    ids = ordered.column("event_id").combine_chunks()
    if len(ids) == 1:
        return ordered
    changed = pc.not_equal(ids.slice(1), ids.slice(0, len(ids) - 1))
    first = pa.concat_arrays([pa.array([True]), changed.cast(pa.bool_())])
    return ordered.filter(first)


def _find(table: Table) -> tuple[int, set[str], list[str | None]]:
    """Rows in the table, duplicated ids, and the days holding a row of one of them."""
    scan = table.scan(selected_fields=("event_id", "event_timestamp"))
    ids = scan.to_arrow()
    counts = ids.group_by("event_id").aggregate([("event_id", "count")])
    duplicated = counts.filter(pc.greater(counts.column("event_id_count"), 1))
    dup_ids = set(duplicated.column("event_id").to_pylist())
    if not dup_ids:
        return ids.num_rows, set(), []
    mask = pc.is_in(ids.column("event_id"), value_set=duplicated.column("event_id"))
    days = set(_day_of(ids.filter(mask).column("event_timestamp")))
    ordered = sorted(d for d in days if d is not None)
    return ids.num_rows, dup_ids, ordered + ([None] if None in days else [])


def deduplicate_bronze(catalog: Catalog, *, dry_run: bool = False) -> DedupReport:
    """Keep the earliest copy of every duplicated ``event_id`` in bronze; report what changed.

    ``dry_run`` only counts. Raises :class:`CommitConflictError` when other writers win the commit
    race :data:`COMMIT_ATTEMPTS` times in a row.
    """
    started = time.perf_counter()
    report = DedupReport(dry_run=dry_run)
    for attempt in range(COMMIT_ATTEMPTS):
        table = ensure_table(catalog, BRONZE)
        report.rows_before, dup_ids, days = _find(table)
        report.duplicate_ids = len(dup_ids)
        report.days = ["null" if d is None else d for d in days]
        if not dup_ids:
            report.rows_after = report.distinct_after = report.rows_before
            report.snapshot_id = _snapshot_id(table)
            break
        row_filter = _days_filter(days)
        affected = table.scan(row_filter=row_filter).to_arrow()
        kept = keep_earliest(affected)
        report.surplus_rows = affected.num_rows - kept.num_rows
        report.rows_rewritten = kept.num_rows
        if dry_run:
            report.rows_after = report.rows_before - report.surplus_rows
            report.distinct_after = report.rows_after
            break
        try:
            with begin(table) as tx:
                tx.overwrite(kept, overwrite_filter=row_filter, snapshot_properties=DEDUP_TAGS)
        except CommitFailedException:
            report.commit_retries += 1
            time.sleep(0.05 * (attempt + 1))
            continue
        table = catalog.load_table(BRONZE.identifier)
        after = table.scan(selected_fields=("event_id",)).to_arrow().column("event_id")
        report.rows_after = len(after)
        report.distinct_after = pc.count_distinct(after).as_py()
        report.snapshot_id = _snapshot_id(table)
        log.warning(
            "bronze dedup: removed %d surplus rows of %d ids in %d partition(s)",
            report.surplus_rows,
            report.duplicate_ids,
            len(days),
        )
        break
    else:
        raise CommitConflictError(
            f"bronze dedup lost {COMMIT_ATTEMPTS} commit races to other writers; run "
            "`wikistream maintain --dedup-bronze` again (or stop `wikistream run` first)"
        )
    report.duration_ms = (time.perf_counter() - started) * 1000.0
    return report


def _snapshot_id(table: Table) -> int | None:
    snapshot = table.current_snapshot()
    return snapshot.snapshot_id if snapshot is not None else None
