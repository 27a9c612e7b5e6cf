"""AlertEvaluator: fire, de-duplicate per cooldown, escalate, resolve; failing sinks and rules."""

from __future__ import annotations

import json
import time
from datetime import timedelta

import pytest

from tests.observe.conftest import CheckResult, FakeClock
from wikistream.errors import AlertDeliveryError
from wikistream.observe.alerts import (
    Alert,
    AlertEvaluator,
    AlertStatus,
    Finding,
    Severity,
    start_alert_thread,
)
from wikistream.observe.metrics import PipelineMetrics
from wikistream.observe.rules import GateFailureRule
from wikistream.observe.state import PipelineState


class RecordingSink:
    name = "recording"

    def __init__(self) -> None:
        self.sent: list[Alert] = []

    def send(self, alert: Alert) -> None:
        self.sent.append(alert)


class BrokenSink:
    name = "broken"

    def send(self, alert: Alert) -> None:
        raise AlertDeliveryError("receiver down")


class ToggleRule:
    """Fires ``key`` with ``severity`` while ``on`` is set."""

    name = "toggle"

    def __init__(self) -> None:
        self.on = False
        self.severity = Severity.WARNING
        self.explode = False

    def evaluate(self, state: PipelineState) -> list[Finding]:
        if self.explode:
            raise RuntimeError("rule bug")
        if not self.on:
            return []
        return [
            Finding(
                self.name,
                "toggle:x",
                self.severity,
                "Toggle on",
                "the toggle is on",
                {"alert_type": "TOGGLE", "layer": "bronze"},
            )
        ]


def state_at(clock: FakeClock) -> PipelineState:
    return PipelineState(at=clock.now, started_at=clock.now)


def test_fires_once_per_cooldown_then_resolves(clock: FakeClock) -> None:
    rule, sink = ToggleRule(), RecordingSink()
    evaluator = AlertEvaluator([rule], [sink], cooldown_s=900)
    assert evaluator.evaluate(state_at(clock)) == []
    rule.on = True
    started = clock.now
    (first,) = evaluator.evaluate(state_at(clock))
    assert (first.status, first.key, first.started_at) == (AlertStatus.FIRING, "toggle:x", started)
    for _ in range(29):  # 14.5 minutes of persistence: no repeat
        clock.advance(30)
        assert evaluator.evaluate(state_at(clock)) == []
    clock.advance(30)  # 15 min after the first message: one reminder
    (reminder,) = evaluator.evaluate(state_at(clock))
    assert reminder.started_at == started
    assert reminder.at == clock.now
    assert [a.key for a in evaluator.active()] == ["toggle:x"]
    rule.on = False
    clock.advance(30)
    (resolved,) = evaluator.evaluate(state_at(clock))
    assert resolved.status is AlertStatus.RESOLVED
    assert resolved.summary.startswith("Cleared after 15.5 min")
    assert resolved.subject().startswith("✅ RESOLVED")
    assert evaluator.active() == []
    assert evaluator.evaluate(state_at(clock)) == []  # resolved only once
    assert [a.status for a in sink.sent] == ["firing", "firing", "resolved"]


def test_severity_escalation_is_sent_at_once(clock: FakeClock) -> None:
    rule, sink = ToggleRule(), RecordingSink()
    evaluator = AlertEvaluator([rule], [sink], cooldown_s=900)
    rule.on = True
    evaluator.evaluate(state_at(clock))
    clock.advance(30)
    rule.severity = Severity.CRITICAL
    (escalated,) = evaluator.evaluate(state_at(clock))
    assert escalated.severity is Severity.CRITICAL
    clock.advance(30)
    rule.severity = Severity.WARNING  # de-escalation waits for the cooldown
    assert evaluator.evaluate(state_at(clock)) == []
    clock.advance(30)
    rule.severity = Severity.CRITICAL  # back to what was last sent: no new message
    assert evaluator.evaluate(state_at(clock)) == []


def test_resolved_messages_can_be_turned_off(clock: FakeClock) -> None:
    rule, sink = ToggleRule(), RecordingSink()
    evaluator = AlertEvaluator([rule], [sink], cooldown_s=60, send_resolved=False)
    rule.on = True
    evaluator.evaluate(state_at(clock))
    rule.on = False
    clock.advance(10)
    assert evaluator.evaluate(state_at(clock)) == []
    assert evaluator.active() == []
    assert len(sink.sent) == 1


def test_a_failing_sink_breaks_neither_others_nor_the_caller(clock: FakeClock) -> None:
    metrics = PipelineMetrics(clock=clock)
    rule, good = ToggleRule(), RecordingSink()
    evaluator = AlertEvaluator([rule], [BrokenSink(), good], cooldown_s=0, metrics=metrics)
    rule.on = True
    evaluator.evaluate(state_at(clock))
    clock.advance(1)
    evaluator.evaluate(state_at(clock))
    assert len(good.sent) == 2
    assert evaluator.delivery_failures == {"broken": 2, "recording": 0}
    text = metrics.render().decode()
    assert 'wikistream_alert_deliveries_total{outcome="failed",sink="broken"} 2.0' in text
    assert 'wikistream_alert_deliveries_total{outcome="ok",sink="recording"} 2.0' in text
    assert 'wikistream_alert_active{alert="toggle",severity="WARNING"} 1.0' in text


def test_a_broken_rule_neither_resolves_its_alerts_nor_stops_others(clock: FakeClock) -> None:
    toggle, sink = ToggleRule(), RecordingSink()
    metrics = PipelineMetrics(clock=clock)
    metrics.observe_gate("gold", "gold.risk_scores", False, [], run_id="r1")
    evaluator = AlertEvaluator([toggle, GateFailureRule()], [sink], cooldown_s=900)
    toggle.on = True
    assert len(evaluator.evaluate(metrics.snapshot())) == 2
    toggle.explode = True
    clock.advance(30)
    assert evaluator.evaluate(metrics.snapshot()) == []
    assert evaluator.rule_errors == {"toggle": 1}
    assert {a.key for a in evaluator.active()} == {
        "toggle:x",
        "dq_gate_failure:gold:gold.risk_scores",
    }


def test_alert_subject_payload_and_text(clock: FakeClock) -> None:
    alert = Alert(
        name="dq_gate_failure",
        key="k",
        severity=Severity.CRITICAL,
        status=AlertStatus.FIRING,
        title="DQ Gate FAILED: BRONZE " + "x" * 200,
        summary="3 of 9 checks failed",
        details={"alert_type": "DATA_QUALITY_GATE_FAILURE", "layer": "bronze", "failed_checks": []},
        started_at=clock.now - timedelta(minutes=5),
        at=clock.now,
    )
    subject = alert.subject()
    assert len(subject) == 100
    assert subject.startswith("🚨 WikiStream CRITICAL: DQ Gate FAILED: BRONZE")
    payload = alert.payload()
    assert payload["alert_type"] == "DATA_QUALITY_GATE_FAILURE"
    assert payload["severity"] == "CRITICAL"
    assert payload["timestamp"] == "2026-02-26T12:00:00.000000Z"
    assert payload["layer"] == "bronze"
    json.dumps(payload)  # serialisable as is
    assert "3 of 9 checks failed" in alert.text()
    with pytest.raises(ValueError, match="reserved"):
        Alert(
            "n",
            "k",
            Severity.INFO,
            AlertStatus.FIRING,
            "t",
            "s",
            {"status": "x"},
            clock.now,
            clock.now,
        )


def test_alert_thread_evaluates_live_metrics_and_stops() -> None:
    metrics, sink = PipelineMetrics(), RecordingSink()
    evaluator = AlertEvaluator([GateFailureRule()], [sink], cooldown_s=900)
    thread, stop = start_alert_thread(metrics, evaluator, interval_s=0.02)
    try:
        metrics.observe_gate(
            "silver",
            "silver.cleaned_events",
            False,
            [CheckResult("uniqueness_event_id", "uniqueness", "FAILED", 0.9, 1.0)],
            run_id="dq-x",
        )
        deadline = time.monotonic() + 5
        while not sink.sent and time.monotonic() < deadline:
            time.sleep(0.01)
        assert [a.key for a in sink.sent] == ["dq_gate_failure:silver:silver.cleaned_events"]
        assert sink.sent[0].details["failed_checks"][0]["name"] == "uniqueness_event_id"
    finally:
        stop.set()
        thread.join(timeout=5)
    assert not thread.is_alive()


def test_active_alert_gauge_counts_keys_and_follows_escalation(clock: FakeClock) -> None:
    metrics = PipelineMetrics(clock=clock)
    toggle = ToggleRule()
    evaluator = AlertEvaluator([GateFailureRule(), toggle], [RecordingSink()], metrics=metrics)
    metrics.observe_gate("bronze", "bronze.raw_events", False, [], run_id="r1")
    metrics.observe_gate("silver", "silver.cleaned_events", False, [], run_id="r2")
    toggle.on = True
    evaluator.evaluate(metrics.snapshot())

    def active(alert: str, severity: str) -> str:
        text = metrics.render().decode()
        prefix = f'wikistream_alert_active{{alert="{alert}",severity="{severity}"}} '
        return next(line[len(prefix) :] for line in text.splitlines() if line.startswith(prefix))

    assert active("dq_gate_failure", "CRITICAL") == "2.0"
    assert active("toggle", "WARNING") == "1.0"
    metrics.observe_gate("bronze", "bronze.raw_events", True, [], run_id="r3")
    toggle.severity = Severity.CRITICAL
    clock.advance(30)
    evaluator.evaluate(metrics.snapshot())
    assert active("dq_gate_failure", "CRITICAL") == "1.0"
    assert active("toggle", "WARNING") == "0.0"
    assert active("toggle", "CRITICAL") == "1.0"
