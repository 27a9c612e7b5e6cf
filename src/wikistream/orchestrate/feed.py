"""Feed the supervisor's metrics from the workers' status files, and publish active alarms.

Workers run in their own processes; each reports cumulative counters and its latest batch, gate
and step results in its status file. The supervisor turns those into Prometheus series (totals
become counter increments, a new batch or gate run is observed once) and evaluates the alert
rules on the result. Active alarms go to ``run/alerts.json`` for `wikistream status` and the
dashboard.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

from wikistream.atomic_file import write_text_atomic
from wikistream.clock import parse_iso_utc_or_none
from wikistream.observe.alerts import Alert
from wikistream.observe.metrics import PipelineMetrics
from wikistream.observe.series import STAGE_STATES
from wikistream.orchestrate.status import RUN_DIR, StageStatus, status_dir

if TYPE_CHECKING:
    from wikistream.quality.gate import GateResult

ALERTS_FILE = "alerts.json"


class StatusFeed:
    """Observes each status change once."""

    def __init__(self, metrics: PipelineMetrics) -> None:
        self.metrics = metrics
        self._seen: dict[str, object] = {}
        self._bronze_batches = 0  # bronze batches whose time was observed

    def _new(self, key: str, marker: object) -> bool:
        if marker is None or self._seen.get(key) == marker:
            return False
        self._seen[key] = marker
        return True

    def update(self, statuses: Mapping[str, StageStatus | None]) -> None:
        """Observe every stage status (None: the stage has not reported yet)."""
        for stage, status in statuses.items():
            if status is None:
                continue
            state = status.state if status.state in STAGE_STATES else "running"
            self.metrics.set_stage_state(stage, state)
            handler = getattr(self, f"_{stage}", None)
            if handler is not None:
                handler(status)

    def _ingest(self, status: StageStatus) -> None:
        c = status.counters
        source = status.details.get("source") or {}
        canary = status.details.get("canary") or {}
        totals = {
            "received": int(c.get("received", 0)),
            "appended": int(c.get("appended", 0)),
            "filtered": int(c.get("filtered", 0)),
            "canary": int(c.get("canary", 0)),
            "duplicates": int(c.get("duplicates", 0)),
            "dlq": int(c.get("dead_lettered", 0)),
        }
        self.metrics.observe_ingest_totals(
            totals,
            last_event_at=parse_iso_utc_or_none(source.get("last_event_at")) or status.progress_at,
            last_canary_at=parse_iso_utc_or_none(canary.get("last_received_at")),
        )

    def _bronze(self, status: StageStatus) -> None:
        c = status.counters
        self.metrics.observe_bronze_totals(
            int(c.get("records", 0)), int(c.get("batches", 0)), int(c.get("rows", 0))
        )
        self.metrics.set_consumer_lag("bronze", int(c.get("lag", 0)))
        batch = status.details.get("last_batch") or {}
        if self._new("bronze.batch", batch.get("at")):
            self.metrics.observe_layer_commit(
                "bronze",
                0,
                batch.get("event_times") or (),
                committed_at=parse_iso_utc_or_none(batch.get("at")),
            )
        self._bronze_batch_times(int(c.get("batches", 0)), batch)

    def _bronze_batch_times(self, batches: int, batch: Mapping[str, Any]) -> None:
        """Observe the time of every bronze batch committed since the last status read."""
        seen = self._bronze_batches
        self._bronze_batches = batches
        new = batches - seen if batches >= seen else batches  # lower: the worker restarted
        recent = batch.get("recent_processing_ms")
        if recent is None:  # a status without the list: the latest batch only
            recent = [batch["processing_ms"]] if batch.get("processing_ms") is not None else []
            new = min(new, 1)
        for ms in recent[-new:] if new > 0 else ():
            self.metrics.observe_bronze_batch_time(float(ms) / 1000.0)

    def _refine(self, status: StageStatus) -> None:
        for layer in ("silver", "gold"):
            step = status.details.get(f"last_{layer}") or {}
            if self._new(f"{layer}.step", step.get("at")):
                self.metrics.observe_layer_commit(
                    layer,
                    int(step.get("rows_out", 0)),
                    step.get("event_times") or (),
                    committed_at=parse_iso_utc_or_none(step.get("at")),
                )
                self.metrics.observe_step(layer, "process", True, float(step.get("duration_s", 0)))
        for gate in (status.details.get("gates") or {}).values():
            if self._new(f"gate.{gate.get('layer')}", gate.get("run_id")):
                observe_gate_record(self.metrics, gate)


def gate_record(result: GateResult) -> dict[str, Any]:
    """A gate result as plain data for status files and step output (what metrics need)."""
    return {
        "run_id": result.run_id,
        "layer": result.layer,
        "tables": result.tables,
        "passed": result.passed,
        "at": result.run_timestamp.isoformat(),
        "summary": result.summary,
        "results": [
            {
                "table": r.table_name,
                "check_name": r.check_name,
                "check_type": r.check_type.value,
                "status": r.status.value,
                "metric_value": r.metric_value,
                "threshold_value": r.threshold_value,
                "message": r.message,
                "check_duration_ms": r.duration_ms,
                "blocking": r.blocking,
            }
            for r in result.results
        ],
        "payload": result.alert_payload(),
        "drift": [
            {
                "table": d.table_name,
                "column": d.column_name,
                "current": d.current_value,
                "baseline": d.baseline_value,
                "level": d.level,
            }
            for d in result.drift
        ],
    }


def observe_gate_record(metrics: PipelineMetrics, gate: Mapping[str, Any]) -> None:
    """Record one gate run (a :func:`gate_record`) per table: gate series and alert state."""
    by_table: dict[str, list[SimpleNamespace]] = {}
    for result in gate.get("results") or []:
        by_table.setdefault(result["table"], []).append(SimpleNamespace(**result))
    for drift in gate.get("drift") or []:
        metrics.observe_drift(
            gate["layer"], drift["table"], drift["column"], drift["current"], drift["baseline"]
        )
    for table, results in by_table.items():
        metrics.observe_gate(
            gate["layer"],
            table,
            not any(getattr(r, "blocking", False) for r in results),
            results,
            run_id=gate["run_id"],
            at=parse_iso_utc_or_none(gate.get("at")),
        )


def write_alerts(data_dir: Path, alerts: list[Alert]) -> None:
    """Replace ``run/alerts.json`` with the active alarms (atomic)."""
    body: list[dict[str, Any]] = [
        {
            "name": a.name,
            "key": a.key,
            "severity": a.severity.value,
            "status": a.status.value,
            "title": a.title,
            "summary": a.summary,
            "since": a.started_at.isoformat(),
        }
        for a in alerts
    ]
    write_text_atomic(status_dir(data_dir) / ALERTS_FILE, json.dumps(body))


def read_alerts(data_dir: Path) -> list[dict[str, Any]]:
    """The active alarms last written by a running `wikistream run` (empty when none or bad).

    A list wrapped as ``{"alerts": [...]}`` (or ``"alarms"``) is read too; entries that are
    not objects are skipped.
    """
    try:
        body = json.loads((data_dir / RUN_DIR / ALERTS_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    if isinstance(body, dict):
        body = body.get("alerts", body.get("alarms", []))
    return [a for a in body if isinstance(a, dict)] if isinstance(body, list) else []
