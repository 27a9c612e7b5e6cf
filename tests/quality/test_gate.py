"""Gate runs over a real Iceberg lake: verdicts, audit rows, empty slices, silver vs bronze."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime

import pytest
from pyiceberg.catalog import Catalog

from tests.quality.conftest import lake_table
from tests.quality.rows import T0, bronze, bronze_row, silver, table
from wikistream.errors import QualityError
from wikistream.lake.schemas import BRONZE, QUALITY_RESULTS
from wikistream.quality.checks import Status
from wikistream.quality.gate import new_run_id, run_gate
from wikistream.quality.slices import SliceSpec
from wikistream.settings import Settings

Append = Callable[[str, object], None]
Clock = Callable[[], datetime]


def _audit(catalog: Catalog, run_id: str) -> list[dict]:  # type: ignore[type-arg]
    rows = lake_table(catalog, QUALITY_RESULTS.identifier).scan().to_arrow().to_pylist()
    return [r for r in rows if r["run_id"] == run_id]


def test_run_id_format() -> None:
    run_id = new_run_id(T0)
    assert run_id.startswith("dq-20260226-100000-")
    assert len(run_id.rsplit("-", 1)[1]) == 8
    int(run_id.rsplit("-", 1)[1], 16)


def test_passing_bronze_gate_writes_audit_rows_readable_through_pyiceberg(
    settings: Settings, catalog: Catalog, append: Append, clock: Clock
) -> None:
    append(BRONZE.identifier, bronze(20))
    result = run_gate(settings, catalog, "bronze", SliceSpec(("2026-02-26",)), clock=clock)
    assert result.passed
    assert result.counts["passed"] == 17
    rows = _audit(catalog, result.run_id)
    assert len(rows) == 17
    row = next(r for r in rows if r["check_name"] == "uniqueness_event_id")
    assert row["status"] == "PASSED"
    assert row["severity"] == "error"
    assert row["metric_value"] == 1.0
    assert row["threshold_value"] == 1.0
    # zero counts are stored as 0, never NULL (seed weakness 14)
    assert row["records_failed"] == 0
    assert row["failure_rate"] == 0.0
    assert row["check_duration_ms"] is not None
    assert row["run_date"] == result.run_timestamp.date().isoformat()
    assert row["run_timestamp"] == result.run_timestamp
    slice_info = json.loads(row["slice"])
    assert slice_info["dates"] == ["2026-02-26"]
    assert slice_info["data_dates"] == ["2026-02-26"]
    assert slice_info["rows"] == 20
    assert slice_info["snapshot_id"] is not None
    assert json.loads(row["evidence"])["comparison"] == ">="
    # profiles written too
    profiles = lake_table(catalog, "dq_audit.profile_metrics").scan().to_arrow().to_pylist()
    mine = {p["column_name"]: p for p in profiles if p["run_id"] == result.run_id}
    assert set(mine) == {"event_type", "domain", "wiki", "namespace", "length_delta", "event_hour"}
    assert mine["length_delta"]["mean_value"] == 50.0
    assert mine["domain"]["null_count"] == 0


def test_empty_slice_records_a_skipped_row(
    settings: Settings, catalog: Catalog, append: Append, clock: Clock
) -> None:
    append(BRONZE.identifier, bronze(5))
    result = run_gate(settings, catalog, "bronze", SliceSpec(("2026-01-01",)), clock=clock)
    assert result.empty
    assert result.passed
    (row,) = _audit(catalog, result.run_id)
    assert row["status"] == "SKIPPED"
    assert row["check_name"] == "slice_not_empty"
    assert row["records_checked"] == 0
    assert "2026-01-01" in row["message"]


def test_empty_table_records_a_skipped_row_too(
    settings: Settings, catalog: Catalog, clock: Clock
) -> None:
    result = run_gate(settings, catalog, "silver", clock=clock)
    assert [r.status for r in result.results] == [Status.SKIPPED]
    assert len(_audit(catalog, result.run_id)) == 1


def test_warnings_never_fail_a_gate(settings: Settings, catalog: Catalog, clock: Clock) -> None:
    rows = [bronze_row(i, title=None, user=None) for i in range(10)]  # 0 % complete: warnings
    result = run_gate(settings, catalog, "bronze", data=table(BRONZE, rows), clock=clock)
    statuses = {r.check_name: r.status for r in result.results}
    assert statuses["completeness_title"] is Status.WARNING
    assert statuses["completeness_user"] is Status.WARNING
    assert result.counts["warnings"] == 2
    assert result.passed


def test_error_check_fails_the_gate_and_the_alert_lists_at_most_five(
    settings: Settings, catalog: Catalog, clock: Clock
) -> None:
    rows = [
        bronze_row(i, event_id="same", event_type="bogus", event_hour=99, length_delta=1)
        for i in range(10)
    ]
    result = run_gate(settings, catalog, "bronze", data=table(BRONZE, rows), clock=clock)
    assert not result.passed
    failed = {r.check_name for r in result.results if r.status is Status.FAILED}
    assert failed >= {
        "uniqueness_event_id",
        "validity_event_type_in_allowed_values",
        "validity_event_hour_max_check",
        "consistency_length_delta",
        "consistency_event_hour",
    }
    payload = result.alert_payload()
    assert payload["alert_type"] == "DATA_QUALITY_GATE_FAILURE"
    assert payload["run_id"] == result.run_id
    assert len(payload["failed_checks"]) == 5
    assert payload["summary"]["failed"] == len(failed)
    unique = next(c for c in result.failed_checks(99) if c["name"] == "uniqueness_event_id")
    assert unique["metric_value"] == pytest.approx(0.1)
    assert unique["threshold"] == 1.0
    assert result.run_id in payload["query_hint"]


def test_error_status_fails_the_gate(settings: Settings, catalog: Catalog, clock: Clock) -> None:
    data = bronze(3).drop_columns(["event_hour"])  # a writer that forgot a column
    result = run_gate(settings, catalog, "bronze", data=data, clock=clock)
    errors = [r for r in result.results if r.status is Status.ERROR]
    assert {r.check_name for r in errors} >= {"validity_event_hour_max_check"}
    assert not result.passed


def test_silver_rows_must_not_exceed_bronze_rows_per_date(
    settings: Settings, catalog: Catalog, append: Append, clock: Clock
) -> None:
    append(BRONZE.identifier, bronze(5))
    ok = run_gate(settings, catalog, "silver", data=silver(5), clock=clock)
    assert ok.passed
    check = next(r for r in ok.results if r.check_name == "consistency_rows_vs_bronze")
    assert (check.metric_value, check.threshold_value) == (5.0, 5.0)
    bad = run_gate(settings, catalog, "silver", data=silver(7), clock=clock)
    check = next(r for r in bad.results if r.check_name == "consistency_rows_vs_bronze")
    assert check.status is Status.FAILED
    assert (check.metric_value, check.threshold_value) == (7.0, 5.0)
    assert check.evidence["violations"]["2026-02-26"] == {"silver_rows": 7, "bronze_event_ids": 5}
    assert not bad.passed


def test_gate_without_write_leaves_the_audit_table_alone(
    settings: Settings, catalog: Catalog, clock: Clock
) -> None:
    result = run_gate(settings, catalog, "bronze", data=bronze(3), write=False, clock=clock)
    assert result.passed
    assert _audit(catalog, result.run_id) == []


def test_bad_arguments_raise_quality_errors(settings: Settings, catalog: Catalog) -> None:
    with pytest.raises(QualityError, match="unknown layer 'platinum'"):
        run_gate(settings, catalog, "platinum")
    with pytest.raises(QualityError, match="2026-13-01"):
        SliceSpec(("2026-13-01",))
    with pytest.raises(QualityError, match="mapping"):
        run_gate(settings, catalog, "gold", data=bronze(1))
