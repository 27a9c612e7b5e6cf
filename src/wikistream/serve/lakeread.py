"""Read-only access to the Iceberg tables for the dashboard and the SQL sandbox.

Tables are found by their view names (``bronze.raw_events``, ``gold.hourly_stats`` …). A table
that does not exist yet reads as empty with its declared schema, so a fresh data dir shows empty
pages instead of errors. Time travel picks, per table, the snapshot current at a timestamp.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlparse

import pyarrow as pa
from pyiceberg.exceptions import NoSuchNamespaceError, NoSuchTableError
from pyiceberg.expressions import AlwaysTrue, BooleanExpression
from pyiceberg.table import Table

from wikistream.clock import parse_iso_utc
from wikistream.errors import CatalogError, QueryError
from wikistream.lake.schemas import ALL_TABLES, TableDef

if TYPE_CHECKING:
    from pyiceberg.catalog import Catalog

TABLES: dict[str, TableDef] = {t.identifier: t for t in ALL_TABLES}
"""Every WikiStream table by its view name ``<namespace>.<table>``."""


@dataclass(frozen=True)
class AsOf:
    """A time-travel point: a snapshot id or an aware UTC timestamp (exactly one is set)."""

    snapshot_id: int | None = None
    timestamp: datetime | None = None

    def describe(self) -> str:
        """Human-readable form for messages."""
        if self.snapshot_id is not None:
            return f"snapshot {self.snapshot_id}"
        return f"timestamp {self.timestamp.isoformat() if self.timestamp else '?'}"


def parse_as_of(text: str | None) -> AsOf | None:
    """Parse ``--as-of``: an integer snapshot id or an ISO-8601 timestamp (UTC if no offset)."""
    if text is None or not text.strip():
        return None
    value = text.strip()
    if value.lstrip("-").isdigit():
        return AsOf(snapshot_id=int(value))
    try:
        return AsOf(timestamp=parse_iso_utc(value.replace("Z", "+00:00")))
    except ValueError:
        raise QueryError(
            f"--as-of {text!r} is neither a snapshot id nor an ISO-8601 timestamp; use e.g. "
            "--as-of 2026-01-28T15:00:00Z or --as-of 4611686018427387904 (see "
            '`wikistream query "SELECT * FROM ..."` snapshots in the output)'
        ) from None


class LakeReader:
    """Loads tables from one catalog (thread-safe) and reads them as Arrow."""

    def __init__(self, catalog: Catalog, cache_entries: int = 32) -> None:
        self.catalog = catalog
        # pyiceberg's SqlCatalog shares one SQLAlchemy engine; serialize metadata look-ups.
        self._lock = threading.Lock()
        # Reads of an unchanged snapshot are reused: pages poll every few seconds.
        self._cache: OrderedDict[tuple[str, int, tuple[str, ...], str], pa.Table] = OrderedDict()
        self._cache_entries = cache_entries

    def load(self, name: str) -> Table | None:
        """The table behind a view name, or None when it was not created yet."""
        if name not in TABLES:
            raise QueryError(f"unknown table {name!r}; known tables: {', '.join(sorted(TABLES))}")
        with self._lock:
            try:
                return self.catalog.load_table(name)
            except (NoSuchTableError, NoSuchNamespaceError):
                return None
            except Exception as exc:  # pyiceberg raises many unrelated types here
                raise CatalogError(
                    f"cannot load table {name}: {exc}; check the [lake] catalog settings"
                ) from exc

    def snapshot_id(self, table: Table | None, as_of: AsOf | None) -> int | None:
        """The snapshot to read: the current one, or the one current at ``as_of``."""
        if table is None:
            return None
        if as_of is None:
            snap = table.current_snapshot()
            return None if snap is None else snap.snapshot_id
        if as_of.snapshot_id is not None:
            if table.snapshot_by_id(as_of.snapshot_id) is None:
                raise QueryError(
                    f"snapshot {as_of.snapshot_id} does not exist in {table.name()}; list "
                    "snapshots with `wikistream query` over a table's current data or pass a "
                    "timestamp to --as-of"
                )
            return as_of.snapshot_id
        assert as_of.timestamp is not None
        snap = table.snapshot_as_of_timestamp(int(as_of.timestamp.timestamp() * 1000))
        return None if snap is None else snap.snapshot_id

    def read(
        self,
        name: str,
        columns: Sequence[str] | None = None,
        row_filter: BooleanExpression | None = None,
        *,
        snapshot_id: int | None = None,
        table: Table | None = None,
    ) -> pa.Table:
        """Read ``columns`` (all when None) of rows matching ``row_filter`` as an Arrow table."""
        table = table if table is not None else self.load(name)
        fields = tuple(columns) if columns is not None else ("*",)
        current = table.current_snapshot() if table is not None else None
        if table is None or (snapshot_id is None and current is None):
            return empty_table(name, columns)
        resolved = snapshot_id if snapshot_id is not None else current.snapshot_id  # type: ignore[union-attr]
        row_filter = row_filter if row_filter is not None else AlwaysTrue()
        key = (name, resolved, fields, repr(row_filter))
        with self._lock:
            cached = self._cache.get(key)
            if cached is not None:
                self._cache.move_to_end(key)
                return cached
        try:
            scan = table.scan(row_filter=row_filter, selected_fields=fields, snapshot_id=resolved)
            result = scan.to_arrow()
        except (OSError, ValueError) as exc:
            raise CatalogError(
                f"cannot read {name} (snapshot {resolved}): {exc}; the data files may have "
                "been removed by maintenance, retry, or check the warehouse"
            ) from exc
        with self._lock:
            self._cache[key] = result
            while len(self._cache) > self._cache_entries:
                self._cache.popitem(last=False)
        return result


def local_data_files(table: Table, snapshot_id: int | None) -> list[str] | None:
    """Local paths of a snapshot's data files ([] when empty); None when they cannot be read
    directly (remote object store, or delete files that must be applied)."""
    if snapshot_id is None:
        return []
    try:
        tasks = list(table.scan(snapshot_id=snapshot_id).plan_files())
    except (OSError, ValueError) as exc:
        raise CatalogError(f"cannot plan a scan of {table.name()}: {exc}") from exc
    paths = [_local_path(task.file.file_path) for task in tasks]
    if any(task.delete_files for task in tasks) or any(p is None for p in paths):
        return None
    return [str(p) for p in paths if p is not None]


def _local_path(location: str) -> Path | None:
    """The local path of a ``file:`` URI or plain path; None for remote object stores."""
    parsed = urlparse(location)
    if parsed.scheme == "file":
        return Path(unquote(parsed.path))
    if parsed.scheme == "":
        return Path(location)
    return None


def empty_table(name: str, columns: Sequence[str] | None) -> pa.Table:
    """A table with the declared schema (optionally projected) and no rows."""
    schema = TABLES[name].schema().as_arrow()
    if columns is not None:
        schema = pa.schema([schema.field(c) for c in columns])
    return schema.empty_table()
