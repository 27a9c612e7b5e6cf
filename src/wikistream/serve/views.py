"""The sandbox's views: ``<namespace>.<table>`` over one snapshot of each referenced table.

Local warehouse (the default): the view reads the snapshot's Parquet data files with DuckDB's own
reader, so projections, filters and LIMIT reach the files and a query over a big bronze table
reads only what it needs. Our tables are written copy-on-write (no delete files), so a
snapshot's data files are the whole table. Exactly those files are put on DuckDB's
``allowed_paths`` before external access is switched off; nothing else on disk is readable.

Remote warehouses (S3 …) or snapshots with delete files fall back to reading the referenced
columns through pyiceberg into memory.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

import duckdb
from pyiceberg.table import Table

from wikistream.errors import CatalogError, QueryError
from wikistream.serve.lakeread import TABLES, AsOf, LakeReader, empty_table, local_data_files
from wikistream.serve.sqlcheck import CheckedQuery

if TYPE_CHECKING:
    from pyiceberg.types import IcebergType

SCHEMAS = ("bronze", "silver", "gold", "dq_audit")
DUCKDB_TYPES = {
    "string": "VARCHAR",
    "int": "INTEGER",
    "long": "BIGINT",
    "double": "DOUBLE",
    "float": "FLOAT",
    "boolean": "BOOLEAN",
    "timestamptz": "TIMESTAMPTZ",
    "timestamp": "TIMESTAMP",
    "date": "DATE",
}


def quote(identifier: str) -> str:
    """A DuckDB identifier in double quotes."""
    return '"' + identifier.replace('"', '""') + '"'


def literal(text: str) -> str:
    """A DuckDB string literal."""
    return "'" + text.replace("'", "''") + "'"


def expose_tables(
    con: duckdb.DuckDBPyConnection, reader: LakeReader, checked: CheckedQuery, as_of: AsOf | None
) -> tuple[dict[str, int | None], list[str]]:
    """Create the views; return the snapshot read per table and the data files they may read."""
    loaded: dict[str, Table | None] = {name: reader.load(name) for name in checked.tables}
    as_of = common_point(loaded, as_of)
    snapshots: dict[str, int | None] = {}
    allowed: list[str] = []
    for schema in SCHEMAS:
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
    for i, (name, wanted) in enumerate(sorted(checked.tables.items())):
        table = loaded[name]
        snapshot_id = reader.snapshot_id(table, as_of)
        snapshots[name] = snapshot_id
        fields = _fields(table, name)
        columns = [c for c in fields if wanted is None or c in wanted] or list(fields)[:1]
        schema, short = name.split(".", 1)
        view = f"{schema}.{quote(short)}"
        files = local_data_files(table, snapshot_id) if table is not None else []
        if files:
            present = _columns_in_files(con, files)
            select = ", ".join(
                quote(c) if c in present else f"CAST(NULL AS {_duck_type(fields[c])}) AS {quote(c)}"
                for c in columns
            )
            listing = "[" + ", ".join(literal(f) for f in files) + "]"
            con.execute(
                f"CREATE VIEW {view} AS SELECT {select} "
                f"FROM read_parquet({listing}, union_by_name = true)"
            )
            allowed.extend(files)
            continue
        if table is None or snapshot_id is None or files == []:
            source = empty_table(name, columns)
        else:  # remote files or delete files: read through pyiceberg
            source = reader.read(name, columns, snapshot_id=snapshot_id, table=table)
        internal = f"__wikistream_source_{i}"
        con.register(internal, source)
        select = ", ".join(quote(c) for c in columns)
        con.execute(f"CREATE VIEW {view} AS SELECT {select} FROM {internal}")
    return snapshots, allowed


def _columns_in_files(con: duckdb.DuckDBPyConnection, files: list[str]) -> set[str]:
    listing = "[" + ", ".join(literal(f) for f in files) + "]"
    try:
        rows = con.execute(
            f"DESCRIBE SELECT * FROM read_parquet({listing}, union_by_name = true)"
        ).fetchall()
    except duckdb.Error as exc:
        raise CatalogError(
            f"cannot read the data files of the table ({exc}); they may have been removed by "
            "maintenance: retry, or check the warehouse"
        ) from exc
    return {str(row[0]) for row in rows}


def _fields(table: Table | None, name: str) -> dict[str, IcebergType]:
    schema = table.schema() if table is not None else TABLES[name].schema()
    return {f.name: f.field_type for f in schema.fields}


def _duck_type(field_type: IcebergType) -> str:
    return DUCKDB_TYPES.get(str(field_type), "VARCHAR")


def common_point(loaded: dict[str, Table | None], as_of: AsOf | None) -> AsOf | None:
    """A snapshot id names one table's state; the other tables are read as of its commit time."""
    if as_of is None or as_of.snapshot_id is None or len(loaded) <= 1:
        return as_of
    for table in loaded.values():
        snap = table.snapshot_by_id(as_of.snapshot_id) if table is not None else None
        if snap is not None:
            return AsOf(timestamp=datetime.fromtimestamp(snap.timestamp_ms / 1000, tz=UTC))
    raise QueryError(
        f"snapshot {as_of.snapshot_id} belongs to none of the tables the query reads "
        f"({', '.join(sorted(loaded))}); pass a timestamp to --as-of instead"
    )
