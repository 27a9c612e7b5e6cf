"""Maintenance deletes data-quality audit rows older than ``lake.audit_retention_days``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from pyiceberg.catalog import Catalog

from wikistream.lake.catalog import ensure_table
from wikistream.lake.maintenance import maintain_lake, maintain_table
from wikistream.lake.schemas import PROFILE_METRICS, QUALITY_RESULTS
from wikistream.quality.audit import append_results
from wikistream.quality.profile import ColumnProfile, profile_rows, write_profiles
from wikistream.settings import Settings

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


def _audit(catalog: Catalog, run_id: str, at: datetime, checks: int = 3) -> None:
    append_results(
        catalog,
        [
            {
                "run_id": run_id,
                "layer": "bronze",
                "table_name": "bronze.raw_events",
                "check_name": f"check_{i}",
                "check_type": "completeness",
                "status": "PASSED",
                "severity": "error",
                "run_timestamp": at,
                "run_date": at.date().isoformat(),
            }
            for i in range(checks)
        ],
    )
    profile = ColumnProfile("bronze.raw_events", "title", 10, 0, 0.0, 5)
    write_profiles(catalog, profile_rows(run_id, "bronze", at, [profile]))


def _run_dates(catalog: Catalog, identifier: str) -> list[str]:
    rows = catalog.load_table(identifier).scan(selected_fields=("run_date",)).to_arrow()
    return sorted(rows.column("run_date").to_pylist())


def test_old_audit_run_dates_are_deleted_and_recent_ones_kept(
    lake_settings: Settings, catalog: Catalog
) -> None:
    ensure_table(catalog, QUALITY_RESULTS)
    ensure_table(catalog, PROFILE_METRICS)
    for run_id, days_ago in (("dq-old", 120), ("dq-edge", 90), ("dq-new", 3), ("dq-now", 0)):
        _audit(catalog, run_id, NOW - timedelta(days=days_ago, hours=1))
    lake_settings.lake.audit_retention_days = 90

    reports = {
        r.table: r
        for r in maintain_lake(catalog, lake_settings.lake, now=NOW, compact=False, orphans=False)
    }

    # the cutoff is the date 90 days back: run dates before it go, the cutoff date itself stays
    cutoff = (NOW - timedelta(days=90)).date().isoformat()
    kept = _run_dates(catalog, QUALITY_RESULTS.identifier)
    assert kept
    assert min(kept) == cutoff  # dq-edge, 90 days and an hour ago
    assert reports[QUALITY_RESULTS.identifier].audit_rows_deleted == 3  # dq-old's 3 checks
    assert reports[PROFILE_METRICS.identifier].audit_rows_deleted == 1
    assert (NOW - timedelta(days=120, hours=1)).date().isoformat() not in kept
    assert _run_dates(catalog, PROFILE_METRICS.identifier) == sorted(
        (NOW - timedelta(days=d, hours=1)).date().isoformat() for d in (90, 3, 0)
    )
    # other tables are never touched by the audit retention
    assert all(
        r.audit_rows_deleted == 0
        for name, r in reports.items()
        if name not in (QUALITY_RESULTS.identifier, PROFILE_METRICS.identifier)
    )

    # nothing old left: the next maintenance commits nothing
    table = catalog.load_table(QUALITY_RESULTS.identifier)
    snapshots = len(table.snapshots())
    again = maintain_table(
        catalog, QUALITY_RESULTS.identifier, lake_settings.lake, now=NOW, compact=False,
        expire=False, orphans=False,
    )  # fmt: skip
    assert again.audit_rows_deleted == 0
    assert len(catalog.load_table(QUALITY_RESULTS.identifier).snapshots()) == snapshots


def test_retention_zero_keeps_every_audit_row(lake_settings: Settings, catalog: Catalog) -> None:
    _audit(catalog, "dq-ancient", NOW - timedelta(days=2000))
    lake_settings.lake.audit_retention_days = 0
    report = maintain_table(
        catalog, QUALITY_RESULTS.identifier, lake_settings.lake, now=NOW, compact=False,
        orphans=False,
    )  # fmt: skip
    assert report.audit_rows_deleted == 0
    assert len(_run_dates(catalog, QUALITY_RESULTS.identifier)) == 3
