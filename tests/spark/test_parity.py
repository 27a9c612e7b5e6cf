"""Acceptance: one bronze input gives identical silver, gold and DQ metrics on DuckDB and Spark.

Input: generated events (late events, byte-exact duplicates, a vandal burst, canaries) mapped to
bronze rows and appended in two commits. DuckDB runs the production incremental steps after each
commit in one lake; Spark rebuilds everything with ``python -m wikistream.spark silver|gold`` in
another lake. Both lakes are then read back through pyiceberg and compared row set by row set.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pyarrow as pa
import pytest
from bench.bronze_input import bronze_table
from pyiceberg.catalog import Catalog

from wikistream.ingest.generate import EventGenerator, GenerateOptions
from wikistream.lake.catalog import ensure_table, open_catalog
from wikistream.lake.gold import GoldStep
from wikistream.lake.refresh import run_silver_gold
from wikistream.lake.schemas import BRONZE, DAILY_SUMMARY, HOURLY_STATS, RISK_SCORES, SILVER
from wikistream.lake.silver import SilverStep
from wikistream.quality.gate import run_gate
from wikistream.settings import Settings, load_settings
from wikistream.spark.tables import DateRange

pytestmark = [pytest.mark.spark, pytest.mark.slow]
START = datetime(2026, 2, 26, 21, 0, tzinfo=UTC)
TABLES = (SILVER, HOURLY_STATS, RISK_SCORES, DAILY_SUMMARY)


def generated_bronze() -> pa.Table:
    options = GenerateOptions(
        events=20_000, seed=11, start=START, vandals=1, late_fraction=0.03, duplicate_fraction=0.03
    )
    return bronze_table(EventGenerator(options).lines(), START)


def rows_of(catalog: Catalog, identifier: str) -> list[tuple[Any, ...]]:
    """The table's rows as sorted tuples, without *_processed_at, floats rounded."""
    data = catalog.load_table(identifier).scan().to_arrow()
    keep = [
        n for n in data.column_names if not n.endswith("_processed_at") or n.startswith("bronze")
    ]
    out = []
    for row in data.select(keep).to_pylist():
        out.append(
            tuple((k, round(v, 9) if isinstance(v, float) else v) for k, v in sorted(row.items()))
        )
    return sorted(out, key=repr)


@pytest.fixture(scope="module")
def parity_settings(spark: Any, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """A lake of its own (catalog ``parity``), attached to the running Spark session."""
    from wikistream.spark.session import open_spark

    data_dir = tmp_path_factory.mktemp("parity-lake")
    # found by load_settings in the data dir: the CLI job below uses the same catalog
    (data_dir / "wikistream.toml").write_text('[lake]\ncatalog_name = "parity"\n')
    settings = load_settings(overrides={"data_dir": data_dir})
    assert open_spark(settings) is spark  # same JVM; the catalog is registered at run time
    return settings


@pytest.fixture(scope="module")
def lakes(
    spark: Any, parity_settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Any]:
    """Bronze in both lakes in two commits; DuckDB runs incrementally, Spark builds it all."""
    from wikistream.spark.cli import main

    bronze = generated_bronze()
    first, second = bronze.slice(0, 12_000), bronze.slice(12_000)
    duck_settings = Settings(data_dir=tmp_path_factory.mktemp("duck-lake"))
    duck = open_catalog(duck_settings)
    spark_lake = open_catalog(parity_settings)
    for part in (first, second):
        ensure_table(duck, BRONZE).append(part)
        ensure_table(spark_lake, BRONZE).append(part)
        run_silver_gold(duck_settings, duck)  # the production cycle: incremental
    argv = ["--data-dir", str(parity_settings.data_dir)]
    assert main([*argv, "silver"], spark=spark) == 0
    assert main([*argv, "gold"], spark=spark) == 0
    # a full Spark build moves the cursors: the laptop's incremental steps have nothing left to do
    assert SilverStep(parity_settings, spark_lake).run().noop
    assert GoldStep(parity_settings, spark_lake).run().noop
    return {"bronze": bronze, "duck": duck, "duck_settings": duck_settings, "spark": spark_lake}


def test_input_has_late_events_duplicates_and_a_vandal_burst(lakes: dict[str, Any]) -> None:
    bronze: pa.Table = lakes["bronze"]
    ids = bronze["event_id"].to_pylist()
    assert len(ids) - len(set(ids)) > 100  # duplicates
    dates = set(bronze["event_date"].to_pylist())
    assert len(dates) >= 3  # late events on earlier days
    risk = lakes["duck"].load_table(RISK_SCORES.identifier).scan().to_arrow()
    assert "HIGH" in risk["risk_level"].to_pylist()  # the vandal burst is scored


@pytest.mark.parametrize("table", TABLES, ids=[t.identifier for t in TABLES])
def test_spark_rows_equal_duckdb_rows(lakes: dict[str, Any], table: Any) -> None:
    duck_rows = rows_of(lakes["duck"], table.identifier)
    spark_rows = rows_of(lakes["spark"], table.identifier)
    assert duck_rows, f"{table.identifier} is empty: the comparison would prove nothing"
    duck_set, spark_set = set(duck_rows), set(spark_rows)
    only_duck = [r for r in duck_rows if r not in spark_set]
    only_spark = [r for r in spark_rows if r not in duck_set]
    assert (only_duck[:3], only_spark[:3]) == ([], [])
    assert len(duck_rows) == len(spark_rows)


@pytest.mark.parametrize("layer", ["bronze", "silver", "gold"])
def test_dq_metrics_equal_on_both_engines(
    spark: Any, parity_settings: Settings, lakes: dict[str, Any], layer: str
) -> None:
    from wikistream.spark.gate import run_spark_gate

    on_spark = run_spark_gate(spark, parity_settings, layer, DateRange(), write=False)
    on_duckdb = run_gate(lakes["duck_settings"], lakes["duck"], layer, write=False)
    duck = {(r.table_name, r.check_name): r for r in on_duckdb.results}
    assert len(on_spark.results) >= 5
    for r in on_spark.results:
        d = duck[(r.table_name, r.check_name)]
        assert (r.status, r.records_checked, r.records_failed) == (
            d.status,
            d.records_checked,
            d.records_failed,
        ), r.check_name
        assert r.metric_value == pytest.approx(d.metric_value, rel=1e-9), r.check_name
    assert [s.rows for s in on_spark.slices] == [s.rows for s in on_duckdb.slices]


def test_a_one_day_gold_rebuild_on_spark_changes_nothing_else(
    spark: Any, parity_settings: Settings, lakes: dict[str, Any]
) -> None:
    """Partitioned tables take the overwrite path, the daily summary the MERGE path."""
    from wikistream.spark.steps import build_gold

    day = date(2026, 2, 26)
    before = {t.identifier: rows_of(lakes["spark"], t.identifier) for t in TABLES[1:]}
    gold = build_gold(spark, parity_settings, DateRange(day, day))
    assert not gold.cursor_moved
    assert gold.rows_written[HOURLY_STATS.identifier] == gold.rows_removed[HOURLY_STATS.identifier]
    assert gold.rows_written[DAILY_SUMMARY.identifier] >= 1  # copy-on-write rewrites its file
    for table in TABLES[1:]:
        assert rows_of(lakes["spark"], table.identifier) == before[table.identifier]
