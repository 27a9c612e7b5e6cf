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
from datetime import date, datetime, timedelta
from datetime import time as dtime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import duckdb
import pyarrow as pa

from wikistream.clock import to_iso
from wikistream.errors import QueryBusyError, QueryError, QueryRefusedError, QueryTimeoutError
from wikistream.serve.lakeread import AsOf, LakeReader
from wikistream.serve.sqlcheck import CheckedQuery, check_query
from wikistream.serve.views import expose_tables, literal

if TYPE_CHECKING:
    from wikistream.serve.config import ServeSettings


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
            snapshots, files = expose_tables(con, self.reader, checked, as_of)
            self._lock_down(con, files)
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

    def _lock_down(self, con: duckdb.DuckDBPyConnection, files: list[str]) -> None:
        # Dates and hours in results are UTC whatever the server's local time zone is.
        con.execute("SET TimeZone = 'UTC'")
        con.execute("SET search_path = 'bronze,silver,gold,dq_audit,main'")
        if files:  # the snapshot's data files stay readable; nothing else does
            con.execute(f"SET allowed_paths = [{', '.join(literal(f) for f in files)}]")
        con.execute(f"SET memory_limit = '{int(self.settings.query_memory_mb)}MB'")
        con.execute("SET temp_directory = ''")
        con.execute("SET autoinstall_known_extensions = false")
        con.execute("SET autoload_known_extensions = false")
        con.execute("SET enable_external_access = false")
        con.execute("SET lock_configuration = true")


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
