"""What changed in an Iceberg table since a cursor: the data files added and removed since then.

A :class:`Cursor` names the last snapshot of an upstream table a step has fully processed; it is
stored in the downstream table's properties and committed in the same transaction as the data.
:func:`plan_changes` walks the upstream snapshot lineage back to that snapshot and collects, from
each newer snapshot's own manifests, the data files it ADDED and DELETED:

* ``replace`` snapshots (compaction, manifest rewrites) are skipped: by the Iceberg spec they do
  not change table data, so their rewritten files hold rows already seen;
* ``overwrite``/``delete`` snapshots (copy-on-write deletes, dedup maintenance) contribute both the
  rewritten files (re-read; processing is idempotent) and the removed files (so gold can recompute
  the groups of removed rows); a file both added and removed after the cursor cancels out (its
  rows are not in the table at the target snapshot);
* if the cursor snapshot is no longer in the lineage (expired by maintenance, table rolled back),
  every live file whose data sequence number is above the cursor's counts as added and the change
  set is flagged ``lineage_lost`` so callers can widen what they recompute;
* merge-on-read delete files (written by Spark, never by pyiceberg) are reported by partition.

Nothing here reads log offsets, so bronze rewrites by maintenance never make a step miss rows.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
from pyiceberg.expressions import AlwaysTrue
from pyiceberg.io.pyarrow import ArrowScan
from pyiceberg.manifest import DataFile, ManifestContent, ManifestEntryStatus
from pyiceberg.table import FileScanTask, Table
from pyiceberg.table.snapshots import Operation, Snapshot

from wikistream.errors import LakeError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Cursor:
    """The last upstream snapshot a step processed (``None``: nothing processed yet)."""

    snapshot_id: int | None = None
    sequence_number: int = 0

    @classmethod
    def load(cls, properties: Mapping[str, str], prefix: str) -> Cursor:
        """Read the cursor stored under ``<prefix>.snapshot-id`` / ``.sequence-number``."""
        raw_id = properties.get(f"{prefix}.snapshot-id")
        raw_seq = properties.get(f"{prefix}.sequence-number", "0")
        return cls(int(raw_id) if raw_id else None, int(raw_seq))

    def to_properties(self, prefix: str) -> dict[str, str]:
        """The table properties that store this cursor."""
        return {
            f"{prefix}.snapshot-id": "" if self.snapshot_id is None else str(self.snapshot_id),
            f"{prefix}.sequence-number": str(self.sequence_number),
        }

    def as_dict(self) -> dict[str, Any]:
        """JSON-friendly form (for step results and status files)."""
        return {"snapshot_id": self.snapshot_id, "sequence_number": self.sequence_number}


@dataclass
class ChangeSet:
    """Files added and removed upstream between a cursor and ``target`` (the new cursor)."""

    target: Cursor
    added: list[DataFile] = field(default_factory=list)
    removed: list[DataFile] = field(default_factory=list)
    delete_file_partitions: list[Mapping[str, Any]] = field(default_factory=list)
    full: bool = False
    lineage_lost: bool = False

    @property
    def empty(self) -> bool:
        """True when no data changed (the cursor may still move, e.g. past a compaction)."""
        return not (self.added or self.removed or self.delete_file_partitions)

    @property
    def added_rows(self) -> int:
        """Rows in the added files, from the manifests (before any delete is applied)."""
        return sum(f.record_count for f in self.added)


def oldest(cursors: Iterable[Cursor]) -> Cursor:
    """The cursor furthest behind; one that processed nothing yet comes first."""
    return min(cursors, key=lambda c: c.sequence_number if c.snapshot_id is not None else -1)


def current_cursor(table: Table) -> Cursor:
    """The cursor pointing at ``table``'s current snapshot."""
    snapshot = table.current_snapshot()
    if snapshot is None:
        return Cursor()
    return Cursor(snapshot.snapshot_id, snapshot.sequence_number or 0)


def plan_changes(table: Table, since: Cursor, until: Cursor | None = None) -> ChangeSet:
    """List the data files added/removed in ``table`` after ``since`` (see module docstring).

    ``until`` stops at that snapshot instead of the current one (a data-quality gate checked
    exactly that slice); it must be ``since`` or a later snapshot of the same lineage.
    """
    target = current_cursor(table) if until is None else until
    if target.snapshot_id is None or target.snapshot_id == since.snapshot_id:
        return ChangeSet(target)
    current = table.metadata.snapshot_by_id(target.snapshot_id)
    if current is None:
        raise LakeError(
            f"{table.name()}: snapshot {target.snapshot_id} is no longer in the table history; "
            "re-run the step without a fixed end point"
        )
    if since.snapshot_id is None:
        return ChangeSet(target, added=list(_live_files(table, current)), full=True)
    chain = _lineage_until(table, current, since.snapshot_id)
    if chain is None:
        log.warning(
            "%s: cursor snapshot %s is no longer in the table history (expired or rolled back); "
            "treating every file newer than sequence number %s as new",
            table.name(),
            since.snapshot_id,
            since.sequence_number,
        )
        added = [
            f
            for f, seq in _live_files_with_sequence(table, current)
            if seq is None or seq > since.sequence_number
        ]
        return ChangeSet(target, added=added, lineage_lost=True)
    changes = ChangeSet(target)
    for snapshot in reversed(chain):
        _collect_snapshot_changes(table, snapshot, changes)
    return changes


def _lineage_until(table: Table, head: Snapshot, stop_id: int) -> list[Snapshot] | None:
    """Snapshots from ``head`` back to ``stop_id`` (excluded); ``None``: not an ancestor."""
    chain: list[Snapshot] = []
    snapshot: Snapshot | None = head
    while snapshot is not None and snapshot.snapshot_id != stop_id:
        chain.append(snapshot)
        parent = snapshot.parent_snapshot_id
        snapshot = table.metadata.snapshot_by_id(parent) if parent is not None else None
    return chain if snapshot is not None else None


def _collect_snapshot_changes(table: Table, snapshot: Snapshot, changes: ChangeSet) -> None:
    operation = snapshot.summary.operation if snapshot.summary is not None else None
    if operation == Operation.REPLACE:
        return
    for manifest in snapshot.manifests(table.io):
        if manifest.added_snapshot_id != snapshot.snapshot_id:
            continue
        entries = manifest.fetch_manifest_entry(table.io, discard_deleted=False)
        for entry in entries:
            if entry.status == ManifestEntryStatus.EXISTING:
                continue  # carried over unchanged from an older snapshot
            if manifest.content == ManifestContent.DELETES:
                if entry.status == ManifestEntryStatus.ADDED:
                    changes.delete_file_partitions.append(_partition_of(table, entry.data_file))
            elif entry.status == ManifestEntryStatus.ADDED:
                changes.added.append(entry.data_file)
            elif entry.status == ManifestEntryStatus.DELETED:
                _remove(changes, entry.data_file)


def _remove(changes: ChangeSet, data_file: DataFile) -> None:
    """Record a removed file; one added earlier in the same change set simply cancels out.

    Its rows never reached the downstream layer, and they are not in the table at the target
    snapshot either (a dedup or delete rewrote or dropped them), so reading them would check and
    process rows that no longer exist.
    """
    path = data_file.file_path
    for index, added in enumerate(changes.added):
        if added.file_path == path:
            del changes.added[index]
            return
    changes.removed.append(data_file)


def _live_files(table: Table, snapshot: Snapshot) -> Iterator[DataFile]:
    for data_file, _ in _live_files_with_sequence(table, snapshot):
        yield data_file


def _live_files_with_sequence(
    table: Table, snapshot: Snapshot
) -> Iterator[tuple[DataFile, int | None]]:
    for manifest in snapshot.manifests(table.io):
        if manifest.content != ManifestContent.DATA:
            continue
        for entry in manifest.fetch_manifest_entry(table.io, discard_deleted=True):
            yield entry.data_file, entry.sequence_number


def _partition_of(table: Table, data_file: DataFile) -> dict[str, Any]:
    """The partition values of a file as ``{partition field name: value}``."""
    spec = table.metadata.specs().get(data_file.spec_id, table.spec())
    record = data_file.partition
    return {pf.name: record[i] for i, pf in enumerate(spec.fields) if i < len(record)}


def partition_value(table: Table, data_file: DataFile, name: str) -> Any:
    """One partition value of ``data_file`` (``None`` when the spec has no such field)."""
    return _partition_of(table, data_file).get(name)


def read_files(table: Table, files: Sequence[DataFile], columns: Iterable[str]) -> pa.Table:
    """Read ``columns`` of exactly these data files (no delete files applied)."""
    schema = table.schema().select(*columns)
    scan = ArrowScan(table.metadata, table.io, schema, AlwaysTrue())
    if not files:
        return schema.as_arrow().empty_table()
    return scan.to_table([FileScanTask(f) for f in files])
