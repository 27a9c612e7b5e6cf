"""Silver and gold on Spark: rebuild a date range (or everything) from the layer below.

The Spark engine is for backfills and rebuilds at scale; the incremental cycle stays on DuckDB
(:mod:`wikistream.lake.silver`, :mod:`wikistream.lake.gold`). A range is recomputed from all
upstream rows of its dates and replaced in one Iceberg commit per table, so readers never see a
half-rebuilt range. A full rebuild (no dates) also moves the table's cursor to the upstream
snapshot it read, exactly as :func:`wikistream.lake.refresh.rebuild` does, so the next
incremental run continues from there.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

from wikistream.errors import ConfigError
from wikistream.lake import gold as gold_step
from wikistream.lake import silver as silver_step
from wikistream.lake.changes import Cursor
from wikistream.lake.schemas import (
    BRONZE,
    DAILY_SUMMARY,
    HOURLY_STATS,
    RISK_SCORES,
    SILVER,
    TableDef,
)
from wikistream.spark.models import gold_frames, silver_frame
from wikistream.spark.tables import (
    DateRange,
    current_snapshot,
    ensure_tables,
    qualified,
    read_range,
    replace_range,
    set_properties,
)

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

    from wikistream.settings import Settings

GOLD_KEYS: dict[str, tuple[str, tuple[str, ...]]] = {
    # table → (its date column, its grain)
    HOURLY_STATS.identifier: ("stat_date", ("stat_date", "stat_hour", "domain")),
    RISK_SCORES.identifier: ("stat_date", ("stat_date", "entity_id")),
    DAILY_SUMMARY.identifier: ("summary_date", ("summary_date",)),
}


@dataclass
class SparkStepResult:
    """What one Spark rebuild did (JSON via :meth:`as_dict`)."""

    layer: str
    dates: DateRange
    rows_in: int = 0
    # from each commit's snapshot summary: copy-on-write rewrites of kept rows count too
    rows_written: dict[str, int] = field(default_factory=dict)
    rows_removed: dict[str, int] = field(default_factory=dict)
    upstream_snapshot: int | None = None
    cursor_moved: bool = False
    duration_s: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        """JSON-friendly form for the CLI."""
        return {
            "engine": "spark",
            "layer": self.layer,
            "dates": self.dates.describe(),
            "rows_in": self.rows_in,
            "rows_written": dict(self.rows_written),
            "rows_removed": dict(self.rows_removed),
            "upstream_snapshot": self.upstream_snapshot,
            "cursor_moved": self.cursor_moved,
            "duration_s": round(self.duration_s, 3),
        }


def _last_commit(spark: SparkSession, settings: Settings, table: TableDef) -> tuple[int, int]:
    """(added, deleted) records of the table's newest snapshot, from its summary."""
    rows = spark.sql(
        f"SELECT summary['added-records'], summary['deleted-records'] "
        f"FROM {qualified(settings, table)}.snapshots ORDER BY committed_at DESC LIMIT 1"
    ).collect()
    if not rows:
        return 0, 0
    added, deleted = rows[0]
    return int(added or 0), int(deleted or 0)


def _record(
    spark: SparkSession, settings: Settings, table: TableDef, result: SparkStepResult
) -> None:
    added, deleted = _last_commit(spark, settings, table)
    result.rows_written[table.identifier] = added
    result.rows_removed[table.identifier] = deleted


def build_silver(spark: SparkSession, settings: Settings, dates: DateRange) -> SparkStepResult:
    """Rebuild ``silver.cleaned_events`` for ``dates`` from bronze, in one commit."""
    started = time.monotonic()
    ensure_tables(spark, settings, BRONZE, SILVER)
    snapshot, sequence = current_snapshot(spark, settings, BRONZE)
    result = SparkStepResult("silver", dates, upstream_snapshot=snapshot or None)
    bronze = read_range(
        spark,
        settings,
        BRONZE,
        dates.time_sql("event_timestamp"),
        silver_step.BRONZE_COLUMNS,
        snapshot_id=snapshot or None,
    ).cache()
    try:
        result.rows_in = bronze.count()
        rows = silver_frame(spark, bronze)
        replace_range(
            spark, settings, SILVER, rows, "event_date", dates, ("event_date", "event_id")
        )
    finally:
        bronze.unpersist()
    _record(spark, settings, SILVER, result)
    if dates.full and snapshot:
        cursor = Cursor(snapshot, sequence)
        set_properties(spark, settings, SILVER, cursor.to_properties(silver_step.CURSOR_PREFIX))
        result.cursor_moved = True
    result.duration_s = time.monotonic() - started
    return result


def build_gold(spark: SparkSession, settings: Settings, dates: DateRange) -> SparkStepResult:
    """Rebuild the three gold tables for ``dates`` from silver, one commit per table."""
    started = time.monotonic()
    tables = (HOURLY_STATS, RISK_SCORES, DAILY_SUMMARY)
    ensure_tables(spark, settings, SILVER, *tables)
    snapshot, sequence = current_snapshot(spark, settings, SILVER)
    result = SparkStepResult("gold", dates, upstream_snapshot=snapshot or None)
    silver_day = read_range(
        spark,
        settings,
        SILVER,
        dates.sql("event_date"),
        gold_step.SILVER_COLUMNS,
        snapshot_id=snapshot or None,
    ).cache()
    try:
        result.rows_in = silver_day.count()
        frames = gold_frames(spark, silver_day)
        risk = frames[RISK_SCORES.identifier].cache()  # also an input of the daily summary
        frames[RISK_SCORES.identifier] = risk
        try:
            for table in tables:
                column, keys = GOLD_KEYS[table.identifier]
                frame = frames[table.identifier]
                replace_range(spark, settings, table, frame, column, dates, keys)
                _record(spark, settings, table, result)
        finally:
            risk.unpersist()
    finally:
        silver_day.unpersist()
    if dates.full and snapshot:
        properties = Cursor(snapshot, sequence).to_properties(gold_step.CURSOR_PREFIX)
        for table in tables:
            set_properties(spark, settings, table, properties)
        result.cursor_moved = True
    result.duration_s = time.monotonic() - started
    return result


LAYERS = ("silver", "gold")


def rebuild_on_spark(
    settings: Settings,
    layer: str,
    first: date | None = None,
    last: date | None = None,
    *,
    spark: SparkSession | None = None,
) -> SparkStepResult:
    """``wikistream rebuild --engine spark``: rebuild ``layer`` for the dates on Spark.

    Arguments are checked before a JVM starts. A session passed in, or already running in this
    process, is left running (it gets the lake's catalog registered); one started here is
    stopped at the end.
    """
    if layer not in LAYERS:
        raise ConfigError(
            f"unknown layer {layer!r}; choose one of: {', '.join(LAYERS)}", key="layer"
        )
    if first and last and first > last:
        raise ConfigError(
            f"--from {first} is after --to {last}; give an increasing date range", key="date_from"
        )
    dates = DateRange(first, last)
    own = False
    if spark is None:
        from wikistream.spark.session import open_spark, running_spark

        own = running_spark() is None
        spark = open_spark(settings)
    try:
        build = build_silver if layer == "silver" else build_gold
        return build(spark, settings, dates)
    finally:
        if own:
            spark.stop()
