"""Gold's upstream check: unknown is a failure; exact coverage by dates and batch; overrides."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pyarrow as pa
import pytest
from pyiceberg.catalog import Catalog

from tests.quality.conftest import lake_table
from tests.quality.rows import T0, bronze, bronze_row, hourly, risk, silver, silver_row, table
from wikistream.lake.schemas import BRONZE, SILVER
from wikistream.quality import upstream
from wikistream.quality.audit import record_override
from wikistream.quality.checks import Status
from wikistream.quality.gate import GateResult, run_gate
from wikistream.quality.slices import SliceSpec
from wikistream.settings import Settings

Clock = Callable[[], datetime]


def _gold(hour_date: str = "2026-02-26") -> dict[str, pa.Table]:
    return {
        "gold.hourly_stats": hourly(3, stat_date=hour_date),
        "gold.risk_scores": risk(2, stat_date=hour_date),
    }


def _upstream(result: GateResult) -> list:  # type: ignore[type-arg]
    return [r for r in result.results if r.check_name == "upstream_gates_passed"]


def _gate(
    settings: Settings, catalog: Catalog, clock: Clock, layer: str, **kw: object
) -> GateResult:
    return run_gate(settings, catalog, layer, clock=clock, **kw)  # type: ignore[arg-type]


def test_unknown_upstream_fails_gold(settings: Settings, catalog: Catalog, clock: Clock) -> None:
    result = _gate(settings, catalog, clock, "gold", data=_gold())
    assert not result.passed
    checks = _upstream(result)
    assert [c.table_name for c in checks] == ["gold.hourly_stats", "gold.risk_scores"]
    check = checks[0]
    assert check.status is Status.FAILED
    assert check.metric_value == 0.0
    assert check.evidence["bronze_gate_passed"] is False
    assert check.evidence["bronze"] == {"2026-02-26": None}
    assert "no bronze gate run covers 2026-02-26" in check.message
    assert "wikistream dq run --layer silver --date 2026-02-26" in check.message


def test_gold_passes_when_bronze_and_silver_passed_for_the_same_dates(
    settings: Settings, catalog: Catalog, clock: Clock
) -> None:
    lake_table(catalog, BRONZE.identifier).append(bronze(5))
    b = _gate(settings, catalog, clock, "bronze")
    s = _gate(settings, catalog, clock, "silver", data=silver(5))
    assert b.passed
    assert s.passed
    gold = _gate(settings, catalog, clock, "gold", data=_gold())
    assert gold.passed, [r.message for r in gold.results if r.blocking]
    check = _upstream(gold)[0]
    assert check.evidence["bronze"] == {"2026-02-26": b.run_id}
    assert check.evidence["silver"] == {"2026-02-26": s.run_id}
    assert check.records_checked == 2


def test_upstream_must_cover_every_gold_date(
    settings: Settings, catalog: Catalog, clock: Clock
) -> None:
    lake_table(catalog, BRONZE.identifier).append(bronze(5))
    _gate(settings, catalog, clock, "bronze")
    _gate(settings, catalog, clock, "silver", data=silver(5))
    data = _gold()
    data["gold.risk_scores"] = risk(2, stat_date="2026-02-25")  # a date upstream never saw
    gold = _gate(settings, catalog, clock, "gold", data=data)
    assert not gold.passed
    check = _upstream(gold)[0]
    assert check.evidence["bronze"]["2026-02-25"] is None
    assert check.evidence["bronze"]["2026-02-26"] is not None
    assert check.records_failed == 2


def test_latest_covering_run_counts_and_an_override_accepts_it(
    settings: Settings, catalog: Catalog, clock: Clock
) -> None:
    lake_table(catalog, BRONZE.identifier).append(bronze(5))
    _gate(settings, catalog, clock, "bronze")  # passes
    broken = table(BRONZE, [bronze_row(i, event_id="dup") for i in range(5)])
    failed = _gate(settings, catalog, clock, "bronze", data=broken)  # later and failing
    assert not failed.passed
    _gate(settings, catalog, clock, "silver", data=silver(5))
    gold = _gate(settings, catalog, clock, "gold", data=_gold())
    assert not gold.passed
    check = _upstream(gold)[0]
    assert check.evidence["bronze"] == {"2026-02-26": failed.run_id}
    assert f"bronze run {failed.run_id} FAILED" in check.message

    record_override(catalog, failed.run_id, "duplicates are a known replay; dedup scheduled")
    gold = _gate(settings, catalog, clock, "gold", data=_gold())
    assert gold.passed
    assert _upstream(gold)[0].evidence["overridden_runs"] == [failed.run_id]


def test_batch_id_restricts_upstream_to_the_same_batch(
    settings: Settings, catalog: Catalog, clock: Clock
) -> None:
    lake_table(catalog, BRONZE.identifier).append(bronze(5))
    _gate(settings, catalog, clock, "bronze", slice_spec=SliceSpec(batch_id="cycle-1"))
    _gate(
        settings, catalog, clock, "silver", data=silver(5), slice_spec=SliceSpec(batch_id="cycle-1")
    )
    same = _gate(
        settings, catalog, clock, "gold", data=_gold(), slice_spec=SliceSpec(batch_id="cycle-1")
    )
    assert same.passed
    other = _gate(
        settings, catalog, clock, "gold", data=_gold(), slice_spec=SliceSpec(batch_id="cycle-2")
    )
    assert not other.passed
    assert "in batch cycle-2" in _upstream(other)[0].message


def test_an_empty_upstream_run_does_not_count_as_coverage(
    settings: Settings, catalog: Catalog, clock: Clock
) -> None:
    lake_table(catalog, BRONZE.identifier).append(bronze(5))
    lake_table(catalog, SILVER.identifier).append(table(SILVER, [silver_row(0)]))
    _gate(settings, catalog, clock, "bronze", slice_spec=SliceSpec(("2026-02-20",)))  # SKIPPED
    _gate(settings, catalog, clock, "silver")
    gold = _gate(settings, catalog, clock, "gold", data=_gold())
    assert not gold.passed
    assert _upstream(gold)[0].evidence["bronze"] == {"2026-02-26": None}


def test_clock_fixture_orders_runs(clock: Clock) -> None:
    first, second = clock(), clock()
    assert second - first == timedelta(minutes=1)
    assert first > T0


def test_recent_runs_decide_and_an_older_override_of_the_batch_still_counts(
    settings: Settings, catalog: Catalog, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    reads: list[str] = []
    real_list_runs = upstream.list_runs

    def counting_list_runs(*args: Any, **kw: Any) -> Any:
        reads.append("recent" if kw.get("since_time") else "all")
        return real_list_runs(*args, **kw)

    monkeypatch.setattr(upstream, "list_runs", counting_list_runs)
    lake_table(catalog, BRONZE.identifier).append(bronze(5))
    batch = SliceSpec(batch_id="cycle-7")
    broken = table(BRONZE, [bronze_row(i, event_id="dup") for i in range(5)])
    first = _gate(settings, catalog, clock, "bronze", data=broken, slice_spec=batch)
    record_override(catalog, first.run_id, "known replay duplicates")
    for _ in range(30):  # half an hour later the blocked slice is checked again (a restart)
        clock()
    again = _gate(settings, catalog, clock, "bronze", data=broken, slice_spec=batch)
    assert not again.passed
    _gate(settings, catalog, clock, "silver", data=silver(5), slice_spec=batch)

    gold = _gate(settings, catalog, clock, "gold", data=_gold(), slice_spec=batch)
    # the recent runs alone reject bronze (its latest run failed): all runs are read, and the
    # operator's override of the batch's first run accepts the slice
    assert gold.passed, _upstream(gold)[0].message
    assert _upstream(gold)[0].evidence["bronze"] == {"2026-02-26": again.run_id}
    assert reads == ["recent", "all", "recent"]  # bronze: recent, then all; silver: recent

    reads.clear()
    _gate(settings, catalog, clock, "bronze", slice_spec=batch)  # passes
    assert _gate(settings, catalog, clock, "gold", data=_gold(), slice_spec=batch).passed
    assert reads == ["recent", "recent"]  # steady state: the last minutes are enough
