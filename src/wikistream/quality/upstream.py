"""Checks that look at another layer: silver rows ≤ bronze rows, and gold's upstream gates.

Gold's upstream check (seed §5.5, weakness 15 fixed) asks, for every date of the gold slice, which
bronze and which silver gate run last checked rows of that date (by run_timestamp; restricted to the
same batch id when the slice has one). The gold slice is accepted only if every such run exists and
passed or was overridden by an operator. A date no upstream run covered is *unknown*, and unknown is
a failure, not a pass.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any

import pyarrow as pa
from pyiceberg.catalog import Catalog

from wikistream.clock import utc_now
from wikistream.lake.schemas import BRONZE
from wikistream.quality.audit import RunSummary, list_runs
from wikistream.quality.checks import CheckType, Level, Status
from wikistream.quality.engine import CheckResult
from wikistream.quality.slices import SliceSpec, read_slice

UPSTREAM_CHECK = "upstream_gates_passed"
ROWS_CHECK = "consistency_rows_vs_bronze"
UPSTREAM_LAYERS = ("bronze", "silver")
RECENT_WINDOW = timedelta(minutes=15)
"""Upstream runs this recent are looked at first (see :func:`upstream_results`)."""


@dataclass(frozen=True)
class UpstreamCoverage:
    """For one upstream layer: the gate run that last checked each date (``None``: unknown)."""

    layer: str
    by_date: dict[str, RunSummary | None]

    @property
    def missing(self) -> list[str]:
        """Dates no gate run of this layer checked."""
        return [d for d, run in self.by_date.items() if run is None]

    @property
    def rejected(self) -> dict[str, str]:
        """Dates whose covering run failed and was not overridden → that run id."""
        return {d: r.run_id for d, r in self.by_date.items() if r is not None and not r.accepted}

    @property
    def accepted(self) -> bool:
        """Every date is covered by an accepted run."""
        return not self.missing and not self.rejected


def upstream_results(
    catalog: Catalog,
    dates: Sequence[str],
    *,
    batch_id: str | None = None,
    layers: Sequence[str] = UPSTREAM_LAYERS,
    now: datetime | None = None,
) -> dict[str, UpstreamCoverage]:
    """Find, per upstream layer and date, the latest gate run that checked rows of that date."""
    coverage = {}
    # a gate run that saw rows of date D ran on D or later (a day of slack for clock skew)
    since = None
    if dates:
        since = (date.fromisoformat(min(dates)) - timedelta(days=1)).isoformat()
    recent = (now or utc_now()) - RECENT_WINDOW
    for layer in layers:
        # The chain gates every few seconds, so the runs of the last minutes nearly always cover
        # every date and passed; the latest covering run is then among them. Anything missing or
        # rejected is decided on all runs (an override may sit on an older run of the batch).
        found = _coverage(layer, list_runs(catalog, layer, since_time=recent), dates, batch_id)
        if not found.accepted:
            runs = list_runs(catalog, layer, since_date=since)
            found = _coverage(layer, runs, dates, batch_id)
        coverage[layer] = found
    return coverage


def _coverage(
    layer: str, runs: list[RunSummary], dates: Sequence[str], batch_id: str | None
) -> UpstreamCoverage:
    """The latest run of ``runs`` (oldest first) covering each date, in ``batch_id`` if given."""
    if batch_id is not None:
        runs = [r for r in runs if r.batch_id == batch_id]
    runs = _share_overrides(runs)
    by_date: dict[str, RunSummary | None] = {}
    for day in sorted(set(dates)):
        covering = [r for r in runs if day in r.data_dates]
        by_date[day] = covering[-1] if covering else None
    return UpstreamCoverage(layer, by_date)


def _share_overrides(runs: list[RunSummary]) -> list[RunSummary]:
    """Give a failed run the override of another run of the same orchestrator batch.

    A batch id names fixed snapshots, so every run with it checked the same rows: when the chain
    re-checks a blocked slice (after a restart, or on each `run --once`) and the operator accepts
    one of those runs, the slice is accepted, whichever of its runs is the latest.
    """
    overrides = {r.batch_id: r.override for r in runs if r.batch_id and r.override is not None}
    return [
        replace(r, override=overrides[r.batch_id])
        if r.override is None and not r.passed and r.batch_id in overrides
        else r
        for r in runs
    ]


def upstream_check(
    coverage: dict[str, UpstreamCoverage], table_name: str, *, batch_id: str | None = None
) -> CheckResult:
    """The ``upstream_gates_passed`` result for one gold table from :func:`upstream_results`."""
    pairs = [(layer, day, run) for layer, c in coverage.items() for day, run in c.by_date.items()]
    good = sum(1 for _, _, run in pairs if run is not None and run.accepted)
    ok = all(c.accepted for c in coverage.values())
    problems = []
    for layer, c in coverage.items():
        if c.missing:
            dates = " ".join(f"--date {d}" for d in c.missing)
            scope = f" in batch {batch_id}" if batch_id else ""
            problems.append(
                f"no {layer} gate run{scope} covers {', '.join(c.missing)} "
                f"(run `wikistream dq run --layer {layer} {dates}`)"
            )
        for day, run_id in c.rejected.items():
            problems.append(
                f"{layer} run {run_id} FAILED for {day} (inspect with `wikistream dq results "
                f"--run-id {run_id}`; accept with `wikistream dq override`)"
            )
    evidence: dict[str, Any] = {
        f"{layer}_gate_passed": c.accepted for layer, c in coverage.items()
    } | {
        layer: {d: (None if r is None else r.run_id) for d, r in c.by_date.items()}
        for layer, c in coverage.items()
    }
    overridden = sorted(
        {r.run_id for c in coverage.values() for r in c.by_date.values() if r and r.override}
    )
    if overridden:
        evidence["overridden_runs"] = overridden
    message = (
        "bronze and silver gates accepted every date of this slice"
        if ok
        else "upstream not accepted: " + "; ".join(problems)
    )
    return CheckResult(
        check_name=UPSTREAM_CHECK,
        check_type=CheckType.UPSTREAM,
        level=Level.ERROR,
        table_name=table_name,
        status=Status.PASSED if ok else Status.FAILED,
        metric_value=1.0 if ok else 0.0,
        threshold_value=1.0,
        records_checked=len(pairs),
        records_passed=good,
        records_failed=len(pairs) - good,
        failure_rate=(len(pairs) - good) / len(pairs) if pairs else 0.0,
        message=message,
        evidence=evidence,
    )


def _counts(relation: pa.Table, date_column: str, aggregate: str) -> dict[str, int]:
    if relation.num_rows == 0:
        return {}
    grouped = relation.group_by(date_column).aggregate([("event_id", aggregate)])
    return {
        str(d): int(n)
        for d, n in zip(
            grouped.column(date_column).to_pylist(),
            grouped.column(f"event_id_{aggregate}").to_pylist(),
            strict=True,
        )
        if d is not None
    }


def rows_vs_bronze(catalog: Catalog, silver: pa.Table, dates: Sequence[str]) -> CheckResult:
    """``consistency_rows_vs_bronze``: per date, silver rows ≤ distinct bronze event ids."""
    table_name = "silver.cleaned_events"
    bronze, snapshot = read_slice(
        catalog, BRONZE, "event_date", SliceSpec(tuple(dates)), ("event_id", "event_date")
    )
    silver_by_date = _counts(silver.select(["event_id", "event_date"]), "event_date", "count")
    bronze_by_date = _counts(bronze, "event_date", "count_distinct")
    violations = {
        d: {"silver_rows": n, "bronze_event_ids": bronze_by_date.get(d, 0)}
        for d, n in sorted(silver_by_date.items())
        if n > bronze_by_date.get(d, 0)
    }
    silver_total = sum(silver_by_date.values())
    bronze_total = sum(bronze_by_date.get(d, 0) for d in silver_by_date)
    checked = len(silver_by_date)
    status = Status.FAILED if violations else Status.PASSED
    if violations:
        worst = next(iter(violations.items()))
        message = (
            f"{ROWS_CHECK}: silver has more rows than bronze has event ids on "
            f"{len(violations)} date(s), e.g. {worst[0]}: {json.dumps(worst[1])}; silver must be "
            "rebuilt from bronze (`wikistream rebuild --layer silver`)"
        )
    else:
        message = f"{ROWS_CHECK}: {silver_total} silver rows ≤ {bronze_total} bronze event ids"
    return CheckResult(
        check_name=ROWS_CHECK,
        check_type=CheckType.CONSISTENCY,
        level=Level.ERROR,
        table_name=table_name,
        status=status,
        metric_value=float(silver_total),
        threshold_value=float(bronze_total),
        records_checked=checked,
        records_passed=checked - len(violations),
        records_failed=len(violations),
        failure_rate=len(violations) / checked if checked else 0.0,
        message=message,
        evidence={
            "rule": "per date: silver rows ≤ distinct bronze event ids",
            "comparison": "<=",
            "violations": violations,
            "bronze_snapshot_id": snapshot,
        },
    )
