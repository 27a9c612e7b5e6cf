"""DQ checks on Spark give the same metrics and verdicts as on DuckDB (marker `spark`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.quality.rows import table
from tests.quality.test_checks import CASES, LAYERS, Changes
from tests.spark.conftest import to_frame
from wikistream.quality.checks import CheckType, Status, is_complete, ratio_check
from wikistream.quality.engine import CheckResult, evaluate

pytestmark = [pytest.mark.spark, pytest.mark.slow]


def mixed_rows(layer: str, pick: str) -> list[dict[str, Any]]:
    """Every case's good (or bad) fixture of ``layer``, one block of rows per case."""
    _, _, builder = LAYERS[layer]
    rows: list[dict[str, Any]] = []
    for case in CASES[layer]:
        changes: Changes = case.bad if pick == "bad" else case.good
        offset = len(rows)
        rows.extend(builder(i + offset, **changes.get(i, {})) for i in range(case.n))
    return rows


def comparable(result: CheckResult) -> tuple[Any, ...]:
    metric = None if result.metric_value is None else round(result.metric_value, 9)
    return (
        result.status,
        metric,
        result.records_checked,
        result.records_passed,
        result.records_failed,
    )


@pytest.mark.parametrize("pick", ["good", "bad"])
def test_every_check_gives_the_same_result_on_spark_and_duckdb(
    spark: Any, frames_dir: Path, pick: str
) -> None:
    from wikistream.spark.dq import evaluate_spark

    statuses: set[Status] = set()
    for layer, (checks, defn, _) in LAYERS.items():
        relation = table(defn, mixed_rows(layer, pick), strict=False)
        duck = evaluate(checks, relation, table_name=defn.identifier)
        frame = to_frame(spark, relation, frames_dir)
        on_spark = evaluate_spark(checks, frame, table_name=defn.identifier)
        assert [r.check_name for r in on_spark] == [c.name for c in checks]
        for d, s in zip(duck, on_spark, strict=True):
            assert comparable(s) == comparable(d), (layer, d.check_name, s.message, d.message)
        statuses.update(r.status for r in on_spark)
    if pick == "bad":  # the mix really exercises failing checks, not only passing ones
        assert {Status.FAILED, Status.WARNING} <= statuses


def test_a_broken_check_is_one_error_row_on_spark(spark: Any, frames_dir: Path) -> None:
    from wikistream.spark.dq import evaluate_spark

    _, defn, builder = LAYERS["bronze"]
    frame = to_frame(spark, table(defn, [builder(i) for i in range(5)]), frames_dir)
    broken = ratio_check(
        "validity_no_such_column", CheckType.VALIDITY, "no_such_column > 0", columns=("x",)
    )
    results = evaluate_spark([is_complete("event_id"), broken], frame, table_name=defn.identifier)
    assert [r.status for r in results] == [Status.PASSED, Status.ERROR]
    assert "no_such_column" in results[1].message
    assert results[1].blocking
