"""Run the declared data-quality checks on Spark: same compiled queries, transpiled by sqlglot.

:mod:`wikistream.quality.engine` compiles every check into DuckDB-dialect aggregate queries.
:func:`to_spark_sql` turns one into Spark SQL with sqlglot, fixing the two places where a literal
translation would change the number: ``epoch(ts)`` keeps its fractional seconds
(``CAST(ts AS DOUBLE)``, not ``UNIX_TIMESTAMP``), and ``PERCENTILE_CONT`` stays exact
(``PERCENTILE``, not ``PERCENTILE_APPROX``). Judging (PASSED/FAILED/…) is the engine's own, so a
metric equal on both engines gets the same verdict.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from wikistream.errors import DependencyMissingError, QueryError
from wikistream.quality.checks import Check
from wikistream.quality.engine import RELATION, CheckResult, evaluate_with

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession


def _sqlglot() -> Any:
    try:
        import sqlglot
    except ImportError as exc:
        raise DependencyMissingError("running DQ checks on Spark", "spark", "sqlglot") from exc
    return sqlglot


@functools.lru_cache(maxsize=256)
def to_spark_sql(sql: str) -> str:
    """Transpile one DuckDB aggregate query to Spark SQL with the same numeric meaning."""
    sqlglot = _sqlglot()
    from sqlglot import exp

    def rewrite(node: Any) -> Any:
        if isinstance(node, exp.TimeToUnix):  # DuckDB epoch(): seconds with microseconds
            return exp.Cast(this=node.this, to=exp.DataType.build("DOUBLE"))
        if isinstance(node, exp.WithinGroup) and isinstance(node.this, exp.PercentileCont):
            # exact, linear interpolation: the same value as DuckDB's PERCENTILE_CONT. A
            # replaced node's children are not visited again: rewrite the argument here.
            value = node.expression.expressions[0].this.transform(rewrite)
            return exp.Anonymous(this="PERCENTILE", expressions=[value, node.this.this])
        return node

    try:
        tree = sqlglot.parse_one(sql, read="duckdb")
    except sqlglot.errors.ParseError as exc:
        raise QueryError(f"cannot parse DQ query for Spark: {exc}") from exc
    return str(tree.transform(rewrite).sql(dialect="spark"))


class SparkAggregateRunner:
    """An :class:`~wikistream.quality.engine.AggregateRunner` over a Spark temp view ``slice``."""

    def __init__(self, spark: SparkSession) -> None:
        self.spark = spark

    def fetch_row(self, sql: str) -> tuple[Any, ...]:
        """Transpile and run ``sql``; Spark analysis/runtime errors become :class:`QueryError`."""
        spark_sql = to_spark_sql(sql)
        try:
            rows = self.spark.sql(spark_sql).collect()
        except Exception as exc:  # AnalysisException, or py4j's types for JVM failures
            raise QueryError(f"{type(exc).__name__}: {exc}") from exc
        return tuple(rows[0]) if rows else ()


def evaluate_spark(
    checks: Sequence[Check], frame: DataFrame, *, table_name: str
) -> list[CheckResult]:
    """Run ``checks`` over ``frame`` on Spark; results are judged exactly as on DuckDB."""
    frame.createOrReplaceTempView(RELATION)
    try:
        return evaluate_with(
            checks, SparkAggregateRunner(frame.sparkSession), table_name=table_name
        )
    finally:
        frame.sparkSession.catalog.dropTempView(RELATION)
