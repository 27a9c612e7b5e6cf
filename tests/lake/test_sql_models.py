"""The SQL models are portable: static checks, and (marker `spark`) equal results on Spark."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from tests.lake.bronze_rows import bronze_table, event, repeat
from tests.lake.test_gold_golden import HAND_DAY
from wikistream.lake import transform
from wikistream.lake.gold import compute_gold
from wikistream.lake.schemas import SCHEMA_VERSION, SILVER
from wikistream.lake.silver import EXISTING_COLUMNS, batch_view, clean_batch, model_params
from wikistream.settings import Settings

MODELS = sorted(
    p.name.removesuffix(".sql")
    for p in resources.files("wikistream.lake").joinpath("sql").iterdir()
    if p.name.endswith(".sql")
)
PARAMS = {**model_params(), "schema_version": transform.sql_string(SCHEMA_VERSION)}


def test_models_are_shipped() -> None:
    assert MODELS == [
        "gold_daily_summary",
        "gold_hourly_stats",
        "gold_risk_scores",
        "silver_cleaned_events",
    ]


@pytest.mark.parametrize("name", MODELS)
def test_models_use_the_portable_subset(name: str) -> None:
    text = transform.read_model(name)
    code = "\n".join(line.split("--", 1)[0] for line in text.splitlines())
    assert "::" not in code, "use CAST(x AS T), not x::T"
    assert "\\" not in code, "backslashes mean different things in DuckDB and Spark literals"
    outside_literals = re.sub(r"'(?:[^']|'')*'", "''", code)
    assert '"' not in outside_literals, "no double-quoted identifiers (Spark reads them as strings)"
    for duckdb_only in ("regexp_matches", "strftime", "list_", "struct_pack", "epoch_ms"):
        assert duckdb_only not in code.lower()
    placeholders = set(re.findall(r"\{([a-z_]+)\}", code))
    assert placeholders <= set(PARAMS)


@pytest.mark.parametrize("name", MODELS)
def test_models_parse_as_spark_sql(name: str) -> None:
    sqlglot = pytest.importorskip("sqlglot")
    rendered = transform.render_model(name, PARAMS)
    (tree,) = sqlglot.parse(rendered, read="spark")
    assert tree is not None
    assert sqlglot.transpile(rendered, read="spark", write="duckdb")


def duckdb_results(bronze: pa.Table) -> dict[str, list[dict[str, Any]]]:
    settings = Settings(data_dir=Path("/nonexistent"))
    with transform.connect(settings) as con:
        empty = SILVER.schema().select(*EXISTING_COLUMNS).as_arrow().empty_table()
        silver, _ = clean_batch(con, bronze, empty)
        gold = compute_gold(con, silver)
    out = {"silver": silver.to_pylist(), **{k: v.to_pylist() for k, v in gold.items()}}
    for rows in out.values():
        for row in rows:
            row.pop("silver_processed_at", None)
            row.pop("gold_processed_at", None)
    return out


def _normalize(rows: list[dict[str, Any]]) -> list[tuple[tuple[str, Any], ...]]:
    return sorted(tuple(sorted((k, _plain(v)) for k, v in r.items())) for r in rows)


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):  # Spark collects naive UTC (session time zone UTC)
        return value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value
    if isinstance(value, float):
        return round(value, 9)
    return value


SPARK_TYPES = {
    "string": "STRING",
    "large_string": "STRING",
    "int32": "INT",
    "int64": "BIGINT",
    "bool": "BOOLEAN",
}


def spark_ddl(schema: pa.Schema) -> str:
    def spark_type(t: pa.DataType) -> str:
        return "TIMESTAMP" if pa.types.is_timestamp(t) else SPARK_TYPES[str(t)]

    return ", ".join(f"{f.name} {spark_type(f.type)}" for f in schema)


def check_models_on_spark(spark: Any) -> None:
    """The four models give DuckDB's rows on ``spark`` (run by tests/spark/test_model_rows.py,
    which owns the shared session: a second JVM session without the Iceberg jars would break it).
    """
    rows = [
        *HAND_DAY,
        *repeat(30, 100, user="203.0.113.7", at="2026-02-26 04:00"),
        *repeat(6, 200, user="~2026-5-5", at="2026-02-25 23:59", delta=-6000),
        event(300, user="  Ctl\x07rl ", at="2026-02-25 01:00", domain="www.wikidata.org"),
    ]
    bronze = bronze_table(rows)
    expected = duckdb_results(bronze)
    # the same input view the DuckDB runner builds (user → user_raw, plus batch_row)
    batch = batch_view(bronze).drop_columns(["raw_event"])
    spark.createDataFrame(batch.to_pylist(), spark_ddl(batch.schema)).createOrReplaceTempView(
        "bronze_batch"
    )
    spark.sql(
        "SELECT CAST(NULL AS STRING) AS event_date, CAST(NULL AS STRING) AS event_id, "
        "CAST(NULL AS INT) AS log_partition, CAST(NULL AS BIGINT) AS log_offset, "
        "CAST(NULL AS TIMESTAMP) AS bronze_processed_at WHERE FALSE"
    ).createOrReplaceTempView("silver_existing")
    silver = spark.sql(transform.render_model("silver_cleaned_events", PARAMS))
    silver.drop("replaces_existing").createOrReplaceTempView("silver_day")
    got: dict[str, Any] = {"silver": silver.drop("replaces_existing")}
    for name, model in (
        ("gold.hourly_stats", "gold_hourly_stats"),
        ("gold.risk_scores", "gold_risk_scores"),
    ):
        got[name] = spark.sql(transform.render_model(model, PARAMS))
    got["gold.risk_scores"].createOrReplaceTempView("risk_day")
    got["gold.daily_analytics_summary"] = spark.sql(
        transform.render_model("gold_daily_summary", PARAMS)
    )
    for name, frame in got.items():
        spark_rows = [r.asDict() for r in frame.collect()]
        spark_set, duck_set = _normalize(spark_rows), _normalize(expected[name])
        only_spark = [r for r in spark_set if r not in duck_set]
        only_duck = [r for r in duck_set if r not in spark_set]
        assert (only_spark, only_duck) == ([], []), name
