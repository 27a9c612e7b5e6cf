"""Column profiles (``dq_audit.profile_metrics``) and null-rate drift against earlier runs (§5.8).

Drift compares a column's null rate with the same column in earlier runs of the last
``drift_baseline_days`` days. The baseline is read *before* the current profile is saved and
excludes the current run. With ≥ 2 baseline runs whose null rates vary, the rule is a real z-score
``(current − mean) / sample stddev`` (``|z| ≥ drift_z_warn`` → warning, ``≥ drift_z_alert`` →
alert, and never below the ``drift_min_diff`` noise floor); otherwise (one run, or no variance) the
seed's absolute rule applies (``|current − mean| > drift_warn`` / ``> drift_alert``). Drift findings
never fail a gate: the orchestrator turns them into alerts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from datetime import datetime
from typing import Any

import pyarrow as pa
from pyiceberg.catalog import Catalog

from wikistream.clock import to_iso
from wikistream.errors import QualityError
from wikistream.lake.catalog import ensure_table
from wikistream.lake.schemas import PROFILE_METRICS
from wikistream.quality.baseline import BaselineKey, BaselineStats
from wikistream.quality.checks import ident
from wikistream.quality.config import QualitySettings
from wikistream.quality.engine import RELATION, connect

_QUANTILES: tuple[tuple[str, float], ...] = (
    ("percentile_25", 0.25),
    ("percentile_50", 0.5),
    ("percentile_75", 0.75),
    ("percentile_95", 0.95),
)


@dataclass(frozen=True)
class ProfileSpec:
    """Which columns to profile: categorical (counts) and numeric (counts + statistics)."""

    categorical: tuple[str, ...] = ()
    numeric: tuple[str, ...] = ()

    @property
    def columns(self) -> tuple[str, ...]:
        """All profiled columns."""
        return self.categorical + self.numeric


BRONZE_PROFILE = ProfileSpec(
    categorical=("event_type", "domain", "wiki", "namespace"),
    numeric=("length_delta", "event_hour"),
)
SILVER_PROFILE = ProfileSpec(
    categorical=("region", "language", "event_type", "is_bot", "is_anonymous", "user_kind"),
    numeric=("length_delta",),
)


@dataclass(frozen=True)
class ColumnProfile:
    """Statistics of one column of one table slice (one ``profile_metrics`` row)."""

    table_name: str
    column_name: str
    record_count: int
    null_count: int
    null_rate: float
    distinct_count: int
    mean_value: float | None = None
    stddev_value: float | None = None
    min_value: float | None = None
    max_value: float | None = None
    percentile_25: float | None = None
    percentile_50: float | None = None
    percentile_75: float | None = None
    percentile_95: float | None = None


def profile_relation(relation: pa.Table, spec: ProfileSpec, table_name: str) -> list[ColumnProfile]:
    """Profile ``spec``'s columns of ``relation`` in one DuckDB query (absent columns skipped)."""
    columns = [c for c in spec.columns if c in relation.column_names]
    if not columns or relation.num_rows == 0:
        return []
    parts = ["COUNT(*)"]
    for col in columns:
        q = ident(col)
        parts += [f"COUNT({q})", f"COUNT(DISTINCT {q})"]
        if col in spec.numeric:
            num = f"CAST({q} AS DOUBLE)"
            parts += [f"AVG({num})", f"STDDEV_SAMP({num})", f"MIN({num})", f"MAX({num})"]
            parts += [f"PERCENTILE_CONT({p}) WITHIN GROUP (ORDER BY {num})" for _, p in _QUANTILES]
    con = connect()
    try:
        con.register(RELATION, relation)
        row = con.execute(f"SELECT {', '.join(parts)} FROM {RELATION}").fetchone() or ()
    finally:
        con.close()
    values = iter(row)
    total = int(next(values))
    out = []
    for col in columns:
        non_null, distinct = int(next(values)), int(next(values))
        stats: dict[str, Any] = {}
        if col in spec.numeric:
            names = ["mean_value", "stddev_value", "min_value", "max_value"]
            names += [n for n, _ in _QUANTILES]
            stats = {
                n: (None if v is None else float(v)) for n, v in zip(names, values, strict=False)
            }
        out.append(
            ColumnProfile(
                table_name=table_name,
                column_name=col,
                record_count=total,
                null_count=total - non_null,
                null_rate=(total - non_null) / total,
                distinct_count=distinct,
            )
        )
        out[-1] = replace(out[-1], **stats)
    return out


def profile_rows(
    run_id: str, layer: str, run_timestamp: datetime, profiles: Sequence[ColumnProfile]
) -> pa.Table:
    """``profile_metrics`` rows for ``profiles`` with the table's exact Arrow schema."""
    schema = PROFILE_METRICS.schema().as_arrow()
    rows = [
        asdict(p)
        | {
            "run_id": run_id,
            "layer": layer,
            "run_timestamp": run_timestamp,
            "run_date": run_timestamp.date().isoformat(),
        }
        for p in profiles
    ]
    return pa.Table.from_pylist([{n: r.get(n) for n in schema.names} for r in rows], schema=schema)


def write_profiles(catalog: Catalog, rows: pa.Table) -> None:
    """Append profile rows in one commit."""
    if rows.num_rows == 0:
        return
    try:
        ensure_table(catalog, PROFILE_METRICS).append(rows)
    except Exception as exc:  # pyiceberg commit errors have no common base
        raise QualityError(f"cannot append to {PROFILE_METRICS.identifier}: {exc}") from exc


@dataclass(frozen=True)
class DriftFinding:
    """A column whose null rate moved away from its baseline (never a gate failure)."""

    layer: str
    table_name: str
    column_name: str
    current_value: float
    baseline_value: float
    baseline_stddev: float | None
    baseline_runs: int
    difference: float
    z_score: float | None
    method: str  # "zscore" | "absolute"
    level: str  # "warning" | "alert"

    @property
    def message(self) -> str:
        """One line for logs and alerts."""
        how = f"z = {self.z_score:+.2f}" if self.z_score is not None else "absolute rule"
        return (
            f"{self.layer}/{self.table_name}.{self.column_name}: null rate "
            f"{self.current_value:.4f} vs baseline {self.baseline_value:.4f} over "
            f"{self.baseline_runs} run(s) ({how}); {self.level}"
        )

    def alert_payload(self, run_timestamp: datetime) -> dict[str, Any]:
        """The seed's drift alert JSON (§5.10) with a real z-score when there is one."""
        z = self.z_score
        deviation = (
            f"{abs(z):.1f} standard deviations from baseline"
            if z is not None
            else f"{self.difference:.4f} absolute change in null rate (too little history for z)"
        )
        return {
            "alert_type": "DATA_DRIFT_DETECTED",
            "severity": "WARNING",
            "timestamp": to_iso(run_timestamp),
            "layer": self.layer,
            "table": self.table_name,
            "column": self.column_name,
            "drift_details": {
                "metric": "null_rate",
                "current_value": self.current_value,
                "baseline_value": self.baseline_value,
                "baseline_runs": self.baseline_runs,
                "z_score": None if z is None else round(z, 2),
                "deviation": deviation,
            },
            "action": "Compare recent events of this column with earlier days; a new event mix, "
            "an upstream schema change or a parsing bug are the usual causes.",
        }


def detect_drift(
    layer: str,
    profiles: Sequence[ColumnProfile],
    baseline: Mapping[BaselineKey, BaselineStats],
    quality: QualitySettings,
) -> list[DriftFinding]:
    """Compare each profile's null rate with its baseline; return warnings and alerts."""
    findings = []
    for p in profiles:
        history = baseline.get((p.table_name, p.column_name))
        if history is None or history.runs == 0:
            continue  # no earlier run: nothing to compare with
        mean = history.mean
        diff = abs(p.null_rate - mean)
        stddev = history.stddev
        z: float | None = None
        level: str | None = None
        if stddev:  # ≥ 2 runs with some variance: a real z-score
            z = (p.null_rate - mean) / stddev
            if diff >= quality.drift_min_diff:
                if abs(z) >= quality.drift_z_alert:
                    level = "alert"
                elif abs(z) >= quality.drift_z_warn:
                    level = "warning"
            method = "zscore"
        else:
            method = "absolute"
            if diff > quality.drift_alert:
                level = "alert"
            elif diff > quality.drift_warn:
                level = "warning"
        if level is not None:
            findings.append(
                DriftFinding(
                    layer=layer,
                    table_name=p.table_name,
                    column_name=p.column_name,
                    current_value=p.null_rate,
                    baseline_value=mean,
                    baseline_stddev=stddev,
                    baseline_runs=history.runs,
                    difference=diff,
                    z_score=z,
                    method=method,
                    level=level,
                )
            )
    return findings
