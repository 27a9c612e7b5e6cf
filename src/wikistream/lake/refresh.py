"""Entry points for the orchestrator and the CLI: run silver then gold, or rebuild a layer."""

from __future__ import annotations

import time
import warnings
from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime

import pyarrow as pa
import pyarrow.compute as pc
from pyiceberg.catalog import Catalog
from pyiceberg.io.pyarrow import ArrowScan
from pyiceberg.table import FileScanTask, Table
from pyiceberg.transforms import DayTransform

from wikistream.errors import ConfigError
from wikistream.lake import gold as gold_step
from wikistream.lake import transform
from wikistream.lake.catalog import ensure_table, open_catalog
from wikistream.lake.changes import Cursor, current_cursor, partition_value
from wikistream.lake.predicates import BooleanExpression, all_of, ge, le, lt
from wikistream.lake.schemas import BRONZE, DAILY_SUMMARY, SILVER
from wikistream.lake.silver import (
    BRONZE_COLUMNS,
    CURSOR_PREFIX,
    SilverStep,
    clean_batch,
    count_batch,
    empty_existing,
)
from wikistream.lake.steps import StepResult, snapshot_id
from wikistream.lake.transaction import begin
from wikistream.settings import Settings

LAYERS = ("silver", "gold")
_EPOCH = date(1970, 1, 1)


def run_silver_gold(
    settings: Settings, catalog: Catalog | None = None
) -> tuple[StepResult, StepResult]:
    """Bronze table → silver → gold, each incremental: what one pipeline cycle does after bronze."""
    catalog = catalog if catalog is not None else open_catalog(settings)
    silver = SilverStep(settings, catalog).run()
    gold = gold_step.GoldStep(settings, catalog).run()
    return silver, gold


def rebuild(
    settings: Settings,
    layer: str,
    date_from: date | None = None,
    date_to: date | None = None,
    *,
    catalog: Catalog | None = None,
) -> StepResult:
    """Recompute ``layer`` for ``[date_from, date_to]`` (all dates when both are ``None``).

    Silver is rebuilt from bronze in one transaction (readers never see a half-rebuilt range);
    gold changes then follow on the next gold run. Gold is rebuilt from silver, date by date. A
    full rebuild also moves the layer's cursor; a date-range rebuild leaves it, so changes pending
    outside the range are still processed by the next incremental run.
    """
    if layer not in LAYERS:
        raise ConfigError(
            f"unknown layer {layer!r}; choose one of: {', '.join(LAYERS)}", key="layer"
        )
    if date_from and date_to and date_from > date_to:
        raise ConfigError(
            f"--from {date_from} is after --to {date_to}; give an increasing date range",
            key="date_from",
        )
    catalog = catalog if catalog is not None else open_catalog(settings)
    if layer == "silver":
        return _rebuild_silver(settings, catalog, date_from, date_to)
    return _rebuild_gold(settings, catalog, date_from, date_to)


def _date_filter(column: str, date_from: date | None, date_to: date | None) -> BooleanExpression:
    terms: list[BooleanExpression] = []
    if date_from is not None:
        terms.append(ge(column, date_from.isoformat()))
    if date_to is not None:
        terms.append(le(column, date_to.isoformat()))
    return all_of(terms)


def _time_filter(date_from: date | None, date_to: date | None) -> BooleanExpression:
    terms: list[BooleanExpression] = []
    if date_from is not None:
        start = datetime.combine(date_from, dtime(0), UTC)
        terms.append(ge("event_timestamp", start.isoformat()))
    if date_to is not None:
        end = datetime.combine(date_to + timedelta(days=1), dtime(0), UTC)
        terms.append(lt("event_timestamp", end.isoformat()))
    return all_of(terms)


def _rebuild_silver(
    settings: Settings, catalog: Catalog, date_from: date | None, date_to: date | None
) -> StepResult:
    started = time.monotonic()
    full = date_from is None and date_to is None
    bronze = ensure_table(catalog, BRONZE)
    silver = ensure_table(catalog, SILVER)
    target = current_cursor(bronze)
    before = Cursor.load(silver.properties, CURSOR_PREFIX)
    result = StepResult("silver", cursor_before=before, cursor=target if full else before)
    result.snapshots_before[SILVER.identifier] = snapshot_id(silver)
    row_filter = _time_filter(date_from, date_to)
    tasks = list(bronze.scan(row_filter=row_filter, snapshot_id=target.snapshot_id).plan_files())
    nothing_stored = empty_existing(silver)  # the transaction deletes the range first
    dates: set[str] = set()
    with transform.connect(settings) as con, begin(silver) as tx:
        if silver.current_snapshot() is not None:
            with warnings.catch_warnings():
                warnings.filterwarnings("ignore", message="Delete operation did not match")
                tx.delete(_date_filter("event_date", date_from, date_to))
        for batch in _day_batches(bronze, tasks, settings.lake.transform_batch_rows):
            rows = _read(bronze, batch, BRONZE_COLUMNS, row_filter)
            out, _ = clean_batch(con, rows, nothing_stored)
            count_batch(result, rows, out)
            dates.update(d for d in pc.unique(out["event_date"]).to_pylist() if d)
            if out.num_rows:
                tx.append(out)
        if full:
            tx.set_properties(target.to_properties(CURSOR_PREFIX))
    result.commits = 1
    result.dates = tuple(sorted(dates))
    result.groups = {"dates": len(dates)}
    result.snapshots_after[SILVER.identifier] = snapshot_id(catalog.load_table(SILVER.identifier))
    result.duration_s = time.monotonic() - started
    return result


def _day_batches(
    bronze: Table, tasks: Sequence[FileScanTask], max_rows: int
) -> list[list[FileScanTask]]:
    """Whole days per batch (a rebuild must see every row of a date at once to dedup it)."""
    by_day: dict[int | None, list[FileScanTask]] = defaultdict(list)
    for task in tasks:
        by_day[_bronze_day(bronze, task)].append(task)
    batches: list[list[FileScanTask]] = []
    current: list[FileScanTask] = []
    rows = 0
    unknown = by_day.pop(None, [])
    for _, day_tasks in sorted(by_day.items(), key=lambda item: item[0] or 0):
        day_rows = sum(t.file.record_count for t in day_tasks)
        if current and rows + day_rows > max_rows:
            batches.append(current)
            current, rows = [], 0
        current.extend(day_tasks)
        rows += day_rows
    if current:
        batches.append(current)
    if unknown:  # files of another partitioning: one batch, so every date is seen whole
        batches = [[t for batch in batches for t in batch] + unknown]
    return batches


def _bronze_day(bronze: Table, task: FileScanTask) -> int | None:
    spec = bronze.metadata.specs().get(task.file.spec_id, bronze.spec())
    source = bronze.schema().find_field("event_timestamp").field_id
    for index, field in enumerate(spec.fields):
        if field.source_id == source and isinstance(field.transform, DayTransform):
            value = task.file.partition[index]
            return int(value) if value is not None else None
    return None


def _read(
    table: Table,
    tasks: Sequence[FileScanTask],
    columns: Sequence[str],
    row_filter: BooleanExpression,
) -> pa.Table:
    schema = table.schema().select(*columns)
    if not tasks:
        return schema.as_arrow().empty_table()
    return ArrowScan(table.metadata, table.io, schema, row_filter).to_table(tasks)


def _rebuild_gold(
    settings: Settings, catalog: Catalog, date_from: date | None, date_to: date | None
) -> StepResult:
    started = time.monotonic()
    silver = ensure_table(catalog, SILVER)
    tables = {d.identifier: ensure_table(catalog, d) for d in gold_step.GOLD_TABLES}
    target = current_cursor(silver)
    full = date_from is None and date_to is None
    before = min(
        (Cursor.load(t.properties, gold_step.CURSOR_PREFIX) for t in tables.values()),
        key=lambda c: c.sequence_number if c.snapshot_id is not None else -1,
    )
    result = StepResult("gold", cursor_before=before, cursor=target if full else before)
    result.snapshots_before = {name: snapshot_id(t) for name, t in tables.items()}
    dates = _silver_dates(silver, target, date_from, date_to)
    for table_def in gold_step.GOLD_TABLES:
        column = "summary_date" if table_def is DAILY_SUMMARY else "stat_date"
        dates |= _dates_of(tables[table_def.identifier], column, date_from, date_to)
    touched = gold_step.Touched(full_dates=dates)
    gold_step.recompute(
        settings, catalog, gold_step.GOLD_TABLES, touched, target, result, move_cursor=full
    )
    result.snapshots_after = {
        d.identifier: snapshot_id(catalog.load_table(d.identifier)) for d in gold_step.GOLD_TABLES
    }
    result.duration_s = time.monotonic() - started
    return result


def _silver_dates(
    silver: Table, target: Cursor, date_from: date | None, date_to: date | None
) -> set[str]:
    """Dates with silver files in the range, from partition values (no data read)."""
    if target.snapshot_id is None:
        return set()
    scan = silver.scan(
        row_filter=_date_filter("event_date", date_from, date_to), snapshot_id=target.snapshot_id
    )
    values = {partition_value(silver, task.file, "event_date") for task in scan.plan_files()}
    return {str(v) for v in values if v is not None}


def _dates_of(table: Table, column: str, date_from: date | None, date_to: date | None) -> set[str]:
    """Distinct values of a date column within the range (reads that one column)."""
    if table.current_snapshot() is None:
        return set()
    scan = table.scan(
        row_filter=_date_filter(column, date_from, date_to), selected_fields=(column,)
    )
    values = scan.to_arrow()[column]
    return {v for v in pc.unique(values).to_pylist() if v is not None}
