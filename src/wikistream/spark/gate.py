"""A layer's declared DQ checks on Spark over a date range, recorded in ``dq_audit`` via Spark.

The checks, their compilation and their judging are those of :mod:`wikistream.quality`; only the
engine differs (:mod:`wikistream.spark.dq`). Not run here (the laptop gate runs them, as they
read other tables and earlier runs through pyiceberg): silver's rows-vs-bronze check, gold's
upstream-gate check, column profiles and drift.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from wikistream.clock import utc_now
from wikistream.lake.schemas import QUALITY_RESULTS
from wikistream.quality.engine import CheckResult
from wikistream.quality.gate import (
    GateResult,
    empty_result,
    layer_tables,
    new_run_id,
    result_row,
)
from wikistream.quality.slices import SliceInfo
from wikistream.spark.dq import evaluate_spark
from wikistream.spark.tables import (
    DateRange,
    current_snapshot,
    ensure_tables,
    qualified,
    read_range,
)

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

    from wikistream.settings import Settings

EMPTY_CHECK = "slice_not_empty"


def run_spark_gate(
    spark: SparkSession,
    settings: Settings,
    layer: str,
    dates: DateRange,
    *,
    write: bool = True,
    clock: Callable[[], datetime] = utc_now,
) -> GateResult:
    """Check ``layer``'s tables over ``dates`` on Spark; append the result rows unless ``write``
    is false. A failing gate is a normal result (``passed=False``), not an exception."""
    gates = layer_tables(layer)
    started = time.perf_counter()
    now = clock()
    results: list[CheckResult] = []
    infos: list[SliceInfo] = []
    for gate in gates:
        ensure_tables(spark, settings, gate.table)
        snapshot, _ = current_snapshot(spark, settings, gate.table)
        frame = read_range(
            spark,
            settings,
            gate.table,
            dates.sql(f"`{gate.date_column}`"),
            gate.columns(settings),
            snapshot_id=snapshot or None,
        ).cache()
        try:
            present = sorted(
                str(row[0])
                for row in frame.select(gate.date_column).distinct().collect()
                if row[0] is not None
            )
            rows = frame.count()
            infos.append(
                SliceInfo(
                    table_name=gate.table.identifier,
                    dates=_listed(dates),
                    data_dates=tuple(present),
                    rows=rows,
                    snapshot_id=snapshot or None,
                    extra={"engine": "spark"},
                )
            )
            if rows == 0:
                results.append(empty_result(gate, dates.describe()))
                continue
            checks = gate.checks(settings)
            results.extend(evaluate_spark(checks, frame, table_name=gate.table.identifier))
        finally:
            frame.unpersist()
    result = GateResult(
        run_id=new_run_id(now),
        layer=layer,
        run_timestamp=now,
        passed=not any(r.blocking for r in results),
        results=tuple(results),
        slices=tuple(infos),
        duration_s=time.perf_counter() - started,
    )
    if write:
        write_results(spark, settings, result)
    return result


def write_results(spark: SparkSession, settings: Settings, result: GateResult) -> None:
    """Append ``result``'s rows to ``dq_audit.quality_results`` (one Iceberg commit)."""
    ensure_tables(spark, settings, QUALITY_RESULTS)
    rows = [result_row(result, r) for r in result.results]
    names = QUALITY_RESULTS.column_names
    target = spark.table(qualified(settings, QUALITY_RESULTS))
    frame = spark.createDataFrame([tuple(r.get(n) for n in names) for r in rows], target.schema)
    frame.writeTo(qualified(settings, QUALITY_RESULTS)).append()


def _listed(dates: DateRange) -> tuple[str, ...]:
    """Every date of a bounded range (an open range lists none, like 'all data')."""
    if dates.first is None or dates.last is None:
        return ()
    days = (dates.last - dates.first).days
    return tuple((dates.first + timedelta(days=i)).isoformat() for i in range(days + 1))
