"""Data-quality checks as declared data, in PyDeequ's vocabulary.

A :class:`Check` has a name, a check type, a level (``error`` blocks the gate, ``warning`` never
does) and one :class:`Constraint`: SQL aggregates for the metric, the rows checked and the rows that
pass, a comparison and a threshold. The engine compiles all constraints of a table into one or two
aggregate queries. SQL here is a portable subset (DuckDB dialect that sqlglot turns into Spark SQL):
``CASE WHEN … THEN 1 ELSE 0 END`` inside ``AVG``/``SUM``, and every ``COUNT(DISTINCT …)`` or
percentile lands in its own query.

The builders (``is_complete``, ``has_completeness``, ``is_unique`` …) mirror PyDeequ's constraint
names; the catalogue of the seed's checks, with our fixes, is :mod:`wikistream.quality.catalogue`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Literal

Comparison = Literal[">=", "<=", "=="]


class Level(StrEnum):
    """How a failing check affects its gate."""

    ERROR = "error"  # FAILED/ERROR blocks the gate
    WARNING = "warning"  # recorded as WARNING, never blocks


class CheckType(StrEnum):
    """The seed's check types (§5.1) plus ``override`` for an operator's acceptance."""

    COMPLETENESS = "completeness"
    TIMELINESS = "timeliness"
    VALIDITY = "validity"
    ACCURACY = "accuracy"
    CONSISTENCY = "consistency"
    UNIQUENESS = "uniqueness"
    DRIFT = "drift"
    UPSTREAM = "upstream"
    OVERRIDE = "override"


class Status(StrEnum):
    """Outcome of one check row in ``dq_audit.quality_results``."""

    PASSED = "PASSED"
    FAILED = "FAILED"
    WARNING = "WARNING"
    ERROR = "ERROR"
    SKIPPED = "SKIPPED"
    OVERRIDDEN = "OVERRIDDEN"


BLOCKING_STATUSES = frozenset({Status.FAILED, Status.ERROR})


@dataclass(frozen=True)
class Constraint:
    """What to measure (SQL aggregates over the slice) and how to judge it.

    ``checked`` counts the rows the constraint applies to: 0 ⇒ the check is SKIPPED. ``passed``
    counts the rows that satisfy it. ``metric`` is the aggregate compared with ``threshold``;
    ``None`` means the share ``passed / checked`` (computed from the two counts, which saves one
    aggregate per row-share check). ``extras`` are named aggregates copied into the evidence.
    """

    metric: str | None
    comparison: Comparison
    threshold: float
    checked: str = "COUNT(*)"
    passed: str | None = None
    extras: tuple[tuple[str, str], ...] = ()

    def __post_init__(self) -> None:
        if self.metric is None and self.passed is None:
            raise ValueError("a share constraint (metric=None) needs a `passed` aggregate")

    def holds(self, value: float) -> bool:
        """Whether ``value`` satisfies the comparison (with float tolerance)."""
        eps = 1e-9 * max(1.0, abs(self.threshold))
        if self.comparison == ">=":
            return value >= self.threshold - eps
        if self.comparison == "<=":
            return value <= self.threshold + eps
        return abs(value - self.threshold) <= eps


@dataclass(frozen=True)
class Check:
    """One named, typed, levelled constraint over one table."""

    name: str
    check_type: CheckType
    level: Level
    constraint: Constraint
    columns: tuple[str, ...]
    description: str = ""

    def with_level(self, level: Level) -> Check:
        """The same check at another level."""
        return replace(self, level=level)

    def with_threshold(self, threshold: float) -> Check:
        """The same check with another threshold."""
        return replace(self, constraint=replace(self.constraint, threshold=threshold))


def _sql_literal(value: str | int | float) -> str:
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    return repr(value)


def ident(column: str) -> str:
    """Quote a column name (``user`` is a reserved word in several dialects)."""
    return '"' + column.replace('"', '""') + '"'


def count_if(condition: str) -> str:
    """Portable conditional count."""
    return f"SUM(CASE WHEN {condition} THEN 1 ELSE 0 END)"


def ratio_check(
    name: str,
    check_type: CheckType,
    predicate: str,
    *,
    columns: Iterable[str],
    scope: str = "TRUE",
    threshold: float = 1.0,
    level: Level = Level.ERROR,
    example: str | None = None,
    description: str = "",
) -> Check:
    """Share of in-scope rows satisfying ``predicate`` must be ≥ ``threshold``.

    ``example`` is an expression whose value for one failing row goes into the evidence.
    """
    everywhere = scope == "TRUE"
    in_scope = "TRUE" if everywhere else f"({scope})"
    failing = f"NOT ({predicate})" if everywhere else f"{in_scope} AND NOT ({predicate})"
    extras: tuple[tuple[str, str], ...] = ()
    if example is not None:
        extras = (
            (
                "example_failing_value",
                f"MIN(CASE WHEN {failing} THEN CAST({example} AS VARCHAR) END)",
            ),
        )
    if everywhere:
        checked, passed = "COUNT(*)", count_if(predicate)
    else:
        checked, passed = count_if(in_scope), count_if(f"{in_scope} AND ({predicate})")
    return Check(
        name=name,
        check_type=check_type,
        level=level,
        constraint=Constraint(
            metric=None,
            comparison=">=",
            threshold=threshold,
            checked=checked,
            passed=passed,
            extras=extras,
        ),
        columns=tuple(columns),
        description=description,
    )


def is_complete(column: str, *, level: Level = Level.ERROR) -> Check:
    """Every row has ``column`` (non-null share = 1.0)."""
    return has_completeness(column, 1.0, level=level)


def has_completeness(column: str, threshold: float, *, level: Level = Level.ERROR) -> Check:
    """Non-null share of ``column`` ≥ ``threshold``."""
    return Check(
        name=f"completeness_{column}",
        check_type=CheckType.COMPLETENESS,
        level=level,
        constraint=Constraint(
            metric=None,
            comparison=">=",
            threshold=threshold,
            checked="COUNT(*)",
            passed=f"COUNT({ident(column)})",
        ),
        columns=(column,),
        description=f"share of rows with {column} set ≥ {threshold:g}",
    )


def is_contained_in(
    column: str, allowed: Iterable[str], *, level: Level = Level.ERROR, name: str | None = None
) -> Check:
    """Every non-null ``column`` value is one of ``allowed`` (NULLs are left to completeness)."""
    values = tuple(allowed)
    in_list = ", ".join(_sql_literal(v) for v in values)
    return ratio_check(
        name or f"validity_{column}_in_allowed_values",
        CheckType.VALIDITY,
        f"{ident(column)} IN ({in_list})",
        columns=(column,),
        scope=f"{ident(column)} IS NOT NULL",
        level=level,
        example=ident(column),
        description=f"{column} ∈ {{{', '.join(values)}}}",
    )


def is_non_negative(column: str, *, level: Level = Level.ERROR) -> Check:
    """``MIN(column) ≥ 0`` over non-null values; the metric is the minimum itself."""
    col = ident(column)
    return Check(
        name=f"validity_{column}_non_negative",
        check_type=CheckType.VALIDITY,
        level=level,
        constraint=Constraint(
            metric=f"MIN({col})",
            comparison=">=",
            threshold=0.0,
            checked=f"COUNT({col})",
            passed=count_if(f"{col} >= 0"),
        ),
        columns=(column,),
        description=f"{column} ≥ 0",
    )


def has_max(column: str, maximum: float, *, level: Level = Level.ERROR) -> Check:
    """``MAX(column) ≤ maximum`` over non-null values; the metric is the maximum itself."""
    col = ident(column)
    return Check(
        name=f"validity_{column}_max_check",
        check_type=CheckType.VALIDITY,
        level=level,
        constraint=Constraint(
            metric=f"MAX({col})",
            comparison="<=",
            threshold=float(maximum),
            checked=f"COUNT({col})",
            passed=count_if(f"{col} <= {maximum:g}"),
        ),
        columns=(column,),
        description=f"{column} ≤ {maximum:g}",
    )


def is_unique(*columns: str, name: str | None = None, level: Level = Level.ERROR) -> Check:
    """Distinct share of the key = 1.0 (every key occurs once); NULL keys are not counted.

    The metric is distinctness (distinct keys / non-null keys); records_failed = surplus rows.
    """
    if len(columns) == 1:
        key = ident(columns[0])
        not_null = f"{key} IS NOT NULL"
    else:
        key = "CONCAT(" + ", '|', ".join(f"CAST({ident(c)} AS VARCHAR)" for c in columns) + ")"
        not_null = " AND ".join(f"{ident(c)} IS NOT NULL" for c in columns)
    checked = count_if(not_null)
    distinct = f"COUNT(DISTINCT CASE WHEN {not_null} THEN {key} END)"
    return Check(
        name=name or f"uniqueness_{'_'.join(columns)}",
        check_type=CheckType.UNIQUENESS,
        level=level,
        constraint=Constraint(
            metric=None,  # distinct keys / non-null keys
            comparison=">=",
            threshold=1.0,
            checked=checked,
            passed=distinct,
        ),
        columns=tuple(columns),
        description=f"({', '.join(columns)}) occurs once per row",
    )


def has_p95_latency(
    name: str, start: str, end: str, max_seconds: float, *, level: Level = Level.WARNING
) -> Check:
    """P95 of |end − start| in seconds ≤ ``max_seconds`` over rows having both timestamps."""
    latency = f"ABS(epoch({ident(end)}) - epoch({ident(start)}))"
    scope = f"{ident(start)} IS NOT NULL AND {ident(end)} IS NOT NULL"
    return Check(
        name=name,
        check_type=CheckType.TIMELINESS,
        level=level,
        constraint=Constraint(
            metric=f"PERCENTILE_CONT(0.95) WITHIN GROUP (ORDER BY {latency})",
            comparison="<=",
            threshold=max_seconds,
            checked=count_if(scope),
            passed=count_if(f"{scope} AND {latency} <= {max_seconds:g}"),
        ),
        columns=(start, end),
        description=f"95% of rows reach the table within {max_seconds:g} s of the event",
    )
