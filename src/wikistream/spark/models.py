"""Run the silver and gold SQL models (``lake/sql/*.sql``) on Spark SQL, unchanged.

The models are written in the SQL subset DuckDB and Spark share (see :mod:`wikistream.lake.
transform`), so Spark runs the very text DuckDB runs, with the same ``{placeholders}`` filled
by the same parameters. Inputs are temp views named as the model expects; Spark analyses a
query when :meth:`SparkSession.sql` returns, so the views can be dropped right after.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from wikistream.errors import LakeError
from wikistream.lake import transform
from wikistream.lake.schemas import SCHEMA_VERSION
from wikistream.lake.silver import model_params

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

EXISTING_SCHEMA = (
    "event_date STRING, event_id STRING, log_partition INT, log_offset BIGINT, "
    "bronze_processed_at TIMESTAMP"
)
GOLD_MODELS = {
    "gold.hourly_stats": "gold_hourly_stats",
    "gold.risk_scores": "gold_risk_scores",
    "gold.daily_analytics_summary": "gold_daily_summary",
}


def run_model_spark(
    spark: SparkSession,
    name: str,
    views: Mapping[str, DataFrame],
    params: Mapping[str, str] | None = None,
) -> DataFrame:
    """Model ``name`` over ``views`` as a (lazy) Spark DataFrame."""
    sql = transform.render_model(name, params)
    for view, frame in views.items():
        frame.createOrReplaceTempView(view)
    try:
        return spark.sql(sql)
    except Exception as exc:  # AnalysisException / ParseException from the JVM
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise LakeError(f"SQL model {name!r} failed on Spark: {first}") from exc
    finally:
        for view in views:
            spark.catalog.dropTempView(view)


def silver_frame(
    spark: SparkSession, bronze: DataFrame, existing: DataFrame | None = None
) -> DataFrame:
    """Silver rows for ``bronze`` rows (``existing``: stored silver keys they contest with).

    ``bronze`` must be cached or otherwise deterministic (see ``batch_row`` below).
    """
    from pyspark.sql import functions as f

    if existing is None:
        existing = spark.createDataFrame([], EXISTING_SCHEMA)
    # `user` is a reserved word in SQL dialects; the model reads the raw name as user_raw.
    # batch_row only has to be unique within the batch; it is stable across the model's two
    # reads of the batch because the caller hands in a cached (materialised) frame.
    batch = bronze.withColumnRenamed("user", "user_raw").withColumn(
        "batch_row", f.monotonically_increasing_id()
    )
    out = run_model_spark(
        spark,
        "silver_cleaned_events",
        {"bronze_batch": batch, "silver_existing": existing},
        model_params(),
    )
    return out.drop("replaces_existing").withColumn("silver_processed_at", f.current_timestamp())


def gold_frames(spark: SparkSession, silver_day: DataFrame) -> dict[str, DataFrame]:
    """The three gold tables (keyed by identifier) from every silver row of some dates."""
    from pyspark.sql import functions as f

    params = {"schema_version": transform.sql_string(SCHEMA_VERSION)}
    out = {}
    for identifier in ("gold.hourly_stats", "gold.risk_scores"):
        views = {"silver_day": silver_day}
        out[identifier] = run_model_spark(spark, GOLD_MODELS[identifier], views, params)
    daily_views = {"silver_day": silver_day, "risk_day": out["gold.risk_scores"]}
    out["gold.daily_analytics_summary"] = run_model_spark(
        spark, GOLD_MODELS["gold.daily_analytics_summary"], daily_views, params
    )
    return {k: v.withColumn("gold_processed_at", f.current_timestamp()) for k, v in out.items()}
