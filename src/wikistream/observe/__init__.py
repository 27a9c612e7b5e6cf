"""Observability: Prometheus metrics, alert rules and alert sinks.

Typical wiring (one object per process, passed explicitly)::

    metrics = PipelineMetrics()
    server = serve_metrics(metrics, settings.observe.metrics_host, settings.observe.metrics_port)
    evaluator = AlertEvaluator(build_rules(settings), build_sinks(settings.observe),
                               settings.observe.alert_cooldown_s, metrics=metrics)
    thread, stop = start_alert_thread(metrics, evaluator,
                                      interval_s=settings.observe.alert_interval_s)
"""

from wikistream.observe.alerts import (
    Alert,
    AlertEvaluator,
    AlertRule,
    AlertSink,
    AlertStatus,
    Finding,
    Severity,
    run_alert_loop,
    start_alert_thread,
)
from wikistream.observe.metrics import PipelineMetrics
from wikistream.observe.rules import build_rules
from wikistream.observe.server import MetricsServer, serve_metrics
from wikistream.observe.sinks import (
    LogAlertSink,
    SmtpAlertSink,
    SnsAlertSink,
    WebhookAlertSink,
    build_sinks,
)
from wikistream.observe.state import CheckOutcome, PipelineState

__all__ = [
    "Alert",
    "AlertEvaluator",
    "AlertRule",
    "AlertSink",
    "AlertStatus",
    "CheckOutcome",
    "Finding",
    "LogAlertSink",
    "MetricsServer",
    "PipelineMetrics",
    "PipelineState",
    "Severity",
    "SmtpAlertSink",
    "SnsAlertSink",
    "WebhookAlertSink",
    "build_rules",
    "build_sinks",
    "run_alert_loop",
    "serve_metrics",
    "start_alert_thread",
]
