"""Alert payloads the seed's jobs sent (SEED-FACTS §5.10), built from recorded outcomes."""

from __future__ import annotations

from typing import Any

from wikistream.clock import to_iso
from wikistream.observe.alerts import Finding, Severity
from wikistream.observe.state import DriftObservation, GateOutcome

MAX_FAILED_CHECKS = 5
AUDIT_TABLE = "dq_audit.quality_results"

# What a failed gate means downstream (the seed's state-machine notes, SEED-FACTS §6.3).
_GATE_ACTIONS = {
    "bronze": "Downstream processing blocked: silver and gold wait until the bronze gate passes.",
    "silver": "Gold processing blocked until the silver gate passes.",
    "gold": "Gold tables were written but failed their checks: do not publish them until the "
    "next gold gate passes.",
}


def query_hint(run_id: str) -> str:
    """A SELECT showing every check of a gate run, failures first."""
    quoted = run_id.replace("'", "''")
    return (
        f"SELECT check_name, status, metric_value, threshold_value, message FROM {AUDIT_TABLE} "
        f"WHERE run_id = '{quoted}' ORDER BY status, check_name"
    )


def gate_failure_finding(rule: str, gate: GateOutcome) -> Finding:
    """DATA_QUALITY_GATE_FAILURE for one table, keyed per (layer, table)."""
    failed: list[dict[str, Any]] = [
        {
            "name": check.name,
            "type": check.check_type,
            "status": check.status,
            "message": check.message,
            "metric_value": check.metric_value,
            "threshold": check.threshold,
        }
        for check in gate.failures[:MAX_FAILED_CHECKS]
    ]
    names = ", ".join(check["name"] for check in failed) or "an error-level check"
    more = len(gate.failures) - len(failed)
    action = _GATE_ACTIONS.get(gate.layer, "Downstream consumers must not read this slice.")
    return Finding(
        rule,
        f"{rule}:{gate.layer}:{gate.table}",
        Severity.CRITICAL,
        f"DQ Gate FAILED: {gate.layer.upper()} ({gate.table})",
        f"{gate.failed_checks} of {gate.total_checks} checks failed on {gate.table} in run "
        f"{gate.run_id}: {names}{f' and {more} more' if more > 0 else ''}.",
        {
            "alert_type": "DATA_QUALITY_GATE_FAILURE",
            "run_id": gate.run_id,
            "run_timestamp": to_iso(gate.at),
            "layer": gate.layer,
            "table": gate.table,
            "summary": {
                "total_checks": gate.total_checks,
                "passed": gate.passed_checks,
                "failed": gate.failed_checks,
                "warnings": gate.warnings,
            },
            "failed_checks": failed,
            "action_required": f"{action} Inspect the failed checks with query_hint, fix the "
            "data or the upstream stage, then rerun the cycle.",
            "query_hint": query_hint(gate.run_id),
        },
    )


def drift_finding(rule: str, drift: DriftObservation, threshold: float) -> Finding:
    """DATA_DRIFT_DETECTED for one column, keyed per (layer, column)."""
    return Finding(
        rule,
        f"{rule}:{drift.layer}:{drift.column}",
        Severity.WARNING,
        f"Data Drift Detected: {drift.layer}/{drift.column}",
        f"{drift.metric} of {drift.table}.{drift.column} is {drift.current:.3f} against a "
        f"baseline of {drift.baseline:.3f} (moved {drift.difference:.3f}, threshold "
        f"{threshold:g}).",
        {
            "alert_type": "DATA_DRIFT_DETECTED",
            "layer": drift.layer,
            "table": drift.table,
            "column": drift.column,
            "drift_details": {
                "metric": drift.metric,
                "current_value": round(drift.current, 6),
                "baseline_value": round(drift.baseline, 6),
                "difference": round(drift.difference, 6),
                "threshold": threshold,
                "measured_at": to_iso(drift.at),
            },
            "action_required": "Drift never blocks the gate. Check whether the source changed "
            "(new wiki, bot wave, schema change) before trusting trends over this period.",
        },
    )
