"""The event ids already in bronze, per UTC day: the insert-if-absent check without a full scan.

A day is loaded once, by scanning only that day's partition and only the ``event_id`` column;
after that the writer adds the ids it commits. The cache holds a 64-bit hash per id (8 bytes
instead of ~90 for the string) and is probed with the batch's hashes, so a check costs one pass
over the day's hashes instead of building a hash table of the day's ids on every commit. A hash
match is only a candidate: candidates are confirmed against the ids stored in the table (a
filtered scan of that day), so a hash collision never drops an event.

The cache stays correct as long as every commit to the table since the load is known: the writer
clears it when it sees a snapshot that neither it nor maintenance made (another writer). Least
recently used days are dropped beyond ``max_days`` and re-read on their next use.
"""

from __future__ import annotations

from collections import OrderedDict
from datetime import UTC, datetime, timedelta

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
from pyiceberg.table import Table

from wikistream.lake.predicates import all_of, ge, is_in, lt


def _day_bounds(day: str) -> tuple[str, str]:
    start = datetime.strptime(day, "%Y-%m-%d").replace(tzinfo=UTC)
    return start.isoformat(), (start + timedelta(days=1)).isoformat()


def day_filter(day: str, column: str = "event_timestamp") -> str:
    """Row filter selecting one UTC day (``YYYY-MM-DD``) of a timestamptz column."""
    start, end = _day_bounds(day)
    return f"{column} >= '{start}' and {column} < '{end}'"


class SeenEventIds:
    """Per-day hashes of the ``event_id`` values already committed to the bronze table."""

    def __init__(self, max_days: int = 4) -> None:
        self._max_days = max_days
        self._days: OrderedDict[str, list[pa.Array]] = OrderedDict()
        self._con = duckdb.connect(config={"threads": 1, "autoinstall_known_extensions": False})
        self.days_loaded = 0
        self.confirm_scans = 0

    def clear(self) -> None:
        """Forget everything (another writer committed; reload from the table)."""
        self._days.clear()

    def close(self) -> None:
        """Release the hashing connection."""
        self._con.close()

    def hash_ids(self, ids: pa.Array | pa.ChunkedArray) -> pa.Array:
        """A uint64 hash per id (DuckDB's ``hash``: stable within one process, which suffices)."""
        if len(ids) == 0:
            return pa.array([], pa.uint64())
        self._con.register("ids", pa.table({"event_id": ids}))
        try:
            result = self._con.sql("SELECT hash(event_id) FROM ids").to_arrow_table()
        finally:
            self._con.unregister("ids")
        return result.column(0).combine_chunks()

    def _hashes(self, table: Table, day: str) -> pa.Array:
        chunks = self._days.get(day)
        if chunks is None:
            scan = table.scan(row_filter=day_filter(day), selected_fields=("event_id",))
            column = scan.to_arrow().column("event_id")
            chunks = [self.hash_ids(column)]
            del column
            self._days[day] = chunks
            self.days_loaded += 1
            while len(self._days) > self._max_days:
                self._days.popitem(last=False)
        self._days.move_to_end(day)
        if len(chunks) > 1:
            combined = pa.concat_arrays(chunks)
            chunks[:] = [combined]
        return chunks[0]

    def _stored(self, table: Table, day: str, candidates: pa.Array) -> pa.Array:
        """Which of ``candidates`` (ids whose hash matched) the table really holds on ``day``."""
        self.confirm_scans += 1
        start, end = _day_bounds(day)
        row_filter = all_of(
            [
                ge("event_timestamp", start),
                lt("event_timestamp", end),
                is_in("event_id", candidates.to_pylist()),
            ]
        )
        scan = table.scan(row_filter=row_filter, selected_fields=("event_id",))
        return scan.to_arrow().column("event_id").combine_chunks()

    def absent(self, table: Table, rows: pa.Table) -> pa.Table:
        """Return the rows whose ``event_id`` is not in bronze yet (checked per event day)."""
        if rows.num_rows == 0:
            return rows
        days = rows.column("event_date")
        ids = rows.column("event_id").combine_chunks()
        hashes: pa.Array | None = None
        keep: pa.Array | None = None
        for day in pc.unique(days).to_pylist():
            known = self._hashes(table, str(day))
            if len(known) == 0:
                continue
            if hashes is None:
                hashes = self.hash_ids(ids)
            in_day = pc.equal(days, day).combine_chunks()
            # probe the day's hashes with the batch's (a small table), not the other way round
            hit = pc.is_in(known, value_set=hashes.filter(in_day))
            if not pc.any(hit).as_py():
                continue
            candidate = pc.and_(in_day, pc.is_in(hashes, value_set=known.filter(hit)))
            stored = self._stored(table, str(day), ids.filter(candidate))
            if len(stored) == 0:
                continue  # hash collisions only
            dup = pc.and_(candidate, pc.is_in(ids, value_set=stored))
            keep = pc.invert(dup) if keep is None else pc.and_(keep, pc.invert(dup))
        return rows if keep is None else rows.filter(keep)

    def add(self, rows: pa.Table) -> None:
        """Record ids just committed (only for days already loaded)."""
        if rows.num_rows == 0:
            return
        days = rows.column("event_date")
        unique = pc.unique(days).to_pylist()
        loaded = [day for day in unique if str(day) in self._days]
        if not loaded:
            return
        hashes = self.hash_ids(rows.column("event_id"))
        for day in loaded:
            in_day = pc.equal(days, day).combine_chunks()
            part = hashes if len(unique) == 1 else hashes.filter(in_day)
            self._days[str(day)].append(part)
