"""Every Prometheus series WikiStream exports, defined once on a private registry."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, Info
from prometheus_client import Enum as EnumMetric

from wikistream import __version__

PREFIX = "wikistream"
# The states of orchestrate.status.StageStatus, plus what the supervisor sees from outside.
STAGE_STATES = (
    "starting",
    "running",
    "idle",
    "blocked",
    "stalled",
    "restarting",
    "failed",
    "stopped",
    "done",
    "scheduled",
)

# Seconds from an event's own timestamp until it is visible in a layer: seconds for bronze,
# minutes to an hour for the batch layers, days for backfills.
LATENCY_BUCKETS = (1, 5, 15, 30, 60, 120, 180, 300, 600, 1200, 1800, 3600, 7200, 21600, 86400)
BATCH_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120)
STEP_BUCKETS = (1, 5, 15, 30, 60, 120, 300, 600, 900, 1800, 3600)


class PipelineSeries:
    """The metric objects; :class:`~wikistream.observe.metrics.PipelineMetrics` updates them."""

    def __init__(self, registry: CollectorRegistry) -> None:
        r, p = registry, PREFIX
        Info(f"{p}_build", "WikiStream version.", registry=r).info({"version": __version__})
        self.ingest = {
            name: Counter(f"{p}_ingest_events_{name}", help_text, registry=r)
            for name, help_text in (
                ("received", "SSE events read from the source, canaries included."),
                ("appended", "Events appended to the event log (seed: EventsProcessed)."),
                ("filtered", "Events dropped because their wiki is not a target domain."),
                ("canary", "Wikimedia canary/heartbeat events seen (and discarded)."),
                ("duplicates", "Events skipped because their id was already appended."),
                ("errors", "Ingest errors: decode, append or connection failures."),
                ("reconnects", "Reconnections to the source after an error or idle timeout."),
            )
        }
        self.dlq_records = Counter(
            f"{p}_dlq_records",
            "Records written to the dead-letter log.",
            ["stage", "reason"],
            registry=r,
        )
        self.last_event = Gauge(
            f"{p}_ingest_last_event_timestamp_seconds",
            "When the last source event arrived.",
            registry=r,
        )
        self.last_canary = Gauge(
            f"{p}_ingest_last_canary_timestamp_seconds",
            "When the last canary event arrived.",
            registry=r,
        )
        self.last_activity = Gauge(
            f"{p}_ingest_last_activity_timestamp_seconds",
            "When the source last sent anything (event or canary).",
            registry=r,
        )
        self.consumer_lag = Gauge(
            f"{p}_consumer_lag_records", "Log records not yet consumed.", ["consumer"], registry=r
        )
        self.bronze_records = Counter(
            f"{p}_bronze_records_processed",
            "Log records in bronze batches (before dedup).",
            registry=r,
        )
        self.bronze_batches = Counter(
            f"{p}_bronze_batches", "Bronze micro-batches committed.", registry=r
        )
        self.bronze_batch_seconds = Histogram(
            f"{p}_bronze_batch_duration_seconds",
            "Wall time to write one bronze batch.",
            buckets=BATCH_BUCKETS,
            registry=r,
        )
        self.layer_rows = Counter(
            f"{p}_layer_rows_written",
            "Rows written per layer (bronze: newly inserted rows).",
            ["layer"],
            registry=r,
        )
        self.e2e_latency = Histogram(
            f"{p}_end_to_end_latency_seconds",
            "Event time until the row is visible in the layer.",
            ["layer"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.last_commit = Gauge(
            f"{p}_last_commit_timestamp_seconds",
            "Last successful commit per layer.",
            ["layer"],
            registry=r,
        )
        self.gate_status = Gauge(
            f"{p}_dq_gate_status",
            "Latest DQ gate result: 1 passed, 0 failed.",
            ["layer", "table"],
            registry=r,
        )
        self.gate_runs = Counter(
            f"{p}_dq_gate_runs", "DQ gate runs by result.", ["layer", "table", "result"], registry=r
        )
        self.pass_ratio = Gauge(
            f"{p}_dq_pass_ratio",
            "Share of checks PASSED in the latest gate run (0-1).",
            ["layer", "table"],
            registry=r,
        )
        self.check_status = Gauge(
            f"{p}_dq_check_status",
            "Latest check result: 1 PASSED, else 0.",
            ["layer", "table", "check", "check_type"],
            registry=r,
        )
        self.check_seconds = Gauge(
            f"{p}_dq_check_duration_seconds",
            "Duration of the latest run of a check.",
            ["layer", "table", "check"],
            registry=r,
        )
        self.drift_difference = Gauge(
            f"{p}_dq_drift_difference",
            "|current - baseline| of a profiled column metric.",
            ["layer", "table", "column", "metric"],
            registry=r,
        )
        self.cycles_started = Counter(f"{p}_pipeline_cycles_started", "Cycles begun.", registry=r)
        self.cycles_completed = Counter(
            f"{p}_pipeline_cycles_completed", "Cycles that ran every step.", registry=r
        )
        self.cycles_failed = Counter(
            f"{p}_pipeline_cycles_failed", "Cycles stopped by a failure.", registry=r
        )
        self.last_cycle_success = Gauge(
            f"{p}_pipeline_last_cycle_success",
            "1 if the latest cycle completed, else 0.",
            registry=r,
        )
        self.cycle_seconds = Histogram(
            f"{p}_pipeline_cycle_duration_seconds",
            "Wall time of a batch cycle.",
            buckets=STEP_BUCKETS,
            registry=r,
        )
        self.steps = Counter(
            f"{p}_pipeline_steps",
            "Pipeline steps by outcome.",
            ["layer", "step", "outcome"],
            registry=r,
        )
        self.step_seconds = Histogram(
            f"{p}_pipeline_step_duration_seconds",
            "Wall time of a pipeline step.",
            ["layer", "step"],
            buckets=STEP_BUCKETS,
            registry=r,
        )
        self.restarts = Counter(
            f"{p}_stage_restarts", "Automatic stage restarts.", ["stage", "outcome"], registry=r
        )
        self.stage_state = EnumMetric(
            f"{p}_stage_state",
            "Current state of each long-running stage.",
            ["stage"],
            states=list(STAGE_STATES),
            registry=r,
        )
        self.alerts_sent = Counter(
            f"{p}_alerts_sent",
            "Alert messages dispatched.",
            ["alert", "severity", "status"],
            registry=r,
        )
        self.alert_active = Gauge(
            f"{p}_alert_active",
            "Alerts firing now, per rule and severity.",
            ["alert", "severity"],
            registry=r,
        )
        self.alert_deliveries = Counter(
            f"{p}_alert_deliveries",
            "Alert deliveries per sink by outcome.",
            ["sink", "outcome"],
            registry=r,
        )
