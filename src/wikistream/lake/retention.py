"""Retention of the data-quality audit (``dq_audit.quality_results`` and ``profile_metrics``).

In continuous mode every layer is gated every few seconds: about a million audit rows a day. The
audit is the operator's record, not data to keep forever, so maintenance deletes the run dates
older than ``lake.audit_retention_days`` (0 keeps everything). Both tables are partitioned by
``run_date``: the delete drops whole files, a metadata-only commit, retried when a gate commits
first.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from datetime import datetime, timedelta

from pyiceberg.exceptions import CommitFailedException
from pyiceberg.table import Table

from wikistream.errors import CommitConflictError
from wikistream.lake.predicates import lt
from wikistream.lake.schemas import PROFILE_METRICS, QUALITY_RESULTS

log = logging.getLogger(__name__)

AUDIT_TABLES = frozenset({QUALITY_RESULTS.identifier, PROFILE_METRICS.identifier})
ATTEMPTS = 10


def expire_audit_rows(load: Callable[[], Table], days: int, now: datetime) -> tuple[int, int]:
    """Delete audit rows whose ``run_date`` is more than ``days`` before ``now``.

    Returns (rows deleted, commit retries); (0, 0) when nothing is that old or ``days`` is 0.
    """
    if days <= 0:
        return 0, 0
    cutoff = (now - timedelta(days=days)).date().isoformat()
    old = lt("run_date", cutoff)
    for attempt in range(ATTEMPTS):
        table = load()
        if table.current_snapshot() is None:
            return 0, attempt
        rows = sum(task.file.record_count for task in table.scan(row_filter=old).plan_files())
        if rows == 0:
            return 0, attempt
        try:
            table.delete(
                delete_filter=old,
                snapshot_properties={
                    "wikistream.writer": "maintenance",
                    "wikistream.operation": "audit-retention",
                },
            )
        except CommitFailedException:
            time.sleep(random.uniform(0.02, 0.1) * (attempt + 1))
            continue
        log.info("%s: deleted %d audit rows older than %s", table.name(), rows, cutoff)
        return rows, attempt
    raise CommitConflictError(
        f"audit retention could not commit after {ATTEMPTS} attempts (gates kept committing); "
        "it runs again with the next maintenance"
    )
