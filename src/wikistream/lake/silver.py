"""The silver step: new bronze rows → ``silver.cleaned_events``, incrementally and idempotently.

Each run reads only the bronze data files added since the cursor stored in the silver table
(:mod:`wikistream.lake.changes`), cleans them with ``sql/silver_cleaned_events.sql`` and commits
the new rows, the deletion of any stored duplicate they beat, and the new cursor in one Iceberg
transaction. Events of any day are processed whenever they reach bronze: there is no time window.

Reprocessing a bronze row is harmless (the dedup contest against stored rows keeps the stored
row), so a catch-up too big for one batch commits batch by batch and moves the cursor with the
last one; a crash in between only means some rows are read again.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from collections.abc import Iterator, Sequence

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
from pyiceberg.catalog import Catalog
from pyiceberg.manifest import DataFile
from pyiceberg.table import Table

from wikistream.clock import utc_now
from wikistream.lake import transform
from wikistream.lake.catalog import ensure_table, open_catalog
from wikistream.lake.changes import Cursor, current_cursor, plan_changes, read_files
from wikistream.lake.predicates import BooleanExpression, all_of, any_of, eq, is_in
from wikistream.lake.schemas import BRONZE, SCHEMA_VERSION, SILVER
from wikistream.lake.steps import StepResult, commit_rows, conform, sample_times, snapshot_id
from wikistream.lake.users import (
    CONTROL_CHARACTERS,
    IPV4_PATTERN,
    IPV6_PATTERN,
    TEMPORARY_PATTERN,
)
from wikistream.settings import Settings

log = logging.getLogger(__name__)

CURSOR_PREFIX = "wikistream.silver.bronze"
"""Silver table properties ``<prefix>.snapshot-id`` / ``.sequence-number``: bronze processed."""

BRONZE_COLUMNS = (
    "event_id",
    "rc_id",
    "event_type",
    "namespace",
    "domain",
    "title",
    "user",
    "is_bot",
    "length_old",
    "length_new",
    "length_delta",
    "revision_old",
    "revision_new",
    "event_timestamp",
    "bronze_processed_at",
    "log_partition",
    "log_offset",
)
EXISTING_COLUMNS = ("event_date", "event_id", "log_partition", "log_offset", "bronze_processed_at")
REQUIRED = ("event_id", "event_type", "domain", "event_timestamp")


def model_params() -> dict[str, str]:
    """The parameters of ``silver_cleaned_events.sql``."""
    return {
        "control_chars": " || ".join(f"CHR({c})" for c in CONTROL_CHARACTERS),
        "ipv4_pattern": transform.sql_string(IPV4_PATTERN),
        "ipv6_pattern": transform.sql_string(IPV6_PATTERN),
        "temporary_pattern": transform.sql_string(TEMPORARY_PATTERN),
        "schema_version": transform.sql_string(SCHEMA_VERSION),
    }


class SilverStep:
    """Bring ``silver.cleaned_events`` up to date with ``bronze.raw_events``."""

    def __init__(self, settings: Settings, catalog: Catalog | None = None) -> None:
        self.settings = settings
        self.catalog = catalog if catalog is not None else open_catalog(settings)

    def run(self, until: Cursor | None = None) -> StepResult:
        """Process every bronze file added since the cursor; a cheap no-op when none was.

        ``until`` stops at that bronze snapshot (the slice a bronze gate passed) instead of the
        current one.
        """
        started = time.monotonic()
        bronze = ensure_table(self.catalog, BRONZE)
        silver = ensure_table(self.catalog, SILVER)
        since = Cursor.load(silver.properties, CURSOR_PREFIX)
        result = StepResult("silver", cursor_before=since, cursor=since)
        result.snapshots_before[SILVER.identifier] = snapshot_id(silver)
        if (until or current_cursor(bronze)) == since:
            result.noop = True
        else:
            changes = plan_changes(bronze, since, until)
            batches = list(batch_files(changes.added, self.settings.lake.transform_batch_rows))
            with transform.connect(self.settings) as con:
                for number, files in enumerate(batches, start=1):
                    rows = read_files(bronze, files, BRONZE_COLUMNS)
                    cursor = changes.target if number == len(batches) else None
                    silver = self._apply(con, silver, rows, cursor, result)
            if not batches:  # e.g. only a compaction happened: move the cursor past it
                commit_rows(silver, properties=changes.target.to_properties(CURSOR_PREFIX))
                result.commits += 1
            result.cursor = changes.target
        result.snapshots_after[SILVER.identifier] = snapshot_id(silver)
        result.duration_s = time.monotonic() - started
        return result

    def _apply(
        self,
        con: duckdb.DuckDBPyConnection,
        silver: Table,
        bronze_rows: pa.Table,
        cursor: Cursor | None,
        result: StepResult,
    ) -> Table:
        """Clean one batch, contest it against stored rows, commit; return the reloaded table."""
        dates = event_dates(con, bronze_rows)
        out, replaced = clean_batch(con, bronze_rows, read_existing(silver, dates))
        count_batch(result, bronze_rows, out)
        result.rows_deleted += sum(len(ids) for ids in replaced.values())
        result.dates = tuple(sorted(set(result.dates) | set(dates)))
        result.groups["dates"] = len(result.dates)
        delete = replaced_filter(replaced)
        properties = cursor.to_properties(CURSOR_PREFIX) if cursor is not None else None
        if out.num_rows or delete is not None or properties:
            commit_rows(silver, delete=delete, rows=out, properties=properties)
            result.commits += 1
            if out.num_rows:
                result.event_times = sample_times(out["event_timestamp"])
        return silver  # a commit updates the Table object in place


def clean_batch(
    con: duckdb.DuckDBPyConnection, bronze_rows: pa.Table, existing: pa.Table
) -> tuple[pa.Table, dict[str, list[str]]]:
    """Return (silver rows to append, {event_date: event_ids of stored rows they replace}).

    ``existing`` holds :data:`EXISTING_COLUMNS` of the stored silver rows of the batch's dates.
    """
    out = transform.run_model(
        con,
        "silver_cleaned_events",
        {"bronze_batch": batch_view(bronze_rows), "silver_existing": existing},
        model_params(),
    )
    replaced: dict[str, list[str]] = defaultdict(list)
    flagged = out.filter(out["replaces_existing"])
    for event_date, event_id in zip(
        flagged["event_date"].to_pylist(), flagged["event_id"].to_pylist(), strict=True
    ):
        replaced[event_date].append(event_id)
    stamped = out.append_column(
        "silver_processed_at", pa.array([utc_now()] * out.num_rows, pa.timestamp("us", "UTC"))
    )
    return conform(stamped, SILVER), dict(replaced)


def empty_existing(silver: Table) -> pa.Table:
    """An empty :data:`EXISTING_COLUMNS` table (nothing stored for the batch's dates)."""
    return silver.schema().select(*EXISTING_COLUMNS).as_arrow().empty_table()


def read_existing(silver: Table, dates: Sequence[str]) -> pa.Table:
    """The dedup keys and log positions of stored silver rows on ``dates``."""
    if not dates or silver.current_snapshot() is None:
        return empty_existing(silver)
    scan = silver.scan(row_filter=is_in("event_date", dates), selected_fields=EXISTING_COLUMNS)
    return scan.to_arrow()


def replaced_filter(replaced: dict[str, list[str]]) -> BooleanExpression | None:
    """The delete filter for stored rows beaten by earlier duplicates (pruned by event_date)."""
    terms = [
        all_of([eq("event_date", day), is_in("event_id", ids)])
        for day, ids in sorted(replaced.items())
    ]
    return any_of(terms) if terms else None


def batch_files(files: Sequence[DataFile], max_rows: int) -> Iterator[list[DataFile]]:
    """Group files into batches of at most ``max_rows`` rows (a bigger file goes alone)."""
    batch: list[DataFile] = []
    rows = 0
    # partition order keeps each batch's dates (and its lookup of stored rows) few
    for data_file in sorted(files, key=lambda f: (str(f.partition), f.file_path)):
        if batch and rows + data_file.record_count > max_rows:
            yield batch
            batch, rows = [], 0
        batch.append(data_file)
        rows += data_file.record_count
    if batch:
        yield batch


def batch_view(rows: pa.Table) -> pa.Table:
    """The ``bronze_batch`` view the model reads: ``user`` renamed ``user_raw``, + ``batch_row``."""
    # `user` is a reserved word in SQL dialects; batch_row identifies a row within the batch
    renamed = rows.rename_columns(["user_raw" if n == "user" else n for n in rows.column_names])
    return renamed.append_column("batch_row", pa.array(range(rows.num_rows), pa.int64()))


def event_dates(con: duckdb.DuckDBPyConnection, batch: pa.Table) -> list[str]:
    """The distinct UTC dates of ``event_timestamp`` in a bronze batch."""
    con.register("dates_of_batch", batch.select(["event_timestamp"]))
    try:
        rows = con.sql(
            "SELECT DISTINCT CAST(CAST(event_timestamp AS DATE) AS VARCHAR) "
            "FROM dates_of_batch WHERE event_timestamp IS NOT NULL"
        ).fetchall()
    finally:
        con.unregister("dates_of_batch")
    return sorted(str(row[0]) for row in rows)


def count_batch(result: StepResult, bronze_rows: pa.Table, out: pa.Table) -> None:
    """Add a batch's rows in, out, invalid (dropped) and duplicate (dropped) to ``result``."""
    valid = _count_valid(bronze_rows)
    result.rows_in += bronze_rows.num_rows
    result.rows_out += out.num_rows
    result.rows_invalid += bronze_rows.num_rows - valid
    result.rows_duplicate += valid - out.num_rows


def _count_valid(rows: pa.Table) -> int:
    mask = None
    for name in REQUIRED:
        present = pc.is_valid(rows[name])
        mask = present if mask is None else pc.and_(mask, present)
    return int(pc.sum(mask).as_py() or 0) if mask is not None else rows.num_rows
