"""Alert rules: the seed's four CloudWatch alarms (SEED-FACTS §6.7) and its jobs' alerts.

Rate rules compare successive snapshots, so the evaluator must call them regularly (every
``observe.alert_interval_s``); until a rule has seen a full window it stays quiet (the seed's
"missing data = not breaching"). Every finding carries ``alert_type`` and ``action_required``.
"""

from __future__ import annotations

from collections import deque
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from wikistream.clock import to_iso
from wikistream.observe.alerts import AlertRule, Finding, Severity
from wikistream.observe.payloads import drift_finding, gate_failure_finding
from wikistream.observe.state import PipelineState

if TYPE_CHECKING:
    from wikistream.settings import Settings


class CounterHistory:
    """Samples of a cumulative counter; its value at a past instant by linear interpolation."""

    def __init__(self, horizon_s: float) -> None:
        self.horizon_s = horizon_s
        self._samples: deque[tuple[float, float]] = deque()

    def add(self, at: datetime, value: float) -> None:
        """Record ``value`` at ``at``; forget what is older than the horizon (keeping one)."""
        t = at.timestamp()
        if self._samples and t <= self._samples[-1][0]:
            self._samples[-1] = (t, value)  # same instant twice (or a clock step back)
        else:
            self._samples.append((t, value))
        cutoff = t - self.horizon_s
        while len(self._samples) >= 2 and self._samples[1][0] <= cutoff:
            self._samples.popleft()

    def value_at(self, at: datetime) -> float | None:
        """Interpolated value at ``at``; None when ``at`` is before the first sample."""
        t = at.timestamp()
        if not self._samples or t < self._samples[0][0]:
            return None
        previous = self._samples[0]
        for sample in self._samples:
            if sample[0] >= t:
                if sample[0] == previous[0]:
                    return sample[1]
                share = (t - previous[0]) / (sample[0] - previous[0])
                return previous[1] + share * (sample[1] - previous[1])
            previous = sample
        return previous[1]

    def increase(self, start: datetime, end: datetime) -> float | None:
        """Growth of the counter between two instants; None without data covering ``start``."""
        first, last = self.value_at(start), self.value_at(end)
        if first is None or last is None:
            return None
        return max(0.0, last - first)

    def period_increases(self, now: datetime, period_s: float, periods: int) -> list[float] | None:
        """Increase in each of the last ``periods`` windows of ``period_s``, newest first."""
        result: list[float] = []
        for k in range(periods):
            end = now - timedelta(seconds=k * period_s)
            growth = self.increase(end - timedelta(seconds=period_s), end)
            if growth is None:
                return None
            result.append(growth)
        return result


class ProducerCpuRule:
    """Seed alarm producer-cpu: CPU > 80 % averaged over each of 2 consecutive 5-minute periods."""

    name = "producer_cpu_high"

    def __init__(self, percent: float = 80.0, period_s: float = 300.0, periods: int = 2) -> None:
        self.percent, self.period_s, self.periods = percent, period_s, periods
        self._cpu = CounterHistory(period_s * periods)

    def evaluate(self, state: PipelineState) -> list[Finding]:
        """Fire when every period's average process CPU exceeds the threshold."""
        if state.cpu_seconds is None:
            return []
        self._cpu.add(state.at, state.cpu_seconds)
        growth = self._cpu.period_increases(state.at, self.period_s, self.periods)
        if growth is None:
            return []
        percents = [round(100.0 * g / self.period_s, 1) for g in growth]
        if not all(p > self.percent for p in percents):
            return []
        minutes = self.period_s / 60.0
        return [
            Finding(
                self.name,
                self.name,
                Severity.WARNING,
                f"Ingest process CPU above {self.percent:g}%",
                f"Process CPU averaged {', '.join(f'{p:g}%' for p in percents)} of one core over "
                f"the last {self.periods} × {minutes:g} min (threshold {self.percent:g}%).",
                {
                    "alert_type": "PRODUCER_CPU_HIGH",
                    "cpu_percent_per_period": percents,
                    "threshold_percent": self.percent,
                    "action_required": "Check ingest throughput and the host load; raise "
                    "ingest.flush_events to batch more, or move ingest to its own core/host.",
                },
            )
        ]


class BronzeHealthRule:
    """Seed alarm bronze-health: no bronze records for 10 min, but only while data is waiting.

    "Waiting" = events were appended to the log in the window or the bronze consumer has lag. With
    nothing appended and no lag the source is silent, which :class:`StaleSourceRule` reports.
    """

    name = "bronze_stalled"

    def __init__(self, silence_s: float = 600.0) -> None:
        self.silence_s = silence_s
        self._bronze = CounterHistory(silence_s)
        self._appended = CounterHistory(silence_s)

    def evaluate(self, state: PipelineState) -> list[Finding]:
        """Fire when bronze wrote nothing for ``silence_s`` while records were waiting."""
        self._bronze.add(state.at, state.bronze_records)
        self._appended.add(state.at, state.events_appended)
        start = state.at - timedelta(seconds=self.silence_s)
        written = self._bronze.increase(start, state.at)
        appended = self._appended.increase(start, state.at)
        if written is None or appended is None or written >= 1:
            return []
        lag = state.consumer_lag.get("bronze", 0)
        if appended < 1 and lag < 1:
            return []  # source silent: nothing to write, bronze is not at fault
        minutes = self.silence_s / 60.0
        last = state.last_commit_at.get("bronze")
        return [
            Finding(
                self.name,
                self.name,
                Severity.CRITICAL,
                f"Bronze wrote no rows for {minutes:g} min while data is waiting",
                f"{int(appended)} events were appended to the log in the last {minutes:g} min and "
                f"the bronze consumer lags by {lag} records, but bronze processed none.",
                {
                    "alert_type": "BRONZE_STALLED",
                    "layer": "bronze",
                    "events_appended_in_window": int(appended),
                    "consumer_lag": lag,
                    "last_bronze_commit": to_iso(last) if last else None,
                    "stage_state": state.stage_states.get("bronze"),
                    "action_required": "The supervisor restarts a stalled bronze stage; if this "
                    "persists, check the bronze logs and catalog, then restart `wikistream run`.",
                },
            )
        ]


class StaleSourceRule:
    """No event and no canary from EventStreams for ``stale_s``: the connection is dead or stuck."""

    name = "source_stale"

    def __init__(self, stale_s: float = 600.0) -> None:
        self.stale_s = stale_s

    def evaluate(self, state: PipelineState) -> list[Finding]:
        """Fire when the newest event or canary (or process start) is older than ``stale_s``."""
        seen = [t for t in (state.last_event_at, state.last_canary_at) if t is not None]
        last = max(seen) if seen else state.started_at
        silent_s = (state.at - last).total_seconds()
        if silent_s <= self.stale_s:
            return []
        return [
            Finding(
                self.name,
                self.name,
                Severity.WARNING,
                f"No events or canaries from the source for {silent_s / 60:.0f} min",
                "EventStreams sends edits every second and a canary at least hourly; silence "
                "means ingest is disconnected, stuck or blocked.",
                {
                    "alert_type": "SOURCE_STALE",
                    "last_event_at": to_iso(state.last_event_at) if state.last_event_at else None,
                    "last_canary_at": to_iso(state.last_canary_at)
                    if state.last_canary_at
                    else None,
                    "silent_seconds": round(silent_s),
                    "threshold_seconds": self.stale_s,
                    "action_required": "Check the ingest logs for HTTP errors (403: set "
                    "ingest.contact), network access to stream.wikimedia.org, and restart ingest.",
                },
            )
        ]


class DlqRateRule:
    """Seed alarm dlq-high-rate: more than 10 dead letters per minute, 2 minutes in a row."""

    name = "dlq_high_rate"

    def __init__(self, per_minute: float = 10.0, minutes: int = 2) -> None:
        self.per_minute, self.minutes = per_minute, minutes
        self._dlq = CounterHistory(60.0 * minutes)

    def evaluate(self, state: PipelineState) -> list[Finding]:
        """Fire when each of the last ``minutes`` minutes had more than ``per_minute`` DLQ rows."""
        self._dlq.add(state.at, state.dlq_records)
        counts = self._dlq.period_increases(state.at, 60.0, self.minutes)
        if counts is None or not all(c > self.per_minute for c in counts):
            return []
        per_minute = [round(c, 1) for c in counts]
        return [
            Finding(
                self.name,
                self.name,
                Severity.WARNING,
                f"Dead-letter rate above {self.per_minute:g}/min",
                f"{', '.join(f'{c:g}' for c in per_minute)} records per minute went to the "
                f"dead-letter log in the last {self.minutes} minutes.",
                {
                    "alert_type": "DLQ_HIGH_RATE",
                    "dlq_per_minute": per_minute,
                    "threshold_per_minute": self.per_minute,
                    "query_hint": "read the newest records of the dlq-events topic; error_type "
                    "and error say why each was refused",
                    "action_required": "Look for a schema change upstream or a bad deploy; "
                    "dead letters keep the raw payload, so they can be replayed once fixed.",
                },
            )
        ]


class PipelineFailureRule:
    """Seed alarm batch-pipeline-failure; clears when a later cycle completes."""

    name = "pipeline_failure"

    def evaluate(self, state: PipelineState) -> list[Finding]:
        """Fire while the latest cycle failed (a failed gate is left to GateFailureRule)."""
        cycle = state.last_cycle
        if cycle is None or cycle.ok:
            return []
        if (cycle.failed_step or "").endswith("gate") and any(
            not g.passed and g.layer == cycle.failed_layer for g in state.gates.values()
        ):
            return []  # the gate alert carries the detail; the seed sent both
        layer = cycle.failed_layer or "unknown"
        return [
            Finding(
                self.name,
                self.name,
                Severity.CRITICAL,
                f"Batch pipeline failed at {layer} {cycle.failed_step or 'step'}",
                f"Cycle {cycle.run_id or '?'} stopped at {layer}/{cycle.failed_step or '?'}: "
                f"{cycle.error or 'no error text'}.",
                {
                    "alert_type": "PIPELINE_FAILURE",
                    "layer": layer,
                    "step": cycle.failed_step,
                    "run_id": cycle.run_id,
                    "error": cycle.error,
                    "failed_at": to_iso(cycle.at),
                    "action_required": "Downstream layers were not updated this cycle. Fix the "
                    "cause in the logs; the next cycle retries automatically.",
                },
            )
        ]


class GateFailureRule:
    """A DQ gate failed (SEED-FACTS §5.10 payload); clears when the table's next gate passes."""

    name = "dq_gate_failure"

    def evaluate(self, state: PipelineState) -> list[Finding]:
        """One finding per table whose latest gate run failed."""
        return [gate_failure_finding(self.name, g) for g in state.gates.values() if not g.passed]


class DriftRule:
    """A profiled column moved more than ``threshold`` from its baseline (SEED-FACTS §5.8)."""

    name = "data_drift"

    def __init__(self, threshold: float = 0.20) -> None:
        self.threshold = threshold

    def evaluate(self, state: PipelineState) -> list[Finding]:
        """One finding per column whose latest drift exceeds the threshold."""
        return [
            drift_finding(self.name, d, self.threshold)
            for d in state.drift.values()
            if d.difference > self.threshold
        ]


class StageRestartRule:
    """Seed's BRONZE_JOB_RESTART for any stage; a failed restart is CRITICAL."""

    name = "stage_restart"

    def __init__(self, window_s: float = 600.0) -> None:
        self.window_s = window_s

    def evaluate(self, state: PipelineState) -> list[Finding]:
        """One finding per stage restarted within the window; clears after a quiet window."""
        since = state.at - timedelta(seconds=self.window_s)
        by_stage: dict[str, list[Any]] = {}
        for record in state.restarts:
            if record.at >= since:
                by_stage.setdefault(record.stage, []).append(record)
        findings = []
        for stage, records in sorted(by_stage.items()):
            last = records[-1]
            failed = [r for r in records if not r.ok]
            severity = Severity.CRITICAL if failed else Severity.INFO
            verb = "restart FAILED" if failed else "restarted"
            findings.append(
                Finding(
                    self.name,
                    f"{self.name}:{stage}",
                    severity,
                    f"Stage {stage} {verb}",
                    f"{stage} was restarted {len(records)} time(s) in the last "
                    f"{self.window_s / 60:g} min; last reason: {last.reason or 'unknown'}.",
                    {
                        "alert_type": "STAGE_RESTART_FAILED" if failed else "STAGE_RESTART",
                        "stage": stage,
                        "restarts_in_window": len(records),
                        "reason": last.reason,
                        "error": failed[-1].error if failed else None,
                        "restarted_at": to_iso(last.at),
                        "action_required": (
                            f"Restart {stage} by hand (restart `wikistream run`) and read its "
                            "logs: the supervisor could not bring it back."
                            if failed
                            else "None if it stays up; repeated restarts mean a crash loop."
                        ),
                    },
                )
            )
        return findings


def build_rules(settings: Settings) -> list[AlertRule]:
    """The default rule set, thresholds taken from settings."""
    cfg = settings.observe
    return [
        ProducerCpuRule(cfg.cpu_alert_percent, cfg.cpu_alert_period_s, cfg.cpu_alert_periods),
        BronzeHealthRule(settings.orchestrate.bronze_silence_alarm_s),
        StaleSourceRule(cfg.source_stale_s),
        DlqRateRule(cfg.dlq_alert_per_minute, cfg.dlq_alert_minutes),
        PipelineFailureRule(),
        GateFailureRule(),
        DriftRule(settings.quality.drift_alert),
        StageRestartRule(cfg.restart_alert_window_s),
    ]
