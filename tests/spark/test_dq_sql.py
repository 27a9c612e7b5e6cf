"""Transpiling the compiled DQ queries to Spark SQL keeps their numeric meaning."""

from __future__ import annotations

import pytest

from wikistream.quality.catalogue import (
    BRONZE_CHECKS,
    GOLD_HOURLY_CHECKS,
    GOLD_RISK_CHECKS,
    SILVER_CHECKS,
)
from wikistream.quality.engine import compile_checks
from wikistream.spark.dq import to_spark_sql

pytest.importorskip("sqlglot")


def test_epoch_keeps_fractional_seconds() -> None:
    sql = to_spark_sql("SELECT MAX(epoch(b) - epoch(a)) FROM slice")
    assert "UNIX_TIMESTAMP" not in sql.upper()
    assert sql.upper().count("AS DOUBLE") == 2


def test_epoch_inside_a_percentile_keeps_fractional_seconds() -> None:
    sql = to_spark_sql(
        "SELECT PERCENTILE_CONT(0.95) WITHIN GROUP (ORDER BY ABS(epoch(b) - epoch(a))) FROM slice"
    )
    assert "UNIX_TIMESTAMP" not in sql.upper()
    assert "PERCENTILE(ABS(CAST(B AS DOUBLE) - CAST(A AS DOUBLE)), 0.95)" in sql.upper()


def test_percentile_stays_exact() -> None:
    sql = to_spark_sql("SELECT PERCENTILE_CONT(0.95) WITHIN GROUP (ORDER BY x) FROM slice")
    assert "APPROX" not in sql.upper()
    assert sql.upper().replace(" ", "") == "SELECTPERCENTILE(X,0.95)FROMSLICE"


@pytest.mark.parametrize(
    "checks", [BRONZE_CHECKS, SILVER_CHECKS, GOLD_HOURLY_CHECKS, GOLD_RISK_CHECKS]
)
def test_every_catalogue_query_transpiles(checks: tuple) -> None:  # type: ignore[type-arg]
    for query in compile_checks(checks):
        sql = to_spark_sql(query.sql)
        assert "FROM slice" in sql
        assert "regexp_matches" not in sql.lower()
        assert "percentile_approx" not in sql.lower()
