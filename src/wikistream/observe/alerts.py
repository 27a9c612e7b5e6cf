"""Alerts: what a rule found, how it is de-duplicated, and where it is sent.

A rule looks at a :class:`PipelineState` and returns :class:`Finding` objects, one per condition
that holds right now (keyed, e.g. ``dq_gate_failure:bronze:bronze.raw_events``).
:class:`AlertEvaluator` turns findings into :class:`Alert` messages the Alertmanager way: a new key
fires at once; a key that persists is repeated at most once per cooldown (sooner if its severity
rises); a key that disappears sends one ``resolved`` message. Sinks that fail are logged and
counted, never raised: alerting must not break the pipeline.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Protocol

from wikistream.clock import to_iso
from wikistream.observe.state import PipelineState

if TYPE_CHECKING:
    from wikistream.observe.metrics import PipelineMetrics

logger = logging.getLogger(__name__)

SUBJECT_LIMIT = 100  # SNS and the seed's e-mail subjects: at most 100 characters.


class Severity(StrEnum):
    """How urgent an alert is (the seed's SNS payload values)."""

    INFO = "INFO"
    WARNING = "WARNING"
    CRITICAL = "CRITICAL"

    @property
    def rank(self) -> int:
        """0 for INFO, 1 for WARNING, 2 for CRITICAL."""
        return list(Severity).index(self)


class AlertStatus(StrEnum):
    """Whether a message opens or closes an alert."""

    FIRING = "firing"
    RESOLVED = "resolved"


_ICONS = {Severity.INFO: "ℹ️", Severity.WARNING: "⚠️", Severity.CRITICAL: "🚨"}
_RESERVED = frozenset(
    {"name", "key", "severity", "status", "timestamp", "started_at", "title", "message"}
)


@dataclass(frozen=True, slots=True)
class Finding:
    """A condition a rule sees right now; ``details`` go into the alert payload verbatim."""

    rule: str
    key: str
    severity: Severity
    title: str
    summary: str
    details: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Alert:
    """One alert message; ``details`` carry alert_type, layer, run_id, checks, query and action."""

    name: str
    key: str
    severity: Severity
    status: AlertStatus
    title: str
    summary: str
    details: Mapping[str, Any]
    started_at: datetime
    at: datetime

    def __post_init__(self) -> None:
        clash = _RESERVED & set(self.details)
        if clash:
            raise ValueError(f"alert details may not use reserved keys: {sorted(clash)}")

    @property
    def alert_type(self) -> str:
        """The payload's ``alert_type`` (e.g. DATA_QUALITY_GATE_FAILURE)."""
        return str(self.details.get("alert_type", self.name.upper()))

    def subject(self, limit: int = SUBJECT_LIMIT) -> str:
        """One line for an e-mail subject or chat header, at most ``limit`` characters."""
        if self.status is AlertStatus.RESOLVED:
            text = f"✅ RESOLVED WikiStream: {self.title}"
        else:
            text = f"{_ICONS[self.severity]} WikiStream {self.severity.value}: {self.title}"
        text = " ".join(text.split())
        return text if len(text) <= limit else text[: limit - 1] + "…"

    def payload(self) -> dict[str, Any]:
        """The structured message (SEED-FACTS §5.10 keys for gate failures and drift)."""
        body: dict[str, Any] = {
            "alert_type": self.alert_type,
            "name": self.name,
            "key": self.key,
            "severity": self.severity.value,
            "status": self.status.value,
            "timestamp": to_iso(self.at),
            "started_at": to_iso(self.started_at),
            "title": self.title,
            "message": self.summary,
        }
        body.update({k: v for k, v in self.details.items() if k != "alert_type"})
        return body

    def text(self) -> str:
        """A plain-text body for e-mail and logs."""
        lines = [self.subject(limit=1000), "", self.summary, ""]
        for key, value in self.details.items():
            if key == "failed_checks" and isinstance(value, list):
                lines.append(f"{key}:")
                lines.extend(f"  - {item}" for item in value)
            else:
                lines.append(f"{key}: {value}")
        lines.append(f"started_at: {to_iso(self.started_at)}")
        return "\n".join(lines)


class AlertSink(Protocol):
    """Somewhere alerts go: the log, a chat webhook, e-mail, SNS."""

    name: str

    def send(self, alert: Alert) -> None:
        """Deliver one message (firing or resolved) or raise ``AlertDeliveryError``.

        A sink may retry inside ``send`` but must return or raise within its configured timeouts;
        it must never write secrets (tokens, passwords) to logs, errors or its ``repr``.
        """
        ...


class AlertRule(Protocol):
    """A condition over pipeline signals; may keep history between calls (rates, windows)."""

    name: str

    def evaluate(self, state: PipelineState) -> list[Finding]:
        """Return one finding per key for which the condition holds at ``state.at``."""
        ...


@dataclass
class _Active:
    alert: Alert  # the latest state of the condition
    last_sent: datetime
    sent_severity: Severity  # compared against, so flapping severities do not spam


class AlertEvaluator:
    """Run rules, de-duplicate their findings per key and dispatch alerts to every sink."""

    def __init__(
        self,
        rules: Sequence[AlertRule],
        sinks: Sequence[AlertSink],
        cooldown_s: float = 900.0,
        *,
        send_resolved: bool = True,
        metrics: PipelineMetrics | None = None,
    ) -> None:
        self.rules = list(rules)
        self.sinks = list(sinks)
        self.cooldown_s = cooldown_s
        self.send_resolved = send_resolved
        self._metrics = metrics
        self._active: dict[str, _Active] = {}
        self._lock = threading.Lock()
        self.delivery_failures: dict[str, int] = {sink.name: 0 for sink in self.sinks}
        self.rule_errors: dict[str, int] = {}

    def active(self) -> list[Alert]:
        """Alerts firing now, most severe first."""
        with self._lock:
            alerts = [entry.alert for entry in self._active.values()]
        return sorted(alerts, key=lambda a: (-a.severity.rank, a.key))

    def evaluate(self, state: PipelineState) -> list[Alert]:
        """Run every rule against ``state`` and send what is new, repeated or resolved."""
        now = state.at
        findings: dict[str, Finding] = {}
        failed_rules: set[str] = set()
        for rule in self.rules:
            try:
                for finding in rule.evaluate(state):
                    findings[finding.key] = finding
            except Exception:  # a broken rule must not silence the others
                failed_rules.add(rule.name)
                self.rule_errors[rule.name] = self.rule_errors.get(rule.name, 0) + 1
                logger.exception("alert rule %s failed; its alerts keep their state", rule.name)
        outgoing: list[Alert] = []
        with self._lock:
            for key, finding in findings.items():
                outgoing.extend(self._fire(key, finding, now))
            for key in list(self._active):
                entry = self._active[key]
                if key in findings or entry.alert.name in failed_rules:
                    continue
                del self._active[key]
                if self.send_resolved:
                    outgoing.append(self._resolved(entry.alert, now))
        if self._metrics is not None:
            self._metrics.set_active_alerts((a.name, a.severity.value) for a in self.active())
        for alert in outgoing:
            self.dispatch(alert)
        return outgoing

    def _fire(self, key: str, finding: Finding, now: datetime) -> list[Alert]:
        entry = self._active.get(key)
        started = entry.alert.started_at if entry else now
        alert = Alert(
            name=finding.rule,
            key=key,
            severity=finding.severity,
            status=AlertStatus.FIRING,
            title=finding.title,
            summary=finding.summary,
            details=dict(finding.details),
            started_at=started,
            at=now,
        )
        if entry is not None:
            escalated = finding.severity.rank > entry.sent_severity.rank
            due = (now - entry.last_sent).total_seconds() >= self.cooldown_s
            if not (escalated or due):
                entry.alert = replace(alert, at=entry.alert.at)
                return []
        self._active[key] = _Active(alert, now, alert.severity)
        return [alert]

    def _resolved(self, alert: Alert, now: datetime) -> Alert:
        minutes = (now - alert.started_at).total_seconds() / 60.0
        return replace(
            alert,
            status=AlertStatus.RESOLVED,
            summary=f"Cleared after {minutes:.1f} min. Was: {alert.summary}",
            at=now,
        )

    def dispatch(self, alert: Alert) -> dict[str, str | None]:
        """Send ``alert`` to every sink; return sink name → error text (None when delivered)."""
        outcome: dict[str, str | None] = {}
        if self._metrics is not None:
            self._metrics.record_alert(alert.name, alert.severity.value, alert.status.value)
        for sink in self.sinks:
            try:
                sink.send(alert)
            except Exception as exc:  # a failing sink must not break the pipeline or others
                self.delivery_failures[sink.name] = self.delivery_failures.get(sink.name, 0) + 1
                outcome[sink.name] = str(exc)
                logger.warning(
                    "alert %s (%s) not delivered by sink %s: %s",
                    alert.key,
                    alert.status.value,
                    sink.name,
                    exc,
                )
            else:
                outcome[sink.name] = None
            if self._metrics is not None:
                self._metrics.record_delivery(sink.name, outcome[sink.name] is None)
        return outcome


def run_alert_loop(
    metrics: PipelineMetrics,
    evaluator: AlertEvaluator,
    *,
    interval_s: float,
    stop: threading.Event,
    on_error: Callable[[BaseException], None] | None = None,
) -> None:
    """Evaluate ``metrics.snapshot()`` every ``interval_s`` until ``stop`` is set."""
    while not stop.is_set():
        try:
            evaluator.evaluate(metrics.snapshot())
        except Exception as exc:  # keep watching; the next round may succeed
            logger.exception("alert evaluation failed")
            if on_error is not None:
                on_error(exc)
        stop.wait(interval_s)


def start_alert_thread(
    metrics: PipelineMetrics, evaluator: AlertEvaluator, *, interval_s: float
) -> tuple[threading.Thread, threading.Event]:
    """Run :func:`run_alert_loop` on a daemon thread; set the returned event to stop it."""
    stop = threading.Event()
    thread = threading.Thread(
        target=run_alert_loop,
        kwargs={"metrics": metrics, "evaluator": evaluator, "interval_s": interval_s, "stop": stop},
        name="wikistream-alerts",
        daemon=True,
    )
    thread.start()
    return thread, stop
