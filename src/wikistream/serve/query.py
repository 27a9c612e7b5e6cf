"""The read-only SQL sandbox: DuckDB over the Iceberg tables, one SELECT at a time.

Layers of defence, each enough on its own for the common escapes:

1. :func:`~wikistream.serve.sqlcheck.check_query` accepts one SELECT over WikiStream tables and
   refuses file readers, settings and environment functions, with a clear message.
2. The connection exposes only the referenced tables, as views over in-process Arrow sources,
   then sets ``enable_external_access = false`` and ``lock_configuration = true``: no file,
   network, extension or ATTACH access, and no setting can be changed back.
3. A timer interrupts a query that runs longer than ``serve.query_timeout_s``; at most
   ``serve.query_row_limit`` rows come back; memory and threads are capped.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import duckdb
import pyarrow as pa

from wikistream.clock import to_iso
from wikistream.errors import QueryBusyError, QueryError, QueryRefusedError, QueryTimeoutError
from wikistream.serve.lakeread import TABLES, AsOf, LakeReader
from wikistream.serve.sqlcheck import CheckedQuery, check_query

if TYPE_CHECKING:
    from pyiceberg.table import Table

    from wikistream.serve.config import ServeSettings

SCHEMAS = ("bronze", "silver", "gold", "dq_audit")


@dataclass
class QueryResult:
    """Rows of one query (JSON-safe values), their columns and what was read."""

    columns: list[str]
    types: list[str]
    rows: list[list[Any]]
    truncated: bool
    row_limit: int
    elapsed_ms: float
    snapshots: dict[str, int | None] = field(default_factory=dict)

    def records(self) -> list[dict[str, Any]]:
        """Rows as mappings (a repeated column name keeps its last value)."""
        return [dict(zip(self.columns, row, strict=True)) for row in self.rows]

    def to_json(self) -> dict[str, Any]:
        """The API body."""
        return {
            "columns": self.columns,
            "types": self.types,
            "rows": self.rows,
            "row_count": len(self.rows),
            "truncated": self.truncated,
            "row_limit": self.row_limit,
            "elapsed_ms": round(self.elapsed_ms, 1),
            "snapshots": {k: None if v is None else str(v) for k, v in self.snapshots.items()},
        }


class QuerySandbox:
    """Runs sandboxed queries against one catalog; safe to share between threads."""

    def __init__(self, reader: LakeReader, settings: ServeSettings) -> None:
        self.reader = reader
        self.settings = settings
        self._slots = threading.BoundedSemaphore(settings.query_concurrency)

    def run(
        self,
        sql: str,
        *,
        as_of: AsOf | None = None,
        row_limit: int | None = None,
        timeout_s: float | None = None,
    ) -> QueryResult:
        """Check and run one query; raise :class:`QueryRefusedError` or :class:`QueryError`."""
        limit = min(row_limit or self.settings.query_row_limit, self.settings.query_row_limit)
        if limit <= 0:
            raise QueryRefusedError(f"row limit must be positive, got {row_limit}")
        budget = min(timeout_s or self.settings.query_timeout_s, self.settings.query_timeout_s)
        checked = check_query(sql, max_chars=self.settings.query_max_chars)
        if not self._slots.acquire(timeout=1.0):
            raise QueryBusyError(
                f"{self.settings.query_concurrency} queries are already running "
                "(serve.query_concurrency); retry in a few seconds"
            )
        try:
            return self._execute(checked, as_of, limit, budget)
        finally:
            self._slots.release()

    def _execute(
        self, checked: CheckedQuery, as_of: AsOf | None, limit: int, budget: float
    ) -> QueryResult:
        started = time.perf_counter()
        con = duckdb.connect(":memory:", config={"threads": 2})
        try:
            snapshots = self._expose(con, checked, as_of)
            self._lock_down(con)
            timer = threading.Timer(budget, con.interrupt)
            timer.daemon = True
            timer.start()
            try:
                table = con.sql(checked.text).limit(limit + 1).to_arrow_table()
            except duckdb.InterruptException:
                raise QueryTimeoutError(
                    f"the query ran longer than {budget:g} s and was stopped "
                    "(serve.query_timeout_s); add filters or aggregate more"
                ) from None
            except duckdb.PermissionException as exc:
                raise QueryRefusedError(f"the sandbox refused the query: {_line(exc)}") from exc
            except duckdb.Error as exc:
                raise QueryError(f"the query failed: {_line(exc)}") from exc
            finally:
                timer.cancel()
        finally:
            con.close()
        truncated = table.num_rows > limit
        if truncated:
            table = table.slice(0, limit)
        return QueryResult(
            columns=list(table.column_names),
            types=[str(t) for t in table.schema.types],
            rows=arrow_rows(table),
            truncated=truncated,
            row_limit=limit,
            elapsed_ms=(time.perf_counter() - started) * 1000,
            snapshots=snapshots,
        )

    def _expose(
        self, con: duckdb.DuckDBPyConnection, checked: CheckedQuery, as_of: AsOf | None
    ) -> dict[str, int | None]:
        """Create ``<namespace>.<table>`` views over the referenced tables at the chosen point."""
        loaded: dict[str, Table | None] = {name: self.reader.load(name) for name in checked.tables}
        as_of = _common_point(loaded, as_of)
        snapshots: dict[str, int | None] = {}
        for schema in SCHEMAS:
            con.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
        for i, (name, columns) in enumerate(sorted(checked.tables.items())):
            table = loaded[name]
            snapshot_id = self.reader.snapshot_id(table, as_of)
            snapshots[name] = snapshot_id
            all_columns = [c for c in _declared_columns(table, name)]
            wanted = all_columns if columns is None else [c for c in all_columns if c in columns]
            source = self.reader.source(name, table, snapshot_id, wanted or all_columns[:1])
            internal = f"__wikistream_source_{i}"
            con.register(internal, source)
            select = ", ".join(_quote(c) for c in (wanted or all_columns[:1]))
            schema, short = name.split(".", 1)
            con.execute(f"CREATE VIEW {schema}.{short} AS SELECT {select} FROM {internal}")
        return snapshots

    def _lock_down(self, con: duckdb.DuckDBPyConnection) -> None:
        con.execute("SET search_path = 'bronze,silver,gold,dq_audit,main'")
        con.execute(f"SET memory_limit = '{int(self.settings.query_memory_mb)}MB'")
        con.execute("SET temp_directory = ''")
        con.execute("SET autoinstall_known_extensions = false")
        con.execute("SET autoload_known_extensions = false")
        con.execute("SET enable_external_access = false")
        con.execute("SET lock_configuration = true")


def _common_point(loaded: dict[str, Table | None], as_of: AsOf | None) -> AsOf | None:
    """A snapshot id names one table's state; the other tables are read as of its commit time."""
    if as_of is None or as_of.snapshot_id is None or len(loaded) <= 1:
        return as_of
    for table in loaded.values():
        snap = table.snapshot_by_id(as_of.snapshot_id) if table is not None else None
        if snap is not None:
            moment = datetime.fromtimestamp(snap.timestamp_ms / 1000, tz=UTC)
            return AsOf(timestamp=moment)
    raise QueryError(
        f"snapshot {as_of.snapshot_id} belongs to none of the tables the query reads "
        f"({', '.join(sorted(loaded))}); pass a timestamp to --as-of instead"
    )


def _declared_columns(table: Table | None, name: str) -> list[str]:
    if table is not None:
        return [f.name for f in table.schema().fields]
    return TABLES[name].column_names


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def arrow_rows(table: pa.Table) -> list[list[Any]]:
    """Rows of an Arrow table as lists of JSON-safe values (ISO timestamps, no NaN)."""
    columns = [[json_value(v) for v in col.to_pylist()] for col in table.columns]
    return [list(row) for row in zip(*columns, strict=True)] if columns else []


def json_value(value: Any) -> Any:
    """One cell as a JSON-safe value."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, datetime):
        return to_iso(value) if value.tzinfo is not None else value.isoformat()
    if isinstance(value, date | dtime):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, Decimal):
        if not value.is_finite():
            return None
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, pa.MonthDayNano):
        months, days, nanos = value.months, value.days, value.nanoseconds
        return (
            days * 86400 + nanos / 1e9 if months == 0 else f"{months} months {days} days {nanos} ns"
        )
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, dict):
        return {str(k): json_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_value(v) for v in value]
    return str(value)
