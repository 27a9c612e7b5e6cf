"""Reading the audit back: latest run by timestamp, filters, overrides."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import pytest
from pyiceberg.catalog import Catalog

from tests.quality.conftest import lake_table
from tests.quality.rows import T0, bronze, bronze_row, table
from wikistream.errors import QualityError
from wikistream.lake.schemas import BRONZE, QUALITY_RESULTS
from wikistream.quality.audit import (
    append_results,
    latest_run,
    list_runs,
    overridden_runs,
    read_results,
    record_override,
)
from wikistream.quality.gate import run_gate
from wikistream.settings import Settings

Clock = Callable[[], datetime]


def _row(run_id: str, ts: datetime, status: str = "PASSED", **over: object) -> dict:  # type: ignore[type-arg]
    row = {
        "run_id": run_id,
        "layer": "bronze",
        "table_name": "bronze.raw_events",
        "check_name": "completeness_event_id",
        "check_type": "completeness",
        "status": status,
        "severity": "error",
        "run_timestamp": ts,
        "run_date": ts.date().isoformat(),
    }
    row.update(over)
    return row


def test_latest_run_is_chosen_by_timestamp_not_by_run_id_string(catalog: Catalog) -> None:
    # same second: the string order of the random suffix is the opposite of the time order
    earlier = "dq-20260226-100000-ffffffff"
    later = "dq-20260226-100000-00000000"
    append_results(
        catalog,
        [
            _row(earlier, T0 + timedelta(milliseconds=100)),
            _row(later, T0 + timedelta(milliseconds=900), status="FAILED"),
        ],
    )
    latest = latest_run(catalog, "bronze")
    assert latest is not None
    assert latest.run_id == later
    assert latest.status == "FAILED"
    assert [r.run_id for r in list_runs(catalog)] == [earlier, later]
    rows = read_results(catalog, layer="bronze")
    assert {r["run_id"] for r in rows} == {later}


def test_warning_rows_do_not_fail_a_recorded_run(catalog: Catalog) -> None:
    append_results(catalog, [_row("dq-a", T0, status="WARNING", severity="warning")])
    run = latest_run(catalog, "bronze")
    assert run is not None
    assert run.passed
    assert run.counts["warnings"] == 1


def test_results_filters_failed_checks(settings: Settings, catalog: Catalog, clock: Clock) -> None:
    rows = [bronze_row(i, title=None, event_type="bogus") for i in range(4)]
    result = run_gate(settings, catalog, "bronze", data=table(BRONZE, rows), clock=clock)
    failed = read_results(catalog, run_id=result.run_id, failed_only=True)
    assert {r["check_name"]: r["status"] for r in failed} == {
        "completeness_title": "WARNING",
        "validity_event_type_in_allowed_values": "FAILED",
    }
    assert len(read_results(catalog, run_id=result.run_id)) == 17
    with pytest.raises(QualityError, match="no data-quality run 'dq-nope'"):
        read_results(catalog, run_id="dq-nope")


def test_override_is_recorded_and_accepts_the_run(
    settings: Settings, catalog: Catalog, clock: Clock
) -> None:
    rows = [bronze_row(i, event_id="dup") for i in range(3)]
    failed = run_gate(settings, catalog, "bronze", data=table(BRONZE, rows), clock=clock)
    assert not failed.passed
    written = record_override(catalog, failed.run_id, "  known replay duplicates  ", operator="ana")
    assert len(written) == 1
    stored = [
        r
        for r in lake_table(catalog, QUALITY_RESULTS.identifier).scan().to_arrow().to_pylist()
        if r["check_name"] == "operator_override"
    ]
    assert len(stored) == 1
    assert stored[0]["status"] == "OVERRIDDEN"
    assert stored[0]["run_id"] == failed.run_id
    assert stored[0]["message"] == "known replay duplicates"
    run = latest_run(catalog, "bronze")
    assert run is not None
    assert run.run_id == failed.run_id
    assert run.status == "OVERRIDDEN"
    assert run.accepted
    assert not run.passed
    assert run.override is not None
    assert run.override["operator"] == "ana"
    assert run.override["overridden_checks"] == ["uniqueness_event_id"]
    assert run.run_timestamp == failed.run_timestamp  # the override does not move the run


def test_override_refuses_unknown_passed_or_unexplained_runs(
    settings: Settings, catalog: Catalog, clock: Clock
) -> None:
    ok = run_gate(settings, catalog, "bronze", data=bronze(2), clock=clock)
    with pytest.raises(QualityError, match="passed its gate"):
        record_override(catalog, ok.run_id, "why not")
    with pytest.raises(QualityError, match="no data-quality run"):
        record_override(catalog, "dq-missing", "reason")
    with pytest.raises(QualityError, match="needs a reason"):
        record_override(catalog, ok.run_id, "   ")


def test_unwritable_audit_rows_raise_a_quality_error(catalog: Catalog) -> None:
    bad = _row("dq-x", T0)
    bad["check_name"] = None  # a required column
    with pytest.raises(QualityError, match="the gate result was not recorded"):
        append_results(catalog, [bad])
    assert list_runs(catalog) == []


def test_overridden_runs_reads_only_the_runs_an_operator_accepted(
    settings: Settings, catalog: Catalog, clock: Clock
) -> None:
    passed = [run_gate(settings, catalog, "bronze", data=bronze(2), clock=clock) for _ in range(3)]
    dup_rows = table(BRONZE, [bronze_row(i, event_id="dup") for i in range(3)])
    kept_failing = run_gate(settings, catalog, "bronze", data=dup_rows, clock=clock)
    accepted = run_gate(settings, catalog, "bronze", data=dup_rows, clock=clock)
    assert all(r.passed for r in passed)
    assert not kept_failing.passed
    assert not accepted.passed
    assert overridden_runs(catalog, "bronze") == []
    record_override(catalog, accepted.run_id, "known replay duplicates", operator="ana")

    (run,) = overridden_runs(catalog, "bronze")
    assert run.run_id == accepted.run_id
    assert run.accepted
    assert not run.passed
    assert run.counts["total_checks"] == 17  # all its check rows, not only the override row
    (listed,) = [r for r in list_runs(catalog, "bronze") if r.run_id == accepted.run_id]
    assert run == listed  # the same summary as reading every run
    assert overridden_runs(catalog, "silver") == []
