"""`wikistream status`: what an operator checks first, gathered from files, log and lake."""

from __future__ import annotations

import logging
from typing import Any

from wikistream.clock import utc_now
from wikistream.orchestrate.console import stage_rows
from wikistream.orchestrate.feed import read_alerts
from wikistream.orchestrate.status import is_stale, read_all_status
from wikistream.settings import Settings

log = logging.getLogger(__name__)


def pipeline_status(settings: Settings) -> dict[str, Any]:
    """Stages, bronze lag, table freshness, latest gate per layer and active alarms."""
    statuses = read_all_status(settings.data_dir)
    body: dict[str, Any] = {
        "at": utc_now().isoformat(),
        "data_dir": str(settings.data_dir),
        "stages": stage_rows(dict(statuses), {}),
        "tables": [],
        "gates": [],
        "alarms": read_alerts(settings.data_dir),
        "errors": [],
    }
    for row in body["stages"]:
        status = statuses.get(row["stage"])
        if status is not None and is_stale(status, utc_now()):
            row["state"] = f"{row['state']} (no heartbeat: not running?)"
    if not settings.data_dir.is_dir():
        # Opening the catalog would create an empty lake under a mistyped --data-dir.
        body["errors"].append(
            f"data dir {settings.data_dir} does not exist: nothing has run here; check --data-dir "
            "or WIKISTREAM_DATA_DIR"
        )
        return body
    try:
        from wikistream.lake.catalog import open_catalog
        from wikistream.lake.inventory import list_tables

        catalog = open_catalog(settings)
        for info in list_tables(catalog):
            last = info.last_commit
            body["tables"].append(
                {
                    "table": info.table,
                    "rows": info.rows,
                    "files": info.data_files,
                    "snapshots": info.snapshots,
                    "last commit": last.isoformat(timespec="seconds") if last else None,
                    "freshness_s": round((utc_now() - last).total_seconds()) if last else None,
                }
            )
        from wikistream.quality.audit import latest_run

        for layer in ("bronze", "silver", "gold"):
            run = latest_run(catalog, layer)
            if run is not None:
                body["gates"].append(
                    {
                        "layer": layer,
                        "run_id": run.run_id,
                        "status": run.status,
                        "at": run.run_timestamp.isoformat(timespec="seconds"),
                        "checks": run.counts_text,
                    }
                )
    except Exception as exc:  # status must still show what it can
        log.debug("status: lake unavailable", exc_info=True)
        body["errors"].append(f"lake: {exc}")
    return body
