"""Iceberg transactions whose commit cost does not grow with every metadata access.

pyiceberg's ``Transaction.table_metadata`` re-applies all staged updates to a deep copy of the
table metadata on *every* access, and one append reads it about twenty times. The metadata holds
every snapshot, so a commit costs O(accesses × snapshots): ~0.6 s at 300 snapshots here. Table
metadata objects are frozen pydantic models, so the result can be shared until the staged updates
change; this subclass caches it per tuple of staged updates.
"""

from __future__ import annotations

from pyiceberg.table import Table, Transaction
from pyiceberg.table.metadata import TableMetadata
from pyiceberg.table.update import TableUpdate


class CachedTransaction(Transaction):
    """A :class:`~pyiceberg.table.Transaction` that computes its staged metadata once per change."""

    _cached_for: tuple[TableUpdate, ...] | None = None
    _cached_base: TableMetadata | None = None
    _cached: TableMetadata | None = None

    @property
    def table_metadata(self) -> TableMetadata:
        base = self._table.metadata
        if (
            self._cached is None
            or self._cached_for is not self._updates
            or self._cached_base is not base
        ):
            self._cached = super().table_metadata
            self._cached_for = self._updates
            self._cached_base = base
        return self._cached


def begin(table: Table) -> Transaction:
    """Start a transaction on ``table`` (commit with ``with begin(table) as tx: ...``)."""
    return CachedTransaction(table)
