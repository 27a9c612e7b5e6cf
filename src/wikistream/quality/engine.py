"""Compile checks into one or two aggregate queries and run them with DuckDB over an Arrow table.

Every constraint contributes aggregates to a single ``SELECT … FROM slice``; aggregates that need a
full pass of their own (``COUNT(DISTINCT …)``, percentiles) go into a second query so the first
stays a cheap streaming aggregation. A query that fails is re-run check by check, so one broken
check becomes one ``ERROR`` row instead of hiding all the others.

Queries are DuckDB SQL over a relation named ``slice``; an :class:`AggregateRunner` runs them.
:func:`evaluate` uses DuckDB over an Arrow table; :func:`evaluate_with` takes any runner (the
Spark engine transpiles the same queries to Spark SQL, :mod:`wikistream.spark.dq`).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import duckdb
import pyarrow as pa

from wikistream.errors import QueryError
from wikistream.quality.checks import (
    BLOCKING_STATUSES,
    Check,
    CheckType,
    Level,
    Status,
)

RELATION = "slice"
_HOLISTIC = re.compile(r"\bDISTINCT\b|PERCENTILE|QUANTILE|MEDIAN", re.IGNORECASE)


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one check on one table slice (one row of ``quality_results``)."""

    check_name: str
    check_type: CheckType
    level: Level
    table_name: str
    status: Status
    metric_value: float | None = None
    threshold_value: float | None = None
    records_checked: int = 0
    records_passed: int | None = None
    records_failed: int | None = None
    failure_rate: float | None = None
    message: str = ""
    evidence: dict[str, Any] = field(default_factory=dict)
    duration_ms: int = 0

    @property
    def blocking(self) -> bool:
        """True when this result makes its gate fail (error level, FAILED or ERROR)."""
        return self.level is Level.ERROR and self.status in BLOCKING_STATUSES


@dataclass(frozen=True)
class CompiledQuery:
    """One aggregate query and which check field each output column feeds."""

    sql: str
    # column n of the result feeds outputs[n]: the (check index, field name) pairs that use it
    outputs: tuple[tuple[tuple[int, str], ...], ...]

    def fields(self) -> set[tuple[int, str]]:
        """Every (check index, field name) this query computes."""
        return {pair for users in self.outputs for pair in users}


def _fields(check: Check) -> list[tuple[str, str]]:
    c = check.constraint
    out = [("checked", c.checked)]
    if c.metric is not None:
        out.append(("metric", c.metric))
    if c.passed is not None:
        out.append(("passed", c.passed))
    return out


def _extras(check: Check) -> list[tuple[str, str]]:
    return [(f"x:{name}", expr) for name, expr in check.constraint.extras]


def compile_checks(
    checks: Sequence[Check],
    relation: str = RELATION,
    *,
    fields: Callable[[Check], list[tuple[str, str]]] = _fields,
) -> list[CompiledQuery]:
    """Compile ``checks`` into at most two queries: streaming aggregates, then holistic ones.

    An aggregate several checks share (``COUNT(*)``, a common scope) is computed once. Evidence
    aggregates (``extras``) are not included: :func:`evaluate` asks for them only for checks that
    did not pass, so clean data pays nothing for them.
    """
    plain: dict[str, list[tuple[int, str]]] = {}
    holistic: dict[str, list[tuple[int, str]]] = {}
    for index, check in enumerate(checks):
        for name, expr in fields(check):
            part = holistic if _HOLISTIC.search(expr) else plain
            part.setdefault(expr, []).append((index, name))
    queries = []
    for part in (plain, holistic):
        if not part:
            continue
        select = ",\n  ".join(f"{expr} AS c{n}" for n, expr in enumerate(part))
        queries.append(
            CompiledQuery(
                sql=f"SELECT\n  {select}\nFROM {relation}",
                outputs=tuple(tuple(users) for users in part.values()),
            )
        )
    return queries


class AggregateRunner(Protocol):
    """Runs one compiled aggregate query over the relation named ``slice``."""

    def fetch_row(self, sql: str) -> tuple[Any, ...]:
        """Return the single result row of ``sql`` (DuckDB dialect, ``FROM slice``).

        Raise :class:`~wikistream.errors.QueryError` when the query cannot run (unknown column,
        bad function …); the message's first line goes into the check's ``ERROR`` row.
        """
        ...


class DuckDBAggregateRunner:
    """An :class:`AggregateRunner` on a DuckDB connection with ``slice`` registered."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con

    def fetch_row(self, sql: str) -> tuple[Any, ...]:
        """Run ``sql``; DuckDB errors become :class:`QueryError`."""
        try:
            row = self.con.execute(sql).fetchone()
        except duckdb.Error as exc:
            raise QueryError(f"{type(exc).__name__}: {exc}") from exc
        return row or ()


def connect() -> duckdb.DuckDBPyConnection:
    """A fresh in-memory DuckDB connection that computes dates and hours in UTC."""
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    return con


def evaluate(checks: Sequence[Check], relation: pa.Table, *, table_name: str) -> list[CheckResult]:
    """Run ``checks`` over ``relation`` with DuckDB and judge each one; never raises for a check."""
    if not checks:
        return []
    con = connect()
    try:
        con.register(RELATION, relation)
        return evaluate_with(checks, DuckDBAggregateRunner(con), table_name=table_name)
    finally:
        con.close()


def evaluate_with(
    checks: Sequence[Check], runner: AggregateRunner, *, table_name: str
) -> list[CheckResult]:
    """Run ``checks`` through ``runner`` (``slice`` already bound) and judge each one."""
    if not checks:
        return []
    values: list[dict[str, Any]] = [{} for _ in checks]
    durations = [0] * len(checks)
    errors: dict[int, str] = {}
    for query in compile_checks(checks):
        _execute(runner, checks, query, values, durations, errors)
    results = [
        _judge(check, table_name, values[i], durations[i], errors.get(i))
        for i, check in enumerate(checks)
    ]
    failing = [
        i
        for i, r in enumerate(results)
        if r.status in (Status.FAILED, Status.WARNING) and checks[i].constraint.extras
    ]
    if failing:  # evidence (e.g. an example failing value) only where it is needed
        subset = [checks[i] for i in failing]
        sub_values: list[dict[str, Any]] = [{} for _ in subset]
        for query in compile_checks(subset, fields=_extras):
            _execute(runner, subset, query, sub_values, [0] * len(subset), {})
        for i, extra in zip(failing, sub_values, strict=True):
            values[i].update(extra)
            results[i] = _judge(checks[i], table_name, values[i], durations[i], None)
    return results


def _execute(
    runner: AggregateRunner,
    checks: Sequence[Check],
    query: CompiledQuery,
    values: list[dict[str, Any]],
    durations: list[int],
    errors: dict[int, str],
) -> None:
    """Run one compiled query and store each output under its checks; isolate failures."""
    try:
        row, elapsed_ms = _run(runner, query.sql)
    except QueryError:
        _run_one_by_one(runner, checks, query, values, durations, errors)
        return
    for users, value in zip(query.outputs, row, strict=True):
        for index, name in users:
            values[index][name] = value
    for index in {i for i, _ in query.fields()}:
        durations[index] += elapsed_ms


def _run(runner: AggregateRunner, sql: str) -> tuple[tuple[Any, ...], int]:
    started = time.perf_counter()
    row = runner.fetch_row(sql)
    elapsed_ms = round((time.perf_counter() - started) * 1000)
    return row, elapsed_ms


def _run_one_by_one(
    runner: AggregateRunner,
    checks: Sequence[Check],
    query: CompiledQuery,
    values: list[dict[str, Any]],
    durations: list[int],
    errors: dict[int, str],
) -> None:
    """Isolate the failing check(s) of ``query`` by running each check's part of it alone."""
    for index in sorted({i for i, _ in query.fields()}):
        names = sorted(name for i, name in query.fields() if i == index)
        exprs = dict(_fields(checks[index]) + _extras(checks[index]))
        select = ", ".join(exprs[name] for name in names)
        try:
            row, elapsed_ms = _run(runner, f"SELECT {select} FROM {RELATION}")
        except QueryError as exc:
            errors[index] = str(exc).splitlines()[0]
            continue
        values[index].update(zip(names, row, strict=True))
        durations[index] += elapsed_ms


def _num(value: Any) -> float | None:
    return None if value is None else float(value)


def _count(value: Any) -> int:
    return 0 if value is None else int(value)  # SUM over no rows is NULL: zero counts stay 0


def _judge(
    check: Check, table: str, values: dict[str, Any], duration_ms: int, error: str | None
) -> CheckResult:
    c = check.constraint
    base: dict[str, Any] = {
        "check_name": check.name,
        "check_type": check.check_type,
        "level": check.level,
        "table_name": table,
        "threshold_value": c.threshold,
        "duration_ms": duration_ms,
    }
    if error is not None:
        return CheckResult(
            status=Status.ERROR,
            message=f"{check.name} could not be computed: {error}; fix the check or the table "
            f"schema (columns used: {', '.join(check.columns)})",
            **base,
        )
    checked = _count(values.get("checked"))
    if c.metric is None:  # a share: passed / checked
        metric = _count(values.get("passed")) / checked if checked else None
    else:
        metric = _num(values.get("metric"))
    evidence: dict[str, Any] = {
        "rule": check.description,
        "comparison": c.comparison,
        **{k[2:]: v for k, v in values.items() if k.startswith("x:") and v is not None},
    }
    if checked == 0:
        return CheckResult(
            status=Status.SKIPPED,
            metric_value=metric,
            message=f"{check.name}: no rows in scope ({check.description}); nothing to check",
            evidence=evidence,
            **base,
        )
    passed = _count(values["passed"]) if "passed" in values else None
    failed = None if passed is None else checked - passed
    rate = None if failed is None else failed / checked
    if metric is None:
        return CheckResult(
            status=Status.ERROR,
            records_checked=checked,
            message=f"{check.name}: metric is NULL over {checked} rows; check the metric SQL",
            evidence=evidence,
            **base,
        )
    holds = c.holds(metric)
    if holds:
        status = Status.PASSED
    else:
        status = Status.FAILED if check.level is Level.ERROR else Status.WARNING
    verdict = "holds" if holds else "VIOLATED"
    detail = f"; {failed} of {checked} rows failed" if failed else f"; {checked} rows checked"
    example = evidence.get("example_failing_value")
    if not holds and example is not None:
        detail += f", e.g. {example!r}"
    suffix = " (warning only)" if status is Status.WARNING else ""
    return CheckResult(
        status=status,
        metric_value=metric,
        records_checked=checked,
        records_passed=passed,
        records_failed=failed,
        failure_rate=rate,
        message=f"{check.name}: {metric:.6g} {c.comparison} {c.threshold:g} {verdict}"
        f"{detail}{suffix}",
        evidence=evidence,
        **base,
    )
