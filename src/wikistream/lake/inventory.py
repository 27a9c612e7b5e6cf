"""What is in the lake: one line per table, from metadata only (no data file is read)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from pyiceberg.exceptions import NoSuchNamespaceError, NoSuchTableError
from pyiceberg.table import Table

from wikistream.lake.bronze import POSITION_PROPERTY
from wikistream.lake.schemas import ALL_TABLES

if TYPE_CHECKING:
    from pyiceberg.catalog import Catalog


@dataclass(frozen=True)
class TableInfo:
    """Size and freshness of one table, read from its current snapshot summary."""

    table: str
    exists: bool
    rows: int | None = None
    data_files: int | None = None
    delete_files: int | None = None
    size_bytes: int | None = None
    snapshots: int | None = None
    last_commit: datetime | None = None
    last_operation: str | None = None
    log_position: str | None = None
    location: str | None = None

    def as_row(self) -> dict[str, Any]:
        """A plain mapping for rendering."""
        return asdict(self)


def _summary_int(summary: dict[str, str], key: str) -> int:
    try:
        return int(summary.get(key, "0"))
    except ValueError:
        return 0


def describe_table(identifier: str, table: Table) -> TableInfo:
    """Describe one loaded table from its metadata."""
    snapshot = table.current_snapshot()
    summary: dict[str, str] = {}
    operation = None
    if snapshot is not None and snapshot.summary is not None:
        summary = dict(snapshot.summary.additional_properties)
        operation = str(snapshot.summary.operation.value)
    last_ms = snapshot.timestamp_ms if snapshot is not None else table.metadata.last_updated_ms
    position = table.properties.get(POSITION_PROPERTY)
    return TableInfo(
        table=identifier,
        exists=True,
        rows=_summary_int(summary, "total-records"),
        data_files=_summary_int(summary, "total-data-files"),
        delete_files=_summary_int(summary, "total-delete-files"),
        size_bytes=_summary_int(summary, "total-files-size"),
        snapshots=len(table.snapshots()),
        last_commit=datetime.fromtimestamp(last_ms / 1000, UTC) if snapshot is not None else None,
        last_operation=operation,
        log_position=json.dumps(json.loads(position)) if position else None,
        location=table.location(),
    )


def _identifiers(catalog: Catalog) -> list[str]:
    """WikiStream's tables first, then any other table in the catalog."""
    names = [t.identifier for t in ALL_TABLES]
    try:
        namespaces = catalog.list_namespaces()
    except NoSuchNamespaceError:
        return names
    for namespace in namespaces:
        try:
            listed = catalog.list_tables(namespace)
        except NoSuchNamespaceError:
            continue
        for ident in listed:
            name = ".".join(ident)
            if name not in names:
                names.append(name)
    return names


def list_tables(catalog: Catalog) -> list[TableInfo]:
    """Every table with row count, files, snapshots, last commit and size."""
    infos = []
    for name in _identifiers(catalog):
        try:
            table = catalog.load_table(name)
        except NoSuchTableError:
            infos.append(TableInfo(table=name, exists=False))
            continue
        infos.append(describe_table(name, table))
    return infos
