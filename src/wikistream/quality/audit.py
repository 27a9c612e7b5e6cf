"""Write and read ``dq_audit.quality_results``: gate runs, their checks, and operator overrides.

Runs are ordered by ``run_timestamp`` (never by the ``run_id`` string). An override is an extra row
of the overridden run (same ``run_id``) with ``check_name = operator_override``, ``check_type =
override`` and status ``OVERRIDDEN``; the run then counts as *accepted* although it did not pass.
"""

from __future__ import annotations

import getpass
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import pyarrow as pa
from pyiceberg.catalog import Catalog

from wikistream.clock import utc_now
from wikistream.errors import QualityError
from wikistream.lake.catalog import ensure_table
from wikistream.lake.predicates import all_of, eq, ge, is_in
from wikistream.lake.schemas import QUALITY_RESULTS
from wikistream.quality.checks import BLOCKING_STATUSES, CheckType, Status
from wikistream.quality.slices import SliceInfo

OVERRIDE_CHECK = "operator_override"
NOT_PASSED = frozenset({Status.FAILED, Status.ERROR, Status.WARNING})


def append_results(catalog: Catalog, rows: Sequence[dict[str, Any]]) -> None:
    """Append audit rows (dicts keyed by the ``quality_results`` columns) in one commit."""
    if not rows:
        return
    table = ensure_table(catalog, QUALITY_RESULTS)
    schema = table.schema().as_arrow()
    try:
        data = pa.Table.from_pylist(
            [{n: r.get(n) for n in schema.names} for r in rows], schema=schema
        )
        table.append(data)
    except Exception as exc:  # pyarrow and pyiceberg errors have no common base
        raise QualityError(
            f"cannot append {len(rows)} rows to {QUALITY_RESULTS.identifier}: {exc}; "
            "the gate result was not recorded, re-run the gate"
        ) from exc


def read_rows(
    catalog: Catalog,
    *,
    run_id: str | None = None,
    layer: str | None = None,
    since_date: str | None = None,
    since_time: datetime | None = None,
) -> list[dict[str, Any]]:
    """Audit rows of one run and/or layer, optionally only from ``run_date >= since_date`` and
    ``run_timestamp >= since_time``."""
    conditions = []
    if run_id is not None:
        conditions.append(eq("run_id", run_id))
    if layer is not None:
        conditions.append(eq("layer", layer))
    if since_date is not None:  # run_date is a partition column: this prunes whole files
        conditions.append(ge("run_date", since_date))
    if since_time is not None:
        conditions.append(ge("run_date", since_time.date().isoformat()))
        conditions.append(ge("run_timestamp", since_time.isoformat()))
    expr = all_of(conditions)
    table = ensure_table(catalog, QUALITY_RESULTS)
    if table.current_snapshot() is None:
        return []
    rows: list[dict[str, Any]] = table.scan(row_filter=expr).to_arrow().to_pylist()
    return rows


def _is_blocking(row: dict[str, Any]) -> bool:
    # rows without a severity (written by older versions) are treated as error level
    return row["status"] in BLOCKING_STATUSES and (row.get("severity") or "error") == "error"


@dataclass(frozen=True)
class RunSummary:
    """One gate run as recorded: outcome, counts, slices, and any operator override."""

    run_id: str
    layer: str
    run_timestamp: datetime
    passed: bool
    skipped: bool
    counts: dict[str, int]
    slices: tuple[SliceInfo, ...]
    override: dict[str, Any] | None = None
    failed_checks: tuple[str, ...] = field(default=())

    @property
    def accepted(self) -> bool:
        """Passed, or explicitly accepted by an operator."""
        return self.passed or self.override is not None

    @property
    def status(self) -> str:
        """PASSED, FAILED, SKIPPED (empty slice) or OVERRIDDEN (failed, then accepted)."""
        if not self.passed:
            return Status.OVERRIDDEN.value if self.override else Status.FAILED.value
        return Status.SKIPPED.value if self.skipped else Status.PASSED.value

    @property
    def batch_id(self) -> str | None:
        """The orchestrator batch this run belonged to, if any."""
        return next((s.batch_id for s in self.slices if s.batch_id), None)

    @property
    def data_dates(self) -> frozenset[str]:
        """Every date of which this run checked rows."""
        return frozenset(d for s in self.slices for d in s.data_dates)

    @property
    def counts_text(self) -> str:
        """Counts in one short line, e.g. ``16 passed, 1 failed, 0 errors, 2 warnings``."""
        c = self.counts
        return (
            f"{c['passed']} passed, {c['failed']} failed, {c['errors']} errors, "
            f"{c['warnings']} warnings, {c['skipped']} skipped"
        )

    def to_dict(self) -> dict[str, Any]:
        """Plain data for JSON output."""
        return {
            "run_id": self.run_id,
            "layer": self.layer,
            "run_timestamp": self.run_timestamp,
            "status": self.status,
            "accepted": self.accepted,
            "counts": self.counts,
            "data_dates": sorted(self.data_dates),
            "batch_id": self.batch_id,
            "failed_checks": list(self.failed_checks),
            "override": self.override,
        }


def summarize(rows: Iterable[dict[str, Any]]) -> list[RunSummary]:
    """Group audit rows into runs, oldest first (by run_timestamp, then run_id)."""
    by_run: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        by_run.setdefault(row["run_id"], []).append(row)
    summaries = [
        _summary(run_id, run_rows)
        for run_id, run_rows in by_run.items()
        # a window can cut off a run's check rows and keep only a later override row
        if any(r["check_name"] != OVERRIDE_CHECK for r in run_rows)
    ]
    return sorted(summaries, key=lambda s: (s.run_timestamp, s.run_id))


def _summary(run_id: str, rows: list[dict[str, Any]]) -> RunSummary:
    checks = [r for r in rows if r["check_name"] != OVERRIDE_CHECK]
    overrides = [r for r in rows if r["check_name"] == OVERRIDE_CHECK]
    basis = checks or rows
    statuses = [r["status"] for r in checks]
    counts = {
        "total_checks": len(checks),
        "passed": statuses.count(Status.PASSED),
        "failed": statuses.count(Status.FAILED),
        "errors": statuses.count(Status.ERROR),
        "warnings": statuses.count(Status.WARNING),
        "skipped": statuses.count(Status.SKIPPED),
    }
    slices: dict[str, SliceInfo] = {}
    for r in checks:
        slices.setdefault(r["table_name"], SliceInfo.from_json(r.get("slice"), r["table_name"]))
    override = None
    if overrides:
        latest = max(overrides, key=lambda r: r["run_timestamp"])
        override = json.loads(latest.get("evidence") or "{}") | {"reason": latest["message"]}
    return RunSummary(
        run_id=run_id,
        layer=basis[0]["layer"],
        run_timestamp=min(r["run_timestamp"] for r in basis),
        passed=not any(_is_blocking(r) for r in checks),
        skipped=bool(checks) and all(s == Status.SKIPPED for s in statuses),
        counts=counts,
        slices=tuple(slices.values()),
        override=override,
        failed_checks=tuple(r["check_name"] for r in checks if _is_blocking(r)),
    )


def list_runs(
    catalog: Catalog,
    layer: str | None = None,
    *,
    since_date: str | None = None,
    since_time: datetime | None = None,
) -> list[RunSummary]:
    """Recorded runs (of ``layer``, from ``since_date``/``since_time`` on), oldest first by
    run_timestamp."""
    rows = read_rows(catalog, layer=layer, since_date=since_date, since_time=since_time)
    return summarize(rows)


def overridden_runs(catalog: Catalog, layer: str) -> list[RunSummary]:
    """The runs of ``layer`` an operator overrode, oldest first, with all their rows.

    Reads the ``run_id`` column of the override rows, then the rows of those runs only: the
    refiner asks on every pass with new data, and the audit table holds every check row of every
    5-second slice for weeks.
    """
    table = ensure_table(catalog, QUALITY_RESULTS)
    if table.current_snapshot() is None:
        return []
    overrides = table.scan(
        row_filter=all_of([eq("layer", layer), eq("check_name", OVERRIDE_CHECK)]),
        selected_fields=("run_id",),
    ).to_arrow()
    run_ids = set(overrides.column("run_id").to_pylist())
    if not run_ids:
        return []
    rows = table.scan(row_filter=all_of([eq("layer", layer), is_in("run_id", run_ids)]))
    return summarize(rows.to_arrow().to_pylist())


def latest_run(catalog: Catalog, layer: str, *, window_days: int = 7) -> RunSummary | None:
    """The most recent run of ``layer`` by run_timestamp, or ``None``.

    Looks at the last ``window_days`` of partitions first and at the whole table only if empty.
    """
    since = (utc_now() - timedelta(days=window_days)).date().isoformat()
    runs = list_runs(catalog, layer, since_date=since) or list_runs(catalog, layer)
    return runs[-1] if runs else None


def read_results(
    catalog: Catalog,
    *,
    run_id: str | None = None,
    layer: str | None = None,
    failed_only: bool = False,
) -> list[dict[str, Any]]:
    """Check rows of ``run_id``, or of the latest run of each layer (or of ``layer``).

    ``failed_only`` keeps rows that did not pass (FAILED, ERROR, WARNING) plus overrides.
    Raises :class:`QualityError` when ``run_id`` is unknown.
    """
    if run_id is not None:
        rows = read_rows(catalog, run_id=run_id)
        if not rows:
            raise QualityError(
                f"no data-quality run {run_id!r}; list runs with `wikistream dq runs`"
            )
    else:
        rows = []
        for name in [layer] if layer else ["bronze", "silver", "gold"]:
            latest = latest_run(catalog, name)
            if latest is not None:
                rows.extend(read_rows(catalog, run_id=latest.run_id))
    if failed_only:
        rows = [r for r in rows if r["status"] in NOT_PASSED or r["check_name"] == OVERRIDE_CHECK]
    return sorted(rows, key=lambda r: (r["run_timestamp"], r["layer"], r["table_name"]))


def record_override(
    catalog: Catalog,
    run_id: str,
    reason: str,
    *,
    operator: str | None = None,
    now: datetime | None = None,
) -> list[dict[str, Any]]:
    """Record that an operator accepts failed run ``run_id``; return the rows written.

    Raises :class:`QualityError` for an empty reason, an unknown run or a run that passed.
    """
    if not reason.strip():
        raise QualityError("an override needs a reason: --reason 'why this slice is acceptable'")
    rows = read_rows(catalog, run_id=run_id)
    if not rows:
        raise QualityError(f"no data-quality run {run_id!r}; list runs with `wikistream dq runs`")
    (summary,) = summarize(rows)
    if summary.passed:
        raise QualityError(f"run {run_id} passed its gate; there is nothing to override")
    now = now or utc_now()
    who = operator or _current_user()
    evidence = json.dumps(
        {"operator": who, "overridden_checks": list(summary.failed_checks), "at": now.isoformat()}
    )
    new_rows = [
        {
            "run_id": run_id,
            "layer": summary.layer,
            "table_name": info.table_name,
            "check_name": OVERRIDE_CHECK,
            "check_type": CheckType.OVERRIDE.value,
            "status": Status.OVERRIDDEN.value,
            "message": reason.strip(),
            "evidence": evidence,
            "records_checked": info.rows,
            "run_timestamp": now,
            "run_date": now.date().isoformat(),
            "severity": "error",
            "slice": info.to_json(),
        }
        for info in summary.slices
    ]
    append_results(catalog, new_rows)
    return new_rows


def _current_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry / no login name in containers
        return "unknown"
