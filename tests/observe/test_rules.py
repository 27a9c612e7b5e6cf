"""Each rule fires on its condition and not otherwise (PipelineMetrics + a fake clock)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from tests.observe.conftest import CheckResult, FakeClock, FakeCpu
from wikistream.observe.alerts import AlertRule, Finding, Severity
from wikistream.observe.metrics import PipelineMetrics
from wikistream.observe.rules import (
    BronzeHealthRule,
    CounterHistory,
    DlqRateRule,
    DriftRule,
    GateFailureRule,
    PipelineFailureRule,
    ProducerCpuRule,
    StageRestartRule,
    StaleSourceRule,
    build_rules,
)
from wikistream.settings import Settings


def run(
    rule: AlertRule,
    metrics: PipelineMetrics,
    clock: FakeClock,
    *,
    seconds: float,
    step: float = 15.0,
    each: Callable[[], None] | None = None,
) -> list[Finding]:
    """Evaluate ``rule`` every ``step`` seconds for ``seconds``; return the last findings."""
    findings = rule.evaluate(metrics.snapshot())
    elapsed = 0.0
    while elapsed < seconds:
        clock.advance(step)
        elapsed += step
        if each is not None:
            each()
        findings = rule.evaluate(metrics.snapshot())
    return findings


def test_counter_history_interpolates_and_needs_coverage(clock: FakeClock) -> None:
    history = CounterHistory(horizon_s=120)
    history.add(clock.now, 0)
    later = clock.advance(60)
    history.add(later, 60)
    assert history.value_at(clock.now - timedelta(seconds=30)) == 30
    assert history.increase(clock.now - timedelta(seconds=60), clock.now) == 60
    assert history.increase(clock.now - timedelta(seconds=61), clock.now) is None
    for _ in range(10):
        history.add(clock.advance(60), 100)
    assert len(history._samples) <= 4  # pruned to the horizon


# ---- DLQ high rate (> 10 per minute, 2 minutes in a row) --------------------------------------


def test_dlq_rule_fires_after_two_minutes_above_ten_per_minute(
    metrics: PipelineMetrics, clock: FakeClock
) -> None:
    rule = DlqRateRule(per_minute=10, minutes=2)
    dlq_3_per_15s = lambda: metrics.observe_dlq("ingest", "invalid_json", 3)  # noqa: E731
    assert run(rule, metrics, clock, seconds=90, each=dlq_3_per_15s) == []  # 90 s: not 2 min yet
    findings = run(rule, metrics, clock, seconds=30, each=dlq_3_per_15s)
    assert [f.key for f in findings] == ["dlq_high_rate"]
    assert findings[0].details["dlq_per_minute"] == [12.0, 12.0]
    assert findings[0].details["alert_type"] == "DLQ_HIGH_RATE"


def test_dlq_rule_quiet_when_one_minute_is_below(
    metrics: PipelineMetrics, clock: FakeClock
) -> None:
    rule = DlqRateRule(per_minute=10, minutes=2)
    run(rule, metrics, clock, seconds=60, each=lambda: metrics.observe_dlq("ingest", "x", 3))
    findings = run(rule, metrics, clock, seconds=60, each=lambda: metrics.observe_dlq("i", "x", 2))
    assert findings == []  # 12 then 8 per minute
    exactly_ten = run(
        rule, metrics, clock, seconds=180, step=6, each=lambda: metrics.observe_dlq("i", "x", 1)
    )
    assert exactly_ten == []  # "> 10", not ">= 10"


# ---- bronze health: stalled vs source silent --------------------------------------------------


def test_bronze_stall_fires_when_events_arrive_but_bronze_writes_nothing(
    metrics: PipelineMetrics, clock: FakeClock
) -> None:
    rule = BronzeHealthRule(silence_s=600)

    def ingest_only() -> None:
        metrics.observe_ingest({"received": 50, "appended": 40}, last_event_at=clock.now)

    assert run(rule, metrics, clock, seconds=585, each=ingest_only) == []
    findings = run(rule, metrics, clock, seconds=30, each=ingest_only)
    assert [f.key for f in findings] == ["bronze_stalled"]
    assert findings[0].severity is Severity.CRITICAL
    assert findings[0].details["events_appended_in_window"] == 1600


def test_bronze_quiet_while_it_keeps_writing(metrics: PipelineMetrics, clock: FakeClock) -> None:
    rule = BronzeHealthRule(silence_s=600)

    def both() -> None:
        metrics.observe_ingest({"received": 50, "appended": 40}, last_event_at=clock.now)
        if clock.now.minute % 5 == 0 and clock.now.second == 0:
            metrics.observe_bronze_batch(200, 0.5)  # one batch every 5 minutes is enough

    assert run(rule, metrics, clock, seconds=1800, each=both) == []


def test_silent_source_is_not_a_bronze_stall_but_a_stale_source(
    metrics: PipelineMetrics, clock: FakeClock
) -> None:
    bronze, stale = BronzeHealthRule(silence_s=600), StaleSourceRule(stale_s=600)
    metrics.observe_ingest({"received": 1, "appended": 1}, last_event_at=clock.now)
    metrics.observe_bronze_batch(1, 0.1)
    for _ in range(60):  # 15 minutes: nothing arrives, nothing to write
        clock.advance(15)
        state = metrics.snapshot()
        assert bronze.evaluate(state) == []
        stale_findings = stale.evaluate(state)
    assert [f.key for f in stale_findings] == ["source_stale"]
    assert stale_findings[0].details["silent_seconds"] == 900


def test_canaries_keep_a_quiet_source_from_being_stale(
    metrics: PipelineMetrics, clock: FakeClock
) -> None:
    stale = StaleSourceRule(stale_s=600)
    canary = lambda: metrics.observe_ingest({"canary": 1}, last_canary_at=clock.now)  # noqa: E731
    findings = run(stale, metrics, clock, seconds=3600, step=300, each=canary)
    assert findings == []


def test_stale_source_counts_from_process_start_when_nothing_ever_arrived(
    metrics: PipelineMetrics, clock: FakeClock
) -> None:
    stale = StaleSourceRule(stale_s=600)
    assert run(stale, metrics, clock, seconds=600, step=60) == []
    assert len(run(stale, metrics, clock, seconds=60, step=60)) == 1


def test_bronze_lag_without_new_events_is_still_a_stall(
    metrics: PipelineMetrics, clock: FakeClock
) -> None:
    rule = BronzeHealthRule(silence_s=600)
    metrics.set_consumer_lag("bronze", 5000)  # a backlog, ingest already stopped
    findings = run(rule, metrics, clock, seconds=600)
    assert [f.details["consumer_lag"] for f in findings] == [5000]


# ---- producer CPU (> 80 % for 2 periods of 5 min) ---------------------------------------------


def test_cpu_rule_fires_only_after_two_hot_periods(
    metrics: PipelineMetrics, clock: FakeClock, cpu: FakeCpu
) -> None:
    rule = ProducerCpuRule(percent=80, period_s=300, periods=2)

    def burn(rate: float) -> Callable[[], None]:
        def step() -> None:
            cpu.seconds += 15 * rate

        return step

    assert run(rule, metrics, clock, seconds=300, each=burn(0.95)) == []
    findings = run(rule, metrics, clock, seconds=300, each=burn(0.95))
    assert [f.details["cpu_percent_per_period"] for f in findings] == [[95.0, 95.0]]
    assert run(rule, metrics, clock, seconds=300, each=burn(0.5)) == []


def test_cpu_rule_is_off_without_a_cpu_source(clock: FakeClock) -> None:
    metrics = PipelineMetrics(clock=clock, cpu_seconds=None)
    assert run(ProducerCpuRule(), metrics, clock, seconds=1200, step=60) == []


# ---- pipeline failure, gate failure, drift, restarts ------------------------------------------


def test_pipeline_failure_fires_until_a_cycle_completes(
    metrics: PipelineMetrics, clock: FakeClock
) -> None:
    rule = PipelineFailureRule()
    assert rule.evaluate(metrics.snapshot()) == []
    metrics.cycle_finished(
        False, 30.0, run_id="c1", failed_layer="silver", failed_step="process", error="boom"
    )
    (finding,) = rule.evaluate(metrics.snapshot())
    assert finding.details["layer"] == "silver"
    assert finding.details["error"] == "boom"
    metrics.cycle_finished(True, 30.0, run_id="c2")
    assert rule.evaluate(metrics.snapshot()) == []


def test_failed_gate_step_is_reported_once_by_the_gate_rule(
    metrics: PipelineMetrics, clock: FakeClock
) -> None:
    metrics.observe_gate(
        "silver",
        "silver.cleaned_events",
        False,
        [CheckResult("c", "validity", "FAILED")],
        run_id="r",
    )
    metrics.cycle_finished(False, 9.0, failed_layer="silver", failed_step="gate")
    state = metrics.snapshot()
    assert PipelineFailureRule().evaluate(state) == []
    assert len(GateFailureRule().evaluate(state)) == 1


def test_gate_failure_payload_follows_the_seed(metrics: PipelineMetrics, clock: FakeClock) -> None:
    results = [CheckResult("completeness_event_id", "completeness", "PASSED", 1.0, 1.0)]
    results += [
        CheckResult(f"validity_{i}", "validity", "FAILED", 0.5, 1.0, f"bad {i}") for i in range(6)
    ]
    results += [CheckResult("accuracy_x", "accuracy", "ERROR", None, None, "query crashed")]
    results += [CheckResult("timeliness", "timeliness", "WARNING", 200.0, 180.0)]
    metrics.observe_gate("bronze", "bronze.raw_events", False, results, run_id="dq-1-abc")
    (finding,) = GateFailureRule().evaluate(metrics.snapshot())
    d = finding.details
    assert finding.key == "dq_gate_failure:bronze:bronze.raw_events"
    assert finding.severity is Severity.CRITICAL
    assert d["alert_type"] == "DATA_QUALITY_GATE_FAILURE"
    assert (d["run_id"], d["layer"], d["table"]) == ("dq-1-abc", "bronze", "bronze.raw_events")
    assert d["summary"] == {"total_checks": 9, "passed": 1, "failed": 7, "warnings": 1}
    assert len(d["failed_checks"]) == 5
    assert d["failed_checks"][0] == {
        "name": "validity_0",
        "type": "validity",
        "status": "FAILED",
        "message": "bad 0",
        "metric_value": 0.5,
        "threshold": 1.0,
    }
    assert "run_id = 'dq-1-abc'" in d["query_hint"]
    assert "Downstream processing blocked" in d["action_required"]
    assert "and 2 more" in finding.summary
    metrics.observe_gate("bronze", "bronze.raw_events", True, results[:1], run_id="dq-2")
    assert GateFailureRule().evaluate(metrics.snapshot()) == []


def test_drift_fires_above_threshold_only(metrics: PipelineMetrics) -> None:
    rule = DriftRule(threshold=0.20)
    metrics.observe_drift("silver", "silver.cleaned_events", "length_delta", 0.15, 0.02)
    assert rule.evaluate(metrics.snapshot()) == []
    metrics.observe_drift("silver", "silver.cleaned_events", "length_delta", 0.30, 0.05)
    (finding,) = rule.evaluate(metrics.snapshot())
    assert finding.details["alert_type"] == "DATA_DRIFT_DETECTED"
    assert finding.details["drift_details"]["difference"] == 0.25
    assert finding.details["column"] == "length_delta"


def test_restart_is_info_a_failed_restart_critical_and_both_clear(
    metrics: PipelineMetrics, clock: FakeClock
) -> None:
    rule = StageRestartRule(window_s=600)
    metrics.record_restart("bronze", reason="no progress for 300 s")
    (finding,) = rule.evaluate(metrics.snapshot())
    assert (finding.key, finding.severity) == ("stage_restart:bronze", Severity.INFO)
    assert finding.details["alert_type"] == "STAGE_RESTART"
    clock.advance(60)
    metrics.record_restart("bronze", ok=False, reason="crash", error="CatalogError: locked")
    (finding,) = rule.evaluate(metrics.snapshot())
    assert finding.severity is Severity.CRITICAL
    assert finding.details["alert_type"] == "STAGE_RESTART_FAILED"
    assert finding.details["restarts_in_window"] == 2
    clock.advance(601)
    assert rule.evaluate(metrics.snapshot()) == []


def test_build_rules_takes_thresholds_from_settings(settings: Settings) -> None:
    settings.observe.dlq_alert_per_minute = 3
    settings.quality.drift_alert = 0.5
    settings.orchestrate.bronze_silence_alarm_s = 120
    rules = {rule.name: rule for rule in build_rules(settings)}
    assert set(rules) == {
        "producer_cpu_high",
        "bronze_stalled",
        "source_stale",
        "dlq_high_rate",
        "pipeline_failure",
        "dq_gate_failure",
        "data_drift",
        "stage_restart",
    }
    assert isinstance(rules["dlq_high_rate"], DlqRateRule)
    assert rules["dlq_high_rate"].per_minute == 3
    assert isinstance(rules["data_drift"], DriftRule)
    assert rules["data_drift"].threshold == 0.5
    assert isinstance(rules["bronze_stalled"], BronzeHealthRule)
    assert rules["bronze_stalled"].silence_s == 120
