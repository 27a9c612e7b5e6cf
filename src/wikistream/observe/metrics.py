"""The pipeline's Prometheus metrics, and the signals alert rules read, behind one object.

Every stage reports through :class:`PipelineMetrics` (thread-safe). It owns its own
``CollectorRegistry`` (never the process-global one), so two pipelines in one process, or two tests,
never share series. Names follow Prometheus conventions with the ``wikistream_`` prefix; the seed's
CloudWatch metrics map as documented in docs/differences/observe.md.
"""

from __future__ import annotations

import threading
import time
from collections import Counter as CountOf
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime

from prometheus_client import (
    CollectorRegistry,
    PlatformCollector,
    ProcessCollector,
    generate_latest,
)

from wikistream.clock import utc_now
from wikistream.observe.series import PREFIX, STAGE_STATES, PipelineSeries
from wikistream.observe.state import (
    BLOCKING_STATUSES,
    CheckFailure,
    CheckOutcome,
    CycleOutcome,
    DriftObservation,
    GateOutcome,
    PipelineState,
    RestartRecord,
    status_text,
)

# `observe_ingest` keys → counter name suffix; `processed` is the seed's name for `appended`.
INGEST_COUNTERS: Mapping[str, str] = {
    "received": "received",
    "appended": "appended",
    "processed": "appended",
    "filtered": "filtered",
    "canary": "canary",
    "duplicates": "duplicates",
    "errors": "errors",
    "reconnects": "reconnects",
}

RESTART_HISTORY = 200


def _epoch(value: datetime | float) -> float:
    return float(value) if isinstance(value, float | int) else value.timestamp()


class PipelineMetrics:
    """Counters, gauges and histograms of every stage, plus the state alert rules need."""

    def __init__(
        self,
        *,
        registry: CollectorRegistry | None = None,
        clock: Callable[[], datetime] = utc_now,
        process_metrics: bool = True,
        cpu_seconds: Callable[[], float] | None = time.process_time,
    ) -> None:
        self.registry = registry if registry is not None else CollectorRegistry(auto_describe=True)
        self._clock = clock
        self._cpu_seconds = cpu_seconds
        self._lock = threading.Lock()
        self._started_at = clock()
        self._totals = {"received": 0, "appended": 0, "dlq": 0, "bronze": 0}
        self._last_totals: dict[str, int] = {}
        self._last_event_at: datetime | None = None
        self._last_canary_at: datetime | None = None
        self._lag: dict[str, int] = {}
        self._commits: dict[str, datetime] = {}
        self._gates: dict[tuple[str, str], GateOutcome] = {}
        self._cycle: CycleOutcome | None = None
        self._restarts: deque[RestartRecord] = deque(maxlen=RESTART_HISTORY)
        self._drift: dict[tuple[str, str], DriftObservation] = {}
        self._stage_states: dict[str, str] = {}
        self._alert_series: set[tuple[str, str]] = set()
        if process_metrics:
            # process CPU/memory under our prefix: the producer-CPU alarm needs no job selector.
            ProcessCollector(namespace=PREFIX, registry=self.registry)
            PlatformCollector(registry=self.registry)
        self.series = PipelineSeries(self.registry)

    # ---- ingest -----------------------------------------------------------------------------

    def observe_ingest(
        self,
        delta: Mapping[str, int],
        *,
        last_event_at: datetime | None = None,
        last_canary_at: datetime | None = None,
    ) -> None:
        """Add counter increments since the last call (keys: INGEST_COUNTERS and ``dlq``).

        ``dlq`` is counted as stage ``ingest``, reason ``unspecified``; callers that know reasons
        use :meth:`observe_dlq` instead. Unknown keys and negative values raise ``ValueError``.
        ``last_event_at`` / ``last_canary_at`` are *arrival* times (not event times: a replay of
        old events is still a live source).
        """
        for key, value in delta.items():
            if key not in INGEST_COUNTERS and key != "dlq":
                known = ", ".join(sorted({*INGEST_COUNTERS, "dlq"}))
                raise ValueError(f"unknown ingest counter {key!r}; known: {known}")
            if value < 0:
                raise ValueError(f"ingest counter {key!r} delta is negative ({value})")
        with self._lock:
            for key, value in delta.items():
                if not value:
                    continue
                if key == "dlq":
                    self.series.dlq_records.labels("ingest", "unspecified").inc(value)
                    self._totals["dlq"] += value
                    continue
                name = INGEST_COUNTERS[key]
                self.series.ingest[name].inc(value)
                if name in self._totals:
                    self._totals[name] += value
            self._mark_source(last_event_at, last_canary_at)

    def observe_ingest_totals(
        self,
        totals: Mapping[str, int],
        *,
        last_event_at: datetime | None = None,
        last_canary_at: datetime | None = None,
    ) -> None:
        """Like :meth:`observe_ingest` but with cumulative totals; the delta is computed here.

        A total lower than last time (the ingest process restarted) counts in full.
        """
        delta = self._deltas("ingest", totals)
        self.observe_ingest(delta, last_event_at=last_event_at, last_canary_at=last_canary_at)

    def _deltas(self, source: str, totals: Mapping[str, int]) -> dict[str, int]:
        delta: dict[str, int] = {}
        with self._lock:
            for key, total in totals.items():
                previous = self._last_totals.get(f"{source}.{key}", 0)
                delta[key] = total - previous if total >= previous else total
                self._last_totals[f"{source}.{key}"] = total
        return delta

    def observe_bronze_totals(
        self, records: int, batches: int, written: int, *, committed_at: datetime | None = None
    ) -> None:
        """Cumulative bronze counters from another process (e.g. a worker's status file).

        For a supervisor that cannot call :meth:`observe_bronze_batch` in the bronze process:
        counters and the last-commit time move, latency histograms do not. A total lower than
        last time (the worker restarted) counts in full.
        """
        delta = self._deltas("bronze", {"records": records, "batches": batches, "written": written})
        with self._lock:
            self.series.bronze_records.inc(delta["records"])
            self.series.bronze_batches.inc(delta["batches"])
            self._totals["bronze"] += delta["records"]
        if delta["batches"] or delta["written"]:
            self._observe_commit("bronze", delta["written"], (), committed_at)

    def observe_bronze_batch_time(self, seconds: float) -> None:
        """Record the wall time of one bronze batch known only from another process's report."""
        self.series.bronze_batch_seconds.observe(max(0.0, seconds))

    def _mark_source(self, event_at: datetime | None, canary_at: datetime | None) -> None:
        if event_at is not None and (self._last_event_at is None or event_at > self._last_event_at):
            self._last_event_at = event_at
            self.series.last_event.set(event_at.timestamp())
        if canary_at is not None and (
            self._last_canary_at is None or canary_at > self._last_canary_at
        ):
            self._last_canary_at = canary_at
            self.series.last_canary.set(canary_at.timestamp())
        seen = [t for t in (self._last_event_at, self._last_canary_at) if t is not None]
        if seen:
            self.series.last_activity.set(max(seen).timestamp())

    def observe_dlq(self, stage: str, reason: str, count: int = 1) -> None:
        """Count ``count`` dead-letter records of ``stage`` (ingest, bronze) with ``reason``."""
        if count < 0:
            raise ValueError(f"DLQ count is negative ({count})")
        with self._lock:
            self.series.dlq_records.labels(stage, reason).inc(count)
            self._totals["dlq"] += count

    def set_consumer_lag(self, consumer: str, records: int) -> None:
        """Record how many log records ``consumer`` (e.g. ``bronze``) has yet to read."""
        with self._lock:
            self._lag[consumer] = max(0, records)
            self.series.consumer_lag.labels(consumer).set(max(0, records))

    # ---- lake layers ------------------------------------------------------------------------

    def observe_bronze_batch(
        self,
        rows: int,
        latency_s: float,
        event_times: Iterable[datetime | float] = (),
        *,
        written: int | None = None,
        committed_at: datetime | None = None,
    ) -> None:
        """Record one committed bronze micro-batch.

        ``rows`` = log records in the batch (the seed's BronzeRecordsProcessed), ``written`` = rows
        actually inserted (default ``rows``), ``latency_s`` = wall time of the write,
        ``event_times`` = event timestamps of the written rows (aware datetimes or epoch seconds).
        """
        with self._lock:
            self.series.bronze_records.inc(rows)
            self.series.bronze_batches.inc()
            self.series.bronze_batch_seconds.observe(max(0.0, latency_s))
            self._totals["bronze"] += rows
        self._observe_commit(
            "bronze", rows if written is None else written, event_times, committed_at
        )

    def observe_layer_commit(
        self,
        layer: str,
        rows: int,
        event_times: Iterable[datetime | float] = (),
        *,
        committed_at: datetime | None = None,
    ) -> None:
        """Record a successful commit of ``rows`` rows to ``layer`` (silver, gold)."""
        self._observe_commit(layer, rows, event_times, committed_at)

    def _observe_commit(
        self,
        layer: str,
        rows: int,
        event_times: Iterable[datetime | float],
        committed_at: datetime | None,
    ) -> None:
        at = committed_at or self._clock()
        now_s = at.timestamp()
        histogram = self.series.e2e_latency.labels(layer)
        for event_time in event_times:
            # Clamp: an event stamped in the future (clock skew) is "visible immediately".
            histogram.observe(max(0.0, now_s - _epoch(event_time)))
        with self._lock:
            self.series.layer_rows.labels(layer).inc(max(0, rows))
            self._commits[layer] = at
            self.series.last_commit.labels(layer).set(now_s)

    # ---- data quality -----------------------------------------------------------------------

    def observe_gate(
        self,
        layer: str,
        table: str,
        passed: bool,
        results: Iterable[CheckOutcome],
        *,
        run_id: str,
        at: datetime | None = None,
    ) -> GateOutcome:
        """Record one gate run of ``table``; returns the outcome alert rules will see."""
        results = list(results)
        statuses = [status_text(result.status) for result in results]
        failures = tuple(
            CheckFailure(
                name=result.check_name,
                check_type=str(result.check_type),
                status=status,
                message=result.message,
                metric_value=result.metric_value,
                threshold=result.threshold_value,
            )
            for result, status in zip(results, statuses, strict=True)
            if status in BLOCKING_STATUSES
        )
        outcome = GateOutcome(
            layer=layer,
            table=table,
            run_id=run_id,
            passed=passed,
            at=at or self._clock(),
            total_checks=len(results),
            passed_checks=statuses.count("PASSED"),
            failed_checks=sum(1 for s in statuses if s in BLOCKING_STATUSES),
            warnings=statuses.count("WARNING"),
            failures=failures,
        )
        with self._lock:
            self._gates[(layer, table)] = outcome
            self.series.gate_status.labels(layer, table).set(1 if passed else 0)
            self.series.gate_runs.labels(layer, table, "passed" if passed else "failed").inc()
            if results:
                self.series.pass_ratio.labels(layer, table).set(
                    outcome.passed_checks / len(results)
                )
            for result, status in zip(results, statuses, strict=True):
                labels = (layer, table, result.check_name)
                self.series.check_status.labels(*labels, str(result.check_type)).set(
                    1 if status == "PASSED" else 0
                )
                if result.check_duration_ms:
                    self.series.check_seconds.labels(*labels).set(result.check_duration_ms / 1000.0)
        return outcome

    def observe_drift(
        self,
        layer: str,
        table: str,
        column: str,
        current: float,
        baseline: float,
        *,
        metric: str = "null_rate",
    ) -> DriftObservation:
        """Record the latest drift measurement of ``column`` (e.g. null rate vs 7-day mean)."""
        observation = DriftObservation(
            layer, table, column, metric, current, baseline, self._clock()
        )
        with self._lock:
            self._drift[(layer, column)] = observation
            self.series.drift_difference.labels(layer, table, column, metric).set(
                observation.difference
            )
        return observation

    # ---- orchestration ----------------------------------------------------------------------

    def cycle_started(self) -> None:
        """Count the start of a batch cycle (seed: BatchPipelineStarted)."""
        self.series.cycles_started.inc()

    def cycle_finished(
        self,
        ok: bool,
        duration_s: float,
        *,
        run_id: str | None = None,
        failed_layer: str | None = None,
        failed_step: str | None = None,
        error: str | None = None,
    ) -> None:
        """Record how a cycle ended; a failure names the layer and step (process, gate)."""
        outcome = CycleOutcome(
            ok, self._clock(), run_id, duration_s, failed_layer, failed_step, error
        )
        with self._lock:
            self._cycle = outcome
            (self.series.cycles_completed if ok else self.series.cycles_failed).inc()
            self.series.last_cycle_success.set(1 if ok else 0)
            self.series.cycle_seconds.observe(max(0.0, duration_s))

    def observe_step(self, layer: str, step: str, ok: bool, duration_s: float) -> None:
        """Record one pipeline step (``step`` = process or gate) of ``layer``."""
        self.series.steps.labels(layer, step, "success" if ok else "failure").inc()
        self.series.step_seconds.labels(layer, step).observe(max(0.0, duration_s))

    def record_restart(
        self, stage: str, *, ok: bool = True, reason: str = "", error: str | None = None
    ) -> None:
        """Record that the supervisor restarted ``stage`` (``ok=False``: the restart failed)."""
        record = RestartRecord(stage, self._clock(), ok, reason, error)
        with self._lock:
            self._restarts.append(record)
            self.series.restarts.labels(stage, "ok" if ok else "failed").inc()

    def set_stage_state(self, stage: str, state: str) -> None:
        """Set the state of a long-running stage; one of STAGE_STATES."""
        if state not in STAGE_STATES:
            raise ValueError(f"unknown stage state {state!r}; known: {', '.join(STAGE_STATES)}")
        with self._lock:
            self._stage_states[stage] = state
            self.series.stage_state.labels(stage).state(state)

    # ---- alerts -----------------------------------------------------------------------------

    def record_alert(self, name: str, severity: str, status: str) -> None:
        """Count one dispatched alert message."""
        self.series.alerts_sent.labels(name, severity, status).inc()

    def set_active_alerts(self, active: Iterable[tuple[str, str]]) -> None:
        """Set how many alerts fire now per (rule, severity); pairs not given drop to 0."""
        counts = CountOf(active)
        with self._lock:
            for key in self._alert_series - counts.keys():
                self.series.alert_active.labels(*key).set(0)
            for key, count in counts.items():
                self.series.alert_active.labels(*key).set(count)
            self._alert_series |= set(counts)

    def record_delivery(self, sink: str, ok: bool) -> None:
        """Count one delivery attempt of a sink."""
        self.series.alert_deliveries.labels(sink, "ok" if ok else "failed").inc()

    # ---- read -------------------------------------------------------------------------------

    def snapshot(self) -> PipelineState:
        """Return the signals as they are now (for alert rules)."""
        cpu = self._cpu_seconds() if self._cpu_seconds is not None else None
        with self._lock:
            return PipelineState(
                at=self._clock(),
                started_at=self._started_at,
                events_received=self._totals["received"],
                events_appended=self._totals["appended"],
                dlq_records=self._totals["dlq"],
                bronze_records=self._totals["bronze"],
                cpu_seconds=cpu,
                last_event_at=self._last_event_at,
                last_canary_at=self._last_canary_at,
                consumer_lag=dict(self._lag),
                last_commit_at=dict(self._commits),
                gates=dict(self._gates),
                last_cycle=self._cycle,
                restarts=tuple(self._restarts),
                drift=dict(self._drift),
                stage_states=dict(self._stage_states),
            )

    def render(self) -> bytes:
        """Return the Prometheus text exposition of every series."""
        return generate_latest(self.registry)
