"""The event ids already in bronze, per UTC day: the insert-if-absent check without a full scan.

A day is loaded once, by scanning only that day's partition and only the ``event_id`` column;
after that the writer adds the ids it commits. The cache stays correct as long as every commit
to the table since the load is known: the writer clears it when it sees a snapshot that neither it
nor maintenance made (another writer). Least recently used days are dropped beyond ``max_days``
and re-read on their next use.
"""

from __future__ import annotations

from collections import OrderedDict
from datetime import UTC, datetime, timedelta

import pyarrow as pa
import pyarrow.compute as pc
from pyiceberg.table import Table


def day_filter(day: str, column: str = "event_timestamp") -> str:
    """Row filter selecting one UTC day (``YYYY-MM-DD``) of a timestamptz column."""
    start = datetime.strptime(day, "%Y-%m-%d").replace(tzinfo=UTC)
    end = start + timedelta(days=1)
    return f"{column} >= '{start.isoformat()}' and {column} < '{end.isoformat()}'"


class SeenEventIds:
    """Per-day sets of ``event_id`` already committed to the bronze table."""

    def __init__(self, max_days: int = 4) -> None:
        self._max_days = max_days
        self._days: OrderedDict[str, list[pa.Array]] = OrderedDict()
        self.days_loaded = 0

    def clear(self) -> None:
        """Forget everything (another writer committed; reload from the table)."""
        self._days.clear()

    def _ids(self, table: Table, day: str) -> pa.Array:
        chunks = self._days.get(day)
        if chunks is None:
            scan = table.scan(row_filter=day_filter(day), selected_fields=("event_id",))
            column = scan.to_arrow().column("event_id")
            chunks = [column.combine_chunks().cast(pa.large_string())]
            self._days[day] = chunks
            self.days_loaded += 1
            while len(self._days) > self._max_days:
                self._days.popitem(last=False)
        self._days.move_to_end(day)
        if len(chunks) > 1:
            combined = pa.concat_arrays(chunks)
            chunks[:] = [combined]
        return chunks[0]

    def absent(self, table: Table, rows: pa.Table) -> pa.Table:
        """Return the rows whose ``event_id`` is not in bronze yet (checked per event day)."""
        if rows.num_rows == 0:
            return rows
        days = rows.column("event_date")
        keep = pa.array([True] * rows.num_rows)
        for day in pc.unique(days).to_pylist():
            in_day = pc.equal(days, day)
            known = self._ids(table, str(day))
            if len(known) == 0:
                continue
            dup = pc.and_(in_day, pc.is_in(rows.column("event_id"), value_set=known))
            keep = pc.and_(keep, pc.invert(dup))
        return rows.filter(keep)

    def add(self, rows: pa.Table) -> None:
        """Record ids just committed (only for days already loaded)."""
        if rows.num_rows == 0:
            return
        days = rows.column("event_date")
        for day in pc.unique(days).to_pylist():
            chunks = self._days.get(str(day))
            if chunks is not None:
                ids = rows.column("event_id").filter(pc.equal(days, day))
                chunks.append(ids.combine_chunks().cast(pa.large_string()))
