"""Profiling and drift: real z-scores, baselines that exclude the current run."""

from __future__ import annotations

import statistics
from collections.abc import Callable
from datetime import date, datetime, timedelta

import pytest
from pyiceberg.catalog import Catalog

from tests.quality.conftest import lake_table
from tests.quality.rows import T0, bronze, silver, silver_row, table
from wikistream.lake.schemas import PROFILE_METRICS, SILVER
from wikistream.quality import baseline as baseline_module
from wikistream.quality.baseline import BaselineStats, read_baseline
from wikistream.quality.config import QualitySettings
from wikistream.quality.gate import run_gate
from wikistream.quality.profile import (
    SILVER_PROFILE,
    ColumnProfile,
    detect_drift,
    profile_relation,
    profile_rows,
    write_profiles,
)
from wikistream.settings import Settings

Clock = Callable[[], datetime]


def _silver_with_null_deltas(nulls: int, n: int = 10):  # type: ignore[no-untyped-def]
    rows = [
        silver_row(i, length_old=None, length_new=None, length_delta=None)
        if i < nulls
        else silver_row(i)
        for i in range(n)
    ]
    return table(SILVER, rows)


def test_profile_values() -> None:
    data = bronze(4)
    profiles = {p.column_name: p for p in profile_relation(data, SILVER_PROFILE, "t")}
    # silver spec on a bronze table: only the columns present are profiled
    assert set(profiles) == {"event_type", "is_bot", "length_delta"}
    delta = profiles["length_delta"]
    assert (delta.record_count, delta.null_count, delta.null_rate) == (4, 0, 0.0)
    assert (delta.mean_value, delta.min_value, delta.max_value) == (50.0, 50.0, 50.0)
    assert delta.stddev_value == 0.0
    assert delta.percentile_95 == 50.0
    assert profiles["event_type"].distinct_count == 1
    assert profiles["event_type"].mean_value is None


def test_drift_baseline_excludes_the_current_run(
    settings: Settings, catalog: Catalog, append: Callable[[str, object], None], clock: Clock
) -> None:
    append("bronze.raw_events", bronze(10))
    first = run_gate(settings, catalog, "silver", data=_silver_with_null_deltas(0), clock=clock)
    assert first.drift == ()  # no history yet
    second = run_gate(settings, catalog, "silver", data=_silver_with_null_deltas(5), clock=clock)
    (finding,) = [d for d in second.drift if d.column_name == "length_delta"]
    # the seed averaged the current run into its own baseline (0.25, diff 0.25); ours: 0.0
    assert finding.baseline_value == 0.0
    assert finding.baseline_runs == 1
    assert finding.current_value == 0.5
    assert finding.method == "absolute"
    assert finding.z_score is None
    assert finding.level == "alert"
    assert second.passed  # drift never fails a gate
    payload = finding.alert_payload(second.run_timestamp)
    assert payload["alert_type"] == "DATA_DRIFT_DETECTED"
    assert payload["drift_details"]["baseline_value"] == 0.0
    # and the current profile was saved after the baseline was read
    saved = read_baseline(catalog, "silver", clock(), 7, exclude_run_id="none")
    stats = saved[("silver.cleaned_events", "length_delta")]
    assert stats.runs == 2
    assert stats.mean == pytest.approx(0.25)


def _history(catalog: Catalog, rates: list[float], now: datetime) -> None:
    for i, rate in enumerate(rates):
        profile = ColumnProfile(
            "silver.cleaned_events", "length_delta", 100, int(rate * 100), rate, 5
        )
        write_profiles(
            catalog, profile_rows(f"dq-old-{i}", "silver", now - timedelta(hours=i + 1), [profile])
        )


def test_z_score_with_two_or_more_baseline_runs(catalog: Catalog) -> None:
    now = T0
    _history(catalog, [0.10, 0.12, 0.14], now)
    baseline = read_baseline(catalog, "silver", now, 7, exclude_run_id="dq-now")
    stats = baseline[("silver.cleaned_events", "length_delta")]
    assert stats.runs == 3
    assert stats.mean == pytest.approx(0.12)
    assert stats.stddev == pytest.approx(0.02)
    current = ColumnProfile("silver.cleaned_events", "length_delta", 100, 50, 0.5, 5)
    (finding,) = detect_drift("silver", [current], baseline, QualitySettings())
    assert finding.method == "zscore"
    assert finding.z_score == pytest.approx((0.5 - 0.12) / 0.02)
    assert finding.level == "alert"
    # a move of 2.5 standard deviations is a warning; within noise nothing
    mild = ColumnProfile("silver.cleaned_events", "length_delta", 100, 17, 0.17, 5)
    (warning,) = detect_drift("silver", [mild], baseline, QualitySettings())
    assert warning.level == "warning"
    assert warning.z_score == pytest.approx(2.5)
    calm = ColumnProfile("silver.cleaned_events", "length_delta", 100, 13, 0.13, 5)
    assert detect_drift("silver", [calm], baseline, QualitySettings()) == []


def test_baseline_ignores_runs_older_than_the_window(catalog: Catalog) -> None:
    profile = ColumnProfile("silver.cleaned_events", "region", 10, 0, 0.0, 3)
    write_profiles(
        catalog, profile_rows("dq-ancient", "silver", T0 - timedelta(days=30), [profile])
    )
    write_profiles(catalog, profile_rows("dq-recent", "silver", T0 - timedelta(days=1), [profile]))
    baseline = read_baseline(catalog, "silver", T0, 7, exclude_run_id="x")
    assert baseline[("silver.cleaned_events", "region")] == BaselineStats(1, 0.0)
    assert lake_table(catalog, PROFILE_METRICS.identifier).scan().to_arrow().num_rows == 2


def test_no_variance_falls_back_to_the_absolute_rule() -> None:
    baseline = {("t", "c"): BaselineStats.of([0.0, 0.0, 0.0])}
    current = ColumnProfile("t", "c", 10, 1, 0.15, 1)
    (finding,) = detect_drift("silver", [current], baseline, QualitySettings())
    assert finding.method == "absolute"
    assert finding.level == "warning"


def test_silver_profile_covers_the_seed_columns_and_user_kind() -> None:
    profiles = profile_relation(silver(3), SILVER_PROFILE, "silver.cleaned_events")
    names = [p.column_name for p in profiles]
    assert names == [
        "region",
        "language",
        "event_type",
        "is_bot",
        "is_anonymous",
        "user_kind",
        "length_delta",
    ]


def test_closed_days_are_summarised_once_and_combine_exactly(
    catalog: Catalog, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = ("silver.cleaned_events", "length_delta")

    def run(run_id: str, rate: float, at: datetime) -> None:
        profile = ColumnProfile(*key, 100, int(rate * 100), rate, 5)
        write_profiles(catalog, profile_rows(run_id, "silver", at, [profile]))

    history = {5: [0.1, 0.3], 2: [0.2], 0: [0.4, 0.6]}  # days ago → null rates of its runs
    for days_ago, rates in history.items():
        for i, rate in enumerate(rates):
            run(f"dq-{days_ago}-{i}", rate, T0 - timedelta(days=days_ago, minutes=i + 1))
    run("dq-now", 0.9, T0)  # the run being gated: not part of its own baseline
    run("dq-ancient", 0.0, T0 - timedelta(days=30))
    reads: list[date] = []
    real_read = baseline_module._read

    def counting_read(*args: object) -> object:
        reads.append(args[2])  # type: ignore[arg-type]
        return real_read(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(baseline_module, "_read", counting_read)

    stats = read_baseline(catalog, "silver", T0, 7, exclude_run_id="dq-now")[key]
    values = [0.1, 0.3, 0.2, 0.4, 0.6]
    assert stats.runs == len(values)
    assert stats.mean == pytest.approx(statistics.fmean(values))
    assert stats.stddev == pytest.approx(statistics.stdev(values))
    assert len(reads) == 8  # today and each of the 7 closed days of the window

    reads.clear()
    run("dq-later", 0.5, T0 + timedelta(minutes=1))
    later = read_baseline(catalog, "silver", T0 + timedelta(minutes=2), 7, exclude_run_id="x")
    assert reads == [T0.date()]  # closed days come from the summaries of the first call
    assert later[key].runs == len(values) + 2  # dq-now and dq-later
    assert later[key].mean == pytest.approx(statistics.fmean([*values, 0.9, 0.5]))
