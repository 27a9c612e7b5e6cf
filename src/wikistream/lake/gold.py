"""The gold step: silver changes → hourly_stats, risk_scores and daily_analytics_summary.

A run finds the silver files added or removed since each gold table's cursor, derives the groups
they touch — (date, hour, domain), (date, user) and date — recomputes exactly those groups from
every silver row of their dates with the SQL models in ``lake/sql/gold_*.sql``, and replaces them
in each gold table with one transaction that also moves that table's cursor. Recomputing a group
is idempotent, so a crash between the three tables' commits only means a group is recomputed
again on the next run.

When many rows of a date changed (first run, rebuild, lost lineage, merge-on-read deletes) the
whole date is replaced instead of group by group: cheaper, and the result is the same.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
from pyiceberg.catalog import Catalog
from pyiceberg.expressions import AlwaysTrue
from pyiceberg.io.pyarrow import ArrowScan
from pyiceberg.manifest import DataFile
from pyiceberg.table import FileScanTask, Table

from wikistream.clock import utc_now
from wikistream.lake import transform
from wikistream.lake.catalog import ensure_table, open_catalog
from wikistream.lake.changes import (
    ChangeSet,
    Cursor,
    current_cursor,
    oldest,
    partition_value,
    plan_changes,
    read_files,
)
from wikistream.lake.predicates import is_in
from wikistream.lake.schemas import (
    DAILY_SUMMARY,
    HOURLY_STATS,
    RISK_SCORES,
    SCHEMA_VERSION,
    SILVER,
    TableDef,
)
from wikistream.lake.steps import StepResult, commit_rows, conform, rewrite_files, snapshot_id
from wikistream.settings import Settings

log = logging.getLogger(__name__)

CURSOR_PREFIX = "wikistream.gold.silver"
"""Gold table properties ``<prefix>.snapshot-id`` / ``.sequence-number``: silver processed."""

GOLD_TABLES: tuple[TableDef, ...] = (HOURLY_STATS, RISK_SCORES, DAILY_SUMMARY)
SILVER_COLUMNS = (
    "event_date",
    "event_hour",
    "domain",
    "region",
    "title",
    "user_normalized",
    "user_kind",
    "is_bot",
    "is_anonymous",
    "length_delta",
    "event_type",
    "is_large_deletion",
    "is_large_addition",
)
KEY_COLUMNS = ("event_date", "event_hour", "domain", "user_normalized")
FULL_DATE_ROWS = 50_000
"""Changed silver rows of one date above which gold replaces the whole date."""


@dataclass
class Touched:
    """The gold groups a set of silver changes touches."""

    full_dates: set[str] = field(default_factory=set)
    hours: dict[str, set[tuple[int, str]]] = field(default_factory=lambda: defaultdict(set))
    users: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))

    @property
    def dates(self) -> list[str]:
        """Every date with a touched group, sorted."""
        return sorted(self.full_dates | set(self.hours) | set(self.users))

    def update(self, other: Touched) -> None:
        """Add the groups of ``other``."""
        self.full_dates |= other.full_dates
        for day, hours in other.hours.items():
            self.hours[day] |= hours
        for day, users in other.users.items():
            self.users[day] |= users

    def add_rows(self, keys: pa.Table) -> None:
        """Add the groups of silver rows (columns :data:`KEY_COLUMNS`)."""
        for day, hour, domain, user in zip(
            *(keys[name].to_pylist() for name in KEY_COLUMNS), strict=True
        ):
            if day is None or day in self.full_dates:
                continue
            self.hours[day].add((hour, domain))
            if user is not None:
                self.users[day].add(user)


class GoldStep:
    """Bring the three gold tables up to date with ``silver.cleaned_events``."""

    def __init__(self, settings: Settings, catalog: Catalog | None = None) -> None:
        self.settings = settings
        self.catalog = catalog if catalog is not None else open_catalog(settings)

    def run(self, until: Cursor | None = None) -> StepResult:
        """Recompute the groups touched since each table's cursor; a cheap no-op when none.

        ``until`` stops at that silver snapshot (the slice a silver gate passed).
        """
        started = time.monotonic()
        silver = ensure_table(self.catalog, SILVER)
        tables = {d.identifier: ensure_table(self.catalog, d) for d in GOLD_TABLES}
        target = current_cursor(silver) if until is None else until
        cursors = {name: Cursor.load(t.properties, CURSOR_PREFIX) for name, t in tables.items()}
        pending = [d for d in GOLD_TABLES if cursors[d.identifier] != target]
        result = StepResult("gold", cursor_before=oldest(cursors.values()), cursor=target)
        result.snapshots_before = {name: snapshot_id(t) for name, t in tables.items()}
        if not pending:
            result.noop = True
        else:
            touched = Touched()
            for since in {cursors[d.identifier] for d in pending}:
                touched.update(find_touched(silver, plan_changes(silver, since, target)))
            recompute(
                self.settings, self.catalog, pending, touched, target, result,
                silver=silver, tables=tables,
            )  # fmt: skip
        # a commit updates its Table object in place: no reload needed
        result.snapshots_after = {
            d.identifier: snapshot_id(tables[d.identifier]) for d in GOLD_TABLES
        }
        result.duration_s = time.monotonic() - started
        return result


def find_touched(silver: Table, changes: ChangeSet) -> Touched:
    """The gold groups touched by a silver change set (whole dates where cheaper or needed)."""
    touched = Touched()
    for partition in changes.delete_file_partitions:
        touched.full_dates.add(str(partition.get("event_date")))
    files = changes.added + changes.removed
    by_date: dict[str | None, list[DataFile]] = defaultdict(list)
    for data_file in files:
        by_date[partition_value(silver, data_file, "event_date")].append(data_file)
    to_read: list[DataFile] = []
    for day, day_files in by_date.items():
        rows = sum(f.record_count for f in day_files)
        whole = changes.full or changes.lineage_lost or rows > FULL_DATE_ROWS
        if day is not None and whole:
            touched.full_dates.add(day)
        else:
            to_read.extend(day_files)
    for data_file in to_read:
        try:
            keys = read_files(silver, [data_file], KEY_COLUMNS)
        except OSError as exc:  # a removed file already cleaned up: recompute its whole date
            day = partition_value(silver, data_file, "event_date")
            if day is None:
                raise
            log.warning("cannot read removed silver file %s (%s)", data_file.file_path, exc)
            touched.full_dates.add(day)
            continue
        touched.add_rows(keys)
    for day in touched.full_dates:
        touched.hours.pop(day, None)
        touched.users.pop(day, None)
    return touched


def recompute(
    settings: Settings,
    catalog: Catalog,
    pending: Sequence[TableDef],
    touched: Touched,
    target: Cursor,
    result: StepResult,
    *,
    move_cursor: bool = True,
    silver: Table | None = None,
    tables: dict[str, Table] | None = None,
) -> None:
    """Recompute ``touched`` groups from silver at ``target`` and replace them in ``pending``.

    ``silver`` and ``tables`` (the gold tables by name) avoid loading them again; commits update
    those objects in place.
    """
    silver = silver if silver is not None else catalog.load_table(SILVER.identifier)
    dates = touched.dates
    tasks = _silver_tasks(silver, dates, target)
    batches = list(_date_batches(silver, dates, tasks, settings.lake.transform_batch_rows))
    cursor_props = target.to_properties(CURSOR_PREFIX) if move_cursor else None
    result.dates = tuple(dates)
    result.groups = {
        "full_dates": len(touched.full_dates),
        HOURLY_STATS.identifier: sum(len(v) for v in touched.hours.values()),
        RISK_SCORES.identifier: sum(len(v) for v in touched.users.values()),
        DAILY_SUMMARY.identifier: len(dates),
    }
    if tables is None:
        tables = {d.identifier: catalog.load_table(d.identifier) for d in GOLD_TABLES}
    if not batches:
        for table_def in pending:
            if cursor_props:
                commit_rows(tables[table_def.identifier], properties=cursor_props)
                result.commits += 1
        return
    held = _HeldRows(pending, touched)
    with transform.connect(settings) as con:
        for batch_dates, batch_tasks in batches:
            rows = _read_tasks(silver, batch_tasks, batch_dates)
            result.rows_in += rows.num_rows
            _, risk_kept = untouched_rows(
                tables[RISK_SCORES.identifier], RISK_SCORES, touched, batch_dates
            )
            outputs = compute_touched(con, rows, touched, risk_kept)
            for table_def in pending:
                fresh = outputs[table_def.identifier]
                result.rows_out += fresh.num_rows
                if table_def is not DAILY_SUMMARY:  # full dates: every group of the date
                    result.groups[table_def.identifier] += _full_date_rows(fresh, touched)
            held.add(batch_dates, outputs)
            if held.rows > FLUSH_ROWS:  # a long rebuild: commit what is done so far
                result.commits += held.commit(tables, properties=None)
    result.commits += held.commit(tables, properties=cursor_props)


FLUSH_ROWS = 500_000
"""Recomputed gold rows held for one commit per table at most (a long rebuild flushes)."""


class _HeldRows:
    """Recomputed rows and their dates, per gold table, until the next commit."""

    def __init__(self, tables: Sequence[TableDef], touched: Touched) -> None:
        self.tables = list(tables)
        self.touched = touched
        self.dates: list[str] = []
        self.parts: dict[str, list[pa.Table]] = {d.identifier: [] for d in tables}

    @property
    def rows(self) -> int:
        return sum(part.num_rows for parts in self.parts.values() for part in parts)

    def add(self, dates: Sequence[str], outputs: dict[str, pa.Table]) -> None:
        self.dates.extend(dates)
        for table_def in self.tables:
            self.parts[table_def.identifier].append(outputs[table_def.identifier])

    def commit(self, tables: dict[str, Table], properties: dict[str, str] | None) -> int:
        """Replace the held dates' files in each table, one transaction each; count commits."""
        commits = 0
        for table_def in self.tables:
            name = table_def.identifier
            old_files, kept = untouched_rows(tables[name], table_def, self.touched, self.dates)
            rows = conform(pa.concat_tables([kept, *self.parts[name]]), table_def)
            if old_files or rows.num_rows or properties:
                rewrite_files(tables[name], remove=old_files, rows=rows, properties=properties)
                commits += 1
            self.parts[name] = []
        self.dates = []
        return commits


def date_column(table_def: TableDef) -> str:
    """The date (and, except for the daily summary, partition) column of a gold table."""
    return "summary_date" if table_def is DAILY_SUMMARY else "stat_date"


def untouched_rows(
    table: Table, table_def: TableDef, touched: Touched, dates: Sequence[str]
) -> tuple[list[DataFile], pa.Table]:
    """The files holding rows of ``dates``, and their rows outside the touched groups.

    The step replaces those files by the kept rows plus the recomputed groups, so exactly the
    touched groups change (kept rows keep their values, processed_at included). Gold tables are
    small — hundreds of hourly rows and thousands of risk rows per date — so this is cheaper than
    a copy-on-write delete and costs one snapshot per commit.
    """
    if table.current_snapshot() is None:
        return [], table_def.schema().as_arrow().empty_table()
    tasks = list(table.scan(row_filter=is_in(date_column(table_def), dates)).plan_files())
    files = [task.file for task in tasks]
    if not tasks:
        return files, table_def.schema().as_arrow().empty_table()
    stored = ArrowScan(table.metadata, table.io, table.schema(), AlwaysTrue()).to_table(tasks)
    in_dates = pc.is_in(stored[date_column(table_def)], pa.array(list(dates), pa.string()))
    replaced = pc.and_(in_dates, touched_mask(table_def, stored, touched))
    return files, conform(stored.filter(pc.invert(replaced)), table_def)


RISK_DAY_COLUMNS = ("stat_date", "risk_score", "risk_level", "alert_triggered")


def compute_gold(con: duckdb.DuckDBPyConnection, silver_day: pa.Table) -> dict[str, pa.Table]:
    """Every gold row of the dates in ``silver_day`` (all rows of those dates)."""
    days = pc.unique(silver_day["event_date"]).to_pylist()
    empty_risk = RISK_SCORES.schema().as_arrow().empty_table()
    return compute_touched(con, silver_day, Touched(full_dates=set(days)), empty_risk)


def compute_touched(
    con: duckdb.DuckDBPyConnection,
    silver_day: pa.Table,
    touched: Touched,
    risk_kept: pa.Table,
) -> dict[str, pa.Table]:
    """Recompute the touched groups of the dates in ``silver_day`` (every silver row of them).

    Hourly and risk models run on the rows of touched groups only; the daily summary needs the
    whole day and every scored user, i.e. ``risk_kept`` (stored risk rows of untouched users)
    plus the recomputed ones.
    """
    params = {"schema_version": transform.sql_string(SCHEMA_VERSION)}
    hourly_input = _select(silver_day, _hour_mask(silver_day, touched, HOUR_KEYS))
    risk_input = _select(silver_day, _user_mask(silver_day, touched, USER_KEYS))
    hourly = transform.run_model(con, "gold_hourly_stats", {"silver_day": hourly_input}, params)
    risk = transform.run_model(con, "gold_risk_scores", {"silver_day": risk_input}, params)
    risk_day_schema = RISK_SCORES.schema().select(*RISK_DAY_COLUMNS).as_arrow()
    risk_day = pa.concat_tables(
        [t.select(risk_day_schema.names).cast(risk_day_schema) for t in (risk_kept, risk)]
    )
    daily = transform.run_model(
        con, "gold_daily_summary", {"silver_day": silver_day, "risk_day": risk_day}, params
    )
    now = utc_now()
    outputs = {}
    for table_def, rows in ((HOURLY_STATS, hourly), (RISK_SCORES, risk), (DAILY_SUMMARY, daily)):
        stamp = pa.array([now] * rows.num_rows, pa.timestamp("us", "UTC"))
        outputs[table_def.identifier] = conform(
            rows.append_column("gold_processed_at", stamp), table_def
        )
    return outputs


def touched_mask(table_def: TableDef, rows: pa.Table, touched: Touched) -> pa.Array:
    """True for the rows of ``rows`` that belong to touched groups (all rows of full dates)."""
    if table_def is DAILY_SUMMARY or not rows.num_rows:
        return pa.array([True] * rows.num_rows, pa.bool_())
    if table_def is HOURLY_STATS:
        return _hour_mask(rows, touched, ("stat_date", "stat_hour", "domain"))
    return _user_mask(rows, touched, ("stat_date", "entity_id"))


def _hour_mask(rows: pa.Table, touched: Touched, columns: tuple[str, str, str]) -> pa.Array:
    """Rows of touched (date, hour, domain) groups or of full dates."""
    wanted = [
        _group_key(day, str(hour), domain)
        for day, groups in touched.hours.items()
        for hour, domain in groups
    ]
    return _group_mask(rows, touched, columns, wanted)


def _user_mask(rows: pa.Table, touched: Touched, columns: tuple[str, str]) -> pa.Array:
    """Rows of touched (date, user) groups or of full dates."""
    wanted = [_group_key(day, user) for day, users in touched.users.items() for user in users]
    return _group_mask(rows, touched, columns, wanted)


def _group_mask(
    rows: pa.Table, touched: Touched, columns: Sequence[str], wanted: list[str]
) -> pa.Array:
    full = pc.is_in(rows[columns[0]], pa.array(sorted(touched.full_dates), pa.string()))
    parts = [pc.cast(rows[name], pa.string()) for name in columns]
    keys = pc.binary_join_element_wise(*parts, _KEY_SEP)
    mask = pc.fill_null(pc.or_(full, pc.is_in(keys, pa.array(wanted, pa.string()))), False)
    return mask.combine_chunks() if isinstance(mask, pa.ChunkedArray) else mask


_KEY_SEP = "\x1f"  # never in a date or an hour, so (date, hour, name) keys are unambiguous


HOUR_KEYS = ("event_date", "event_hour", "domain")
USER_KEYS = ("event_date", "user_normalized")


def _select(rows: pa.Table, mask: pa.Array) -> pa.Table:
    """``rows.filter(mask)``, without a copy when every row is selected (whole dates)."""
    return rows if pc.all(mask).as_py() else rows.filter(mask)


def _group_key(*parts: str) -> str:
    return _KEY_SEP.join(parts)


def _full_date_rows(rows: pa.Table, touched: Touched) -> int:
    if not touched.full_dates or not rows.num_rows:
        return 0
    mask = pc.is_in(rows["stat_date"], pa.array(sorted(touched.full_dates), pa.string()))
    return int(pc.sum(mask).as_py() or 0)


def _silver_tasks(silver: Table, dates: Sequence[str], target: Cursor) -> list[FileScanTask]:
    if not dates or target.snapshot_id is None:
        return []
    scan = silver.scan(
        row_filter=is_in("event_date", dates),
        selected_fields=SILVER_COLUMNS,
        snapshot_id=target.snapshot_id,
    )
    return list(scan.plan_files())


def _date_batches(
    silver: Table, dates: Sequence[str], tasks: Iterable[FileScanTask], max_rows: int
) -> Iterator[tuple[list[str], list[FileScanTask]]]:
    """Whole dates per batch, at most ``max_rows`` silver rows each (a bigger date goes alone)."""
    by_date: dict[str, list[FileScanTask]] = defaultdict(list)
    for task in tasks:
        by_date[str(partition_value(silver, task.file, "event_date"))].append(task)
    batch_dates: list[str] = []
    batch_tasks: list[FileScanTask] = []
    rows = 0
    for day in dates:
        day_rows = sum(t.file.record_count for t in by_date.get(day, ()))
        if batch_dates and rows + day_rows > max_rows:
            yield batch_dates, batch_tasks
            batch_dates, batch_tasks, rows = [], [], 0
        batch_dates.append(day)
        batch_tasks.extend(by_date.get(day, ()))
        rows += day_rows
    if batch_dates:
        yield batch_dates, batch_tasks


def _read_tasks(silver: Table, tasks: Sequence[FileScanTask], dates: Sequence[str]) -> pa.Table:
    schema = silver.schema().select(*SILVER_COLUMNS)
    if not tasks:
        return schema.as_arrow().empty_table()
    scan = ArrowScan(silver.metadata, silver.io, schema, is_in("event_date", dates))
    return scan.to_table(tasks)
