"""The drift baseline: per column, the null rates of earlier gate runs of the last N days (§5.8).

A gate runs every few seconds in continuous mode, so a week of ``dq_audit.profile_metrics``
holds millions of rows. Reading all of them on every gate would make each gate slower by the
day; instead each *closed* day (a ``run_date`` before today: no run writes there any more) is
summarised once per process into count, mean and sum of squared deviations per column, and only
today's partition is read on every call. Summaries combine exactly (Chan et al.'s parallel
variance), so the result equals the statistics of the raw values: one value per run (the first,
should a run have written twice), the current run excluded.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import pyarrow as pa
from pyiceberg.catalog import Catalog
from pyiceberg.table import Table

from wikistream.lake.catalog import ensure_table
from wikistream.lake.predicates import all_of, eq, ge, lt
from wikistream.lake.schemas import PROFILE_METRICS
from wikistream.quality.engine import connect

BaselineKey = tuple[str, str]  # (table_name, column_name)

_SUMMARY_SQL = """
SELECT table_name, column_name, count(*), avg(null_rate), coalesce(var_samp(null_rate), 0)
FROM (
    SELECT run_id, table_name, column_name, first(null_rate) AS null_rate
    FROM baseline_rows WHERE run_id <> ? AND null_rate IS NOT NULL
    GROUP BY run_id, table_name, column_name
)
GROUP BY table_name, column_name
"""


@dataclass(frozen=True)
class BaselineStats:
    """Count, mean and sum of squared deviations (M2) of a column's baseline null rates."""

    runs: int
    mean: float
    m2: float = 0.0

    @classmethod
    def of(cls, values: Iterable[float]) -> BaselineStats:
        """The statistics of ``values`` (at least one)."""
        stats: BaselineStats | None = None
        for value in values:
            one = cls(1, float(value))
            stats = one if stats is None else stats.combine(one)
        if stats is None:
            raise ValueError("a baseline needs at least one value")
        return stats

    @property
    def stddev(self) -> float | None:
        """Sample standard deviation (None below two runs)."""
        return math.sqrt(max(0.0, self.m2) / (self.runs - 1)) if self.runs >= 2 else None

    def combine(self, other: BaselineStats) -> BaselineStats:
        """The statistics of both groups of values together (exact, numerically stable)."""
        runs = self.runs + other.runs
        delta = other.mean - self.mean
        mean = self.mean + delta * other.runs / runs
        m2 = self.m2 + other.m2 + delta * delta * self.runs * other.runs / runs
        return BaselineStats(runs, mean, m2)


Summary = dict[BaselineKey, BaselineStats]

_closed_days: dict[tuple[str, str, str], Summary] = {}  # (table uuid, layer, run_date) → summary
_lock = threading.Lock()


def read_baseline(
    catalog: Catalog, layer: str, now: datetime, days: int, *, exclude_run_id: str
) -> Summary:
    """Null-rate statistics of earlier runs of ``layer`` since ``now − days``, per column."""
    table = ensure_table(catalog, PROFILE_METRICS)
    if table.current_snapshot() is None:
        return {}
    today = now.date()
    first = today - timedelta(days=days)
    uuid = str(table.metadata.table_uuid)
    parts = [_summary(_read(table, layer, today, today + timedelta(days=1)), exclude_run_id)]
    with _lock:
        for key in [k for k in _closed_days if k[0] == uuid and k[1] == layer]:
            if not first.isoformat() <= key[2] < today.isoformat():
                del _closed_days[key]  # out of the window: never asked for again
    for offset in range((today - first).days):
        day = first + timedelta(days=offset)
        key = (uuid, layer, day.isoformat())
        with _lock:
            cached = _closed_days.get(key)
        if cached is None:
            cached = _summary(_read(table, layer, day, day + timedelta(days=1)), exclude_run_id)
            with _lock:
                _closed_days[key] = cached
        parts.append(cached)
    return _merge(parts)


def _read(table: Table, layer: str, start: date, end: date) -> pa.Table:
    """The profile rows of ``layer`` with ``start <= run_date < end`` (a partition prune)."""
    return table.scan(
        row_filter=all_of(
            [eq("layer", layer), ge("run_date", start.isoformat()), lt("run_date", end.isoformat())]
        ),
        selected_fields=("run_id", "table_name", "column_name", "null_rate"),
    ).to_arrow()


def _summary(rows: pa.Table, exclude_run_id: str) -> Summary:
    if rows.num_rows == 0:
        return {}
    con = connect()
    try:
        con.register("baseline_rows", rows)
        grouped = con.execute(_SUMMARY_SQL, [exclude_run_id]).fetchall()
    finally:
        con.close()
    return {
        (t, c): BaselineStats(int(n), float(mean), float(var) * (int(n) - 1))
        for t, c, n, mean, var in grouped
    }


def _merge(parts: Iterable[Mapping[BaselineKey, BaselineStats]]) -> Summary:
    merged: Summary = {}
    for part in parts:
        for key, stats in part.items():
            merged[key] = stats if key not in merged else merged[key].combine(stats)
    return merged
