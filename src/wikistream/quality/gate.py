"""Run a layer's data-quality gate over a slice, record it in ``dq_audit``, report the outcome.

A gate passes iff no error-level check is FAILED or ERROR (warnings and skipped checks pass). A
table slice without rows gets one ``SKIPPED`` row (``slice_not_empty``) instead of silence. Every
run writes its check rows to ``dq_audit.quality_results`` and, for bronze and silver, its column
profiles to ``dq_audit.profile_metrics`` (after computing drift against earlier runs).
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeAlias

import pyarrow as pa
from pyiceberg.catalog import Catalog

from wikistream.clock import to_iso, utc_now
from wikistream.errors import QualityError
from wikistream.lake.schemas import BRONZE, HOURLY_STATS, RISK_SCORES, SILVER, TableDef
from wikistream.quality.audit import append_results
from wikistream.quality.baseline import read_baseline
from wikistream.quality.catalogue import (
    bronze_checks,
    gold_hourly_checks,
    gold_risk_checks,
    silver_checks,
)
from wikistream.quality.checks import Check, CheckType, Level, Status
from wikistream.quality.engine import CheckResult, evaluate
from wikistream.quality.profile import (
    BRONZE_PROFILE,
    SILVER_PROFILE,
    ColumnProfile,
    DriftFinding,
    ProfileSpec,
    detect_drift,
    profile_relation,
    profile_rows,
    write_profiles,
)
from wikistream.quality.slices import SliceInfo, SliceSpec, data_dates, read_slice
from wikistream.quality.upstream import rows_vs_bronze, upstream_check, upstream_results
from wikistream.settings import Settings

EMPTY_CHECK = "slice_not_empty"
MAX_FAILED_CHECKS = 5


@dataclass(frozen=True)
class TableGate:
    """One table a layer's gate checks: its definition, date column, checks and profile."""

    table: TableDef
    date_column: str
    checks: Callable[[Settings], tuple[Check, ...]]
    profile: ProfileSpec | None = None

    def columns(self, settings: Settings) -> tuple[str, ...]:
        """Columns the gate reads: those of its checks and profile, the date column, event_id."""
        wanted = {self.date_column, *(c for check in self.checks(settings) for c in check.columns)}
        if self.profile is not None:
            wanted.update(self.profile.columns)
        if "event_id" in self.table.column_names:
            wanted.add("event_id")
        return tuple(c for c in self.table.column_names if c in wanted)


LAYERS: dict[str, tuple[TableGate, ...]] = {
    "bronze": (
        TableGate(
            BRONZE,
            "event_date",
            lambda s: bronze_checks(s.quality, s.ingest.target_domains),
            BRONZE_PROFILE,
        ),
    ),
    "silver": (
        TableGate(SILVER, "event_date", lambda s: silver_checks(s.quality), SILVER_PROFILE),
    ),
    "gold": (
        TableGate(HOURLY_STATS, "stat_date", lambda s: gold_hourly_checks(s.quality)),
        TableGate(RISK_SCORES, "stat_date", lambda s: gold_risk_checks(s.quality)),
    ),
}


def layer_tables(layer: str) -> tuple[TableGate, ...]:
    """The tables of ``layer``; raise :class:`QualityError` for an unknown layer."""
    try:
        return LAYERS[layer]
    except KeyError:
        raise QualityError(f"unknown layer {layer!r}; choose one of {', '.join(LAYERS)}") from None


def new_run_id(now: datetime) -> str:
    """``dq-YYYYmmdd-HHMMSS-<8 hex>`` (UTC)."""
    return f"dq-{now.strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(4)}"


@dataclass(frozen=True)
class GateResult:
    """The outcome of one gate run: verdict, every check, slices, profiles and drift."""

    run_id: str
    layer: str
    run_timestamp: datetime
    passed: bool
    results: tuple[CheckResult, ...]
    slices: tuple[SliceInfo, ...]
    duration_s: float
    profiles: tuple[ColumnProfile, ...] = ()
    drift: tuple[DriftFinding, ...] = ()

    @property
    def empty(self) -> bool:
        """True when no table of the slice had rows."""
        return all(s.rows == 0 for s in self.slices)

    @property
    def counts(self) -> dict[str, int]:
        """total_checks, passed, failed, warnings, errors, skipped."""
        statuses = [r.status for r in self.results]
        return {
            "total_checks": len(statuses),
            "passed": statuses.count(Status.PASSED),
            "failed": statuses.count(Status.FAILED),
            "warnings": statuses.count(Status.WARNING),
            "errors": statuses.count(Status.ERROR),
            "skipped": statuses.count(Status.SKIPPED),
        }

    @property
    def tables(self) -> str:
        """The checked table names, comma-separated."""
        return ", ".join(s.table_name for s in self.slices)

    @property
    def query_hint(self) -> str:
        """A query an operator can run to inspect this run's audit rows."""
        return (
            "SELECT check_name, status, metric_value, threshold_value, message "
            f"FROM dq_audit.quality_results WHERE run_id = '{self.run_id}' ORDER BY status"
        )

    def failed_checks(self, limit: int = MAX_FAILED_CHECKS) -> list[dict[str, Any]]:
        """Blocking results (FAILED or ERROR at error level), value vs threshold, ≤ ``limit``."""
        return [
            {
                "name": r.check_name,
                "type": r.check_type.value,
                "table": r.table_name,
                "message": r.message,
                "metric_value": r.metric_value,
                "threshold": r.threshold_value,
            }
            for r in self.results
            if r.blocking
        ][:limit]

    @property
    def summary(self) -> str:
        """One line for logs and alert subjects."""
        c = self.counts
        verdict = "PASSED" if self.passed else "FAILED"
        empty = " (empty slice)" if self.empty else ""
        return (
            f"{self.layer} gate {verdict}{empty}: {c['passed']} passed, {c['failed']} failed, "
            f"{c['errors']} errors, {c['warnings']} warnings, {c['skipped']} skipped "
            f"(run {self.run_id})"
        )

    def alert_payload(self) -> dict[str, Any]:
        """The seed's gate-failure alert JSON (§5.10)."""
        c = self.counts
        return {
            "alert_type": "DATA_QUALITY_GATE_FAILURE",
            "severity": "CRITICAL",
            "timestamp": to_iso(self.run_timestamp),
            "run_id": self.run_id,
            "layer": self.layer,
            "table": self.tables,
            "summary": {
                "total_checks": c["total_checks"],
                "passed": c["passed"],
                "failed": c["failed"] + c["errors"],
                "warnings": c["warnings"],
            },
            "failed_checks": self.failed_checks(),
            "action_required": f"Downstream of {self.layer} is blocked for this slice. Inspect "
            f"with `wikistream dq results --run-id {self.run_id} --failed`, fix the data and "
            f"re-run, or accept it with `wikistream dq override --run-id {self.run_id} "
            "--reason ...`.",
            "query_hint": self.query_hint,
        }

    def to_dict(self) -> dict[str, Any]:
        """Plain data for JSON output."""
        return {
            "run_id": self.run_id,
            "layer": self.layer,
            "run_timestamp": self.run_timestamp,
            "passed": self.passed,
            "empty": self.empty,
            "counts": self.counts,
            "duration_s": round(self.duration_s, 3),
            "slices": [s.to_dict() for s in self.slices],
            "results": [result_row(self, r) for r in self.results],
            "drift": [d.message for d in self.drift],
        }


def result_row(gate: GateResult, r: CheckResult) -> dict[str, Any]:
    """One ``quality_results`` row of ``gate``."""
    info = next((s for s in gate.slices if s.table_name == r.table_name), None)
    return {
        "run_id": gate.run_id,
        "layer": gate.layer,
        "table_name": r.table_name,
        "check_name": r.check_name,
        "check_type": r.check_type.value,
        "status": r.status.value,
        "metric_value": r.metric_value,
        "threshold_value": r.threshold_value,
        "records_checked": r.records_checked,
        "records_passed": r.records_passed,
        "records_failed": r.records_failed,
        "failure_rate": r.failure_rate,
        "message": r.message,
        "evidence": json.dumps(r.evidence, default=str, sort_keys=True),
        "check_duration_ms": r.duration_ms,
        "run_timestamp": gate.run_timestamp,
        "run_date": gate.run_timestamp.date().isoformat(),
        "severity": r.level.value,
        "slice": None if info is None else info.to_json(),
    }


def write_audit(catalog: Catalog, result: GateResult) -> None:
    """Append ``result``'s check rows and profile rows to the ``dq_audit`` tables."""
    append_results(catalog, [result_row(result, r) for r in result.results])
    write_profiles(
        catalog, profile_rows(result.run_id, result.layer, result.run_timestamp, result.profiles)
    )


def empty_result(gate: TableGate, scope: str) -> CheckResult:
    """The SKIPPED ``slice_not_empty`` row of a table with no rows in ``scope`` (a description)."""
    return CheckResult(
        check_name=EMPTY_CHECK,
        check_type=CheckType.COMPLETENESS,
        level=Level.ERROR,
        table_name=gate.table.identifier,
        status=Status.SKIPPED,
        metric_value=0.0,
        threshold_value=1.0,
        records_checked=0,
        records_passed=0,
        records_failed=0,
        failure_rate=0.0,
        message=f"{gate.table.identifier} has no rows for {scope}; nothing was checked",
        evidence={"rule": "the slice has at least one row"},
    )


Data: TypeAlias = pa.Table | Mapping[str, pa.Table]


def _given(layer: str, gate: TableGate, data: Data | None) -> pa.Table | None:
    if data is None:
        return None
    if isinstance(data, pa.Table):
        if len(layer_tables(layer)) > 1:
            names = ", ".join(g.table.identifier for g in layer_tables(layer))
            raise QualityError(
                f"the {layer} gate checks several tables; pass data as a mapping {{{names}}}"
            )
        return data
    if gate.table.identifier not in data:
        raise QualityError(f"data for the {layer} gate lacks table {gate.table.identifier!r}")
    return data[gate.table.identifier]


def run_gate(
    settings: Settings,
    catalog: Catalog,
    layer: str,
    slice_spec: SliceSpec | None = None,
    *,
    data: Data | None = None,
    write: bool = True,
    clock: Callable[[], datetime] = utc_now,
) -> GateResult:
    """Check ``layer`` over ``slice_spec`` (default: all current data) and record the run.

    ``data`` replaces the table scan with Arrow tables the caller already holds (one table, or a
    mapping by table identifier for gold); it is checked as given, and ``slice_spec`` then only
    labels the run (dates requested, batch id). Silver's row-count check and gold's upstream check
    still read the catalog. ``write=False`` computes without touching ``dq_audit``. Raises
    :class:`QualityError` for an unknown layer, unreadable tables or an audit write failure; a
    failing gate is a normal result (``passed=False``), not an exception.
    """
    gates = layer_tables(layer)
    spec = slice_spec or SliceSpec()
    started = time.perf_counter()
    now = clock()
    run_id = new_run_id(now)
    results: list[CheckResult] = []
    infos: list[SliceInfo] = []
    profiles: list[ColumnProfile] = []
    checked_tables: list[tuple[TableGate, SliceInfo]] = []
    for gate in gates:
        relation = _given(layer, gate, data)
        snapshot = None
        if relation is None:
            relation, snapshot = read_slice(
                catalog, gate.table, gate.date_column, spec, gate.columns(settings)
            )
        info = SliceInfo(
            table_name=gate.table.identifier,
            dates=spec.dates,
            data_dates=data_dates(relation, gate.date_column),
            rows=relation.num_rows,
            batch_id=spec.batch_id,
            snapshot_id=snapshot,
        )
        infos.append(info)
        if relation.num_rows == 0:
            results.append(empty_result(gate, spec.describe()))
            continue
        checked_tables.append((gate, info))
        results.extend(evaluate(gate.checks(settings), relation, table_name=info.table_name))
        if layer == "silver":
            results.append(rows_vs_bronze(catalog, relation, info.data_dates))
        if gate.profile is not None:
            profiles.extend(profile_relation(relation, gate.profile, info.table_name))
    if layer == "gold" and checked_tables:
        dates = sorted({d for _, info in checked_tables for d in info.data_dates})
        coverage = upstream_results(catalog, dates, batch_id=spec.batch_id, now=now)
        for gate, _ in checked_tables:
            results.append(upstream_check(coverage, gate.table.identifier, batch_id=spec.batch_id))
    drift: list[DriftFinding] = []
    if profiles:
        baseline = read_baseline(
            catalog, layer, now, settings.quality.drift_baseline_days, exclude_run_id=run_id
        )
        drift = detect_drift(layer, profiles, baseline, settings.quality)
    result = GateResult(
        run_id=run_id,
        layer=layer,
        run_timestamp=now,
        passed=not any(r.blocking for r in results),
        results=tuple(results),
        slices=tuple(infos),
        duration_s=time.perf_counter() - started,
        profiles=tuple(profiles),
        drift=tuple(drift),
    )
    if write:
        write_audit(catalog, result)
    return result
