"""What the silver and gold steps share: their result record and the one-transaction commit."""

from __future__ import annotations

import uuid
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
from pyiceberg.exceptions import CommitFailedException
from pyiceberg.expressions import BooleanExpression
from pyiceberg.manifest import DataFile
from pyiceberg.table import Table

from wikistream.errors import CommitConflictError
from wikistream.lake.changes import Cursor
from wikistream.lake.datafiles import append_rows, write_data_files
from wikistream.lake.schemas import TableDef
from wikistream.lake.transaction import begin


@dataclass
class StepResult:
    """What one silver or gold run did; ``slices`` tells a DQ gate which data to check."""

    layer: str
    rows_in: int = 0
    rows_out: int = 0
    rows_deleted: int = 0
    rows_invalid: int = 0
    rows_duplicate: int = 0
    dates: tuple[str, ...] = ()
    groups: dict[str, int] = field(default_factory=dict)
    cursor_before: Cursor = field(default_factory=Cursor)
    cursor: Cursor = field(default_factory=Cursor)
    snapshots_before: dict[str, int | None] = field(default_factory=dict)
    snapshots_after: dict[str, int | None] = field(default_factory=dict)
    commits: int = 0
    duration_s: float = 0.0
    noop: bool = False
    event_times: list[float] = field(default_factory=list)
    """A sample of the committed rows' event times (epoch s), for end-to-end latency metrics."""

    def as_dict(self) -> dict[str, Any]:
        """JSON-friendly form (CLI output, status files, DQ slice descriptions)."""
        return {
            "layer": self.layer,
            "noop": self.noop,
            "rows_in": self.rows_in,
            "rows_out": self.rows_out,
            "rows_deleted": self.rows_deleted,
            "rows_invalid": self.rows_invalid,
            "rows_duplicate": self.rows_duplicate,
            "dates": list(self.dates),
            "groups": dict(self.groups),
            "cursor_before": self.cursor_before.as_dict(),
            "cursor": self.cursor.as_dict(),
            "snapshots_before": dict(self.snapshots_before),
            "snapshots_after": dict(self.snapshots_after),
            "commits": self.commits,
            "duration_s": round(self.duration_s, 3),
        }


def snapshot_id(table: Table) -> int | None:
    """The id of ``table``'s current snapshot (``None`` for a table never written)."""
    snapshot = table.current_snapshot()
    return snapshot.snapshot_id if snapshot is not None else None


def conform(rows: pa.Table, table: TableDef) -> pa.Table:
    """Order and cast ``rows`` to the Arrow schema of ``table`` (missing columns are an error)."""
    target = table.schema().as_arrow()
    return rows.select(target.names).cast(target)


def rewrite_files(
    table: Table,
    *,
    remove: Sequence[DataFile],
    rows: pa.Table,
    properties: dict[str, str] | None = None,
) -> None:
    """Replace data files ``remove`` by files holding ``rows`` in ONE overwrite snapshot.

    Same effect as ``delete`` + ``append`` but one snapshot instead of two and no delete
    planning: gold commits every cycle, and pyiceberg's per-commit cost grows with the number of
    snapshots in the table metadata. ``rows`` must contain every row of ``remove`` to keep.
    """
    try:
        with begin(table) as tx:
            if remove or rows.num_rows:
                new_files = (
                    write_data_files(tx.table_metadata, table.io, rows, uuid.uuid4())
                    if rows.num_rows
                    else []
                )
                with tx.update_snapshot().overwrite() as overwrite:
                    for data_file in remove:
                        overwrite.delete_data_file(data_file)
                    for data_file in new_files:
                        overwrite.append_data_file(data_file)
            if properties:
                tx.set_properties(properties)
    except CommitFailedException as exc:
        raise _conflict(table, exc) from exc


def _conflict(table: Table, exc: Exception) -> CommitConflictError:
    return CommitConflictError(
        f"another writer committed to {'.'.join(table.name())} while this step ran: {exc}; "
        "the step made no change — run it again (only one silver/gold writer should run)"
    )


def commit_rows(
    table: Table,
    *,
    delete: BooleanExpression | None = None,
    rows: pa.Table | None = None,
    properties: dict[str, str] | None = None,
) -> None:
    """Delete, append and set properties in one Iceberg transaction (all or nothing)."""
    try:
        with begin(table) as tx:
            if delete is not None and table.current_snapshot() is not None:
                with warnings.catch_warnings():
                    # a recomputed group that was never written before matches nothing: expected
                    warnings.filterwarnings("ignore", message="Delete operation did not match")
                    tx.delete(delete)
            if rows is not None and rows.num_rows:
                append_rows(tx, rows, {})
            if properties:
                tx.set_properties(properties)
    except CommitFailedException as exc:
        raise _conflict(table, exc) from exc


def sample_times(column: pa.ChunkedArray | pa.Array, limit: int = 100) -> list[float]:
    """Up to ``limit`` evenly spaced non-null values of a timestamp column, as epoch seconds."""
    values = [v for v in column.drop_null().cast(pa.int64()).to_pylist() if v is not None]
    step = max(1, len(values) // limit)
    return [v / 1_000_000 for v in values[::step][:limit]]
