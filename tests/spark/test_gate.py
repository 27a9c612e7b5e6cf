"""The DQ gate on Spark over Iceberg tables written by pyiceberg (marker `spark`)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from pyiceberg.catalog import Catalog

from tests.quality.rows import T0, bronze_row, table
from wikistream.lake.catalog import ensure_table, open_catalog
from wikistream.lake.schemas import BRONZE, QUALITY_RESULTS
from wikistream.quality.checks import Status
from wikistream.quality.gate import run_gate
from wikistream.quality.slices import SliceSpec
from wikistream.settings import Settings
from wikistream.spark.tables import DateRange

pytestmark = [pytest.mark.spark, pytest.mark.slow]
DAY = T0.date()


@pytest.fixture(scope="module")
def lake(spark_settings: Settings) -> Catalog:
    """Bronze rows on two days written by pyiceberg, one bad row among them."""
    catalog = open_catalog(spark_settings)
    rows = [bronze_row(i) for i in range(40)]
    rows += [bronze_row(100 + i, event_timestamp=T0 - timedelta(days=1)) for i in range(10)]
    rows.append(bronze_row(200, event_type="bogus"))  # fails validity_event_type (error)
    ensure_table(catalog, BRONZE).append(table(BRONZE, rows))
    return catalog


def test_bronze_gate_on_spark_matches_duckdb_and_is_recorded(
    spark: Any, spark_settings: Settings, lake: Catalog
) -> None:
    from wikistream.spark.gate import run_spark_gate

    on_spark = run_spark_gate(spark, spark_settings, "bronze", DateRange(DAY, DAY))
    on_duckdb = run_gate(spark_settings, lake, "bronze", SliceSpec((DAY.isoformat(),)), write=False)
    assert not on_spark.passed
    assert on_spark.slices[0].rows == 41
    assert on_spark.slices[0].data_dates == (DAY.isoformat(),)
    duck = {r.check_name: r for r in on_duckdb.results}
    for result in on_spark.results:
        expected = duck[result.check_name]
        assert (result.status, result.records_failed) == (expected.status, expected.records_failed)
        assert result.metric_value == pytest.approx(expected.metric_value), result.check_name
    failed = [r.check_name for r in on_spark.results if r.status is Status.FAILED]
    assert failed == ["validity_event_type_in_allowed_values"]
    # the audit rows are in the lake, readable by the laptop side (pyiceberg)
    stored = lake.load_table(QUALITY_RESULTS.identifier).scan().to_arrow().to_pylist()
    mine = [r for r in stored if r["run_id"] == on_spark.run_id]
    assert len(mine) == len(on_spark.results)
    assert {r["status"] for r in mine} >= {"PASSED", "FAILED"}
    assert all('"engine":"spark"' in r["slice"] for r in mine)


def test_an_empty_range_is_one_skipped_row(
    spark: Any, spark_settings: Settings, lake: Catalog
) -> None:
    from wikistream.spark.gate import run_spark_gate

    far = date(2030, 1, 1)
    result = run_spark_gate(spark, spark_settings, "bronze", DateRange(far, far), write=False)
    assert result.passed
    assert [(r.check_name, r.status) for r in result.results] == [
        ("slice_not_empty", Status.SKIPPED)
    ]


def test_cli_dq_job_exits_1_on_a_failed_gate(
    spark: Any, spark_settings: Settings, lake: Catalog, capsys: pytest.CaptureFixture[str]
) -> None:
    from wikistream.spark.cli import main

    argv = ["--data-dir", str(spark_settings.data_dir), "dq", "--layer", "bronze", "--no-write"]
    day = DAY.isoformat()
    assert main([*argv, "--from", day, "--to", day], spark=spark) == 1
    assert '"passed": false' in capsys.readouterr().out
    yesterday = (DAY - timedelta(days=1)).isoformat()
    assert main([*argv, "--from", yesterday, "--to", yesterday], spark=spark) == 0


def test_spark_leaves_sqlite_unlocked(spark: Any, spark_settings: Settings, lake: Catalog) -> None:
    """Catalog reads by the JVM must not keep a SQLite lock that blocks the laptop's writers."""
    import sqlite3

    spark.sql("SHOW NAMESPACES IN wikistream").collect()
    spark.sql("SHOW TABLES IN wikistream.bronze").collect()
    con = sqlite3.connect(spark_settings.data_dir / "catalog.db", timeout=1)
    try:
        con.execute("BEGIN EXCLUSIVE")
        con.rollback()
    finally:
        con.close()
