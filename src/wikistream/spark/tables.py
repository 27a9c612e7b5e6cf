"""The lake's Iceberg tables seen from Spark: create, read a date range, replace a date range.

Tables are created from the same :class:`~wikistream.lake.schemas.TableDef` as on the laptop
(Spark DDL, so a cluster needs no pyiceberg catalog access). A date range is replaced in one
Iceberg commit: ``overwrite`` by filter where the table is partitioned by that date, a ``MERGE``
with ``WHEN NOT MATCHED BY SOURCE … DELETE`` where it is not (Iceberg refuses a filter that
would split data files).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from pyiceberg.transforms import DayTransform, IdentityTransform
from pyiceberg.types import (
    BooleanType,
    DoubleType,
    IntegerType,
    LongType,
    StringType,
    TimestamptzType,
)

from wikistream.errors import LakeError
from wikistream.lake.schemas import TABLE_PROPERTIES, TableDef

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame, SparkSession

    from wikistream.settings import Settings

SPARK_TYPES: dict[type[Any], str] = {
    StringType: "STRING",
    IntegerType: "INT",
    LongType: "BIGINT",
    DoubleType: "DOUBLE",
    BooleanType: "BOOLEAN",
    TimestamptzType: "TIMESTAMP",
}


@dataclass(frozen=True)
class DateRange:
    """Inclusive UTC dates; ``None`` on a side means unbounded (both ``None``: everything)."""

    first: date | None = None
    last: date | None = None

    def __post_init__(self) -> None:
        if self.first and self.last and self.first > self.last:
            raise LakeError(
                f"date range starts {self.first} after it ends {self.last}; give --from <= --to"
            )

    @property
    def full(self) -> bool:
        """True when the range is unbounded on both sides."""
        return self.first is None and self.last is None

    def sql(self, column: str) -> str:
        """A Spark SQL predicate on a ``YYYY-MM-DD`` string column (``TRUE`` when full)."""
        terms = []
        if self.first is not None:
            terms.append(f"{column} >= '{self.first.isoformat()}'")
        if self.last is not None:
            terms.append(f"{column} <= '{self.last.isoformat()}'")
        return " AND ".join(terms) or "TRUE"

    def time_sql(self, column: str) -> str:
        """A predicate on a timestamp column: the UTC instants of the range's days."""
        terms = []
        if self.first is not None:
            terms.append(f"{column} >= TIMESTAMP '{self.first.isoformat()} 00:00:00'")
        if self.last is not None:
            end = self.last + timedelta(days=1)
            terms.append(f"{column} < TIMESTAMP '{end.isoformat()} 00:00:00'")
        return " AND ".join(terms) or "TRUE"

    def describe(self) -> str:
        """``2026-02-25..2026-02-26`` / ``all dates``."""
        if self.full:
            return "all dates"
        return f"{self.first or '…'}..{self.last or '…'}"


def qualified(settings: Settings, table: TableDef) -> str:
    """``<catalog>.<namespace>.<table>`` as Spark names it."""
    return f"{settings.lake.catalog_name}.{table.identifier}"


def create_ddl(settings: Settings, table: TableDef) -> str:
    """``CREATE TABLE IF NOT EXISTS`` for ``table`` (columns, partitioning, properties)."""
    columns = []
    for name, kind, required in table.columns:
        spark_type = SPARK_TYPES.get(type(kind))
        if spark_type is None:
            raise LakeError(f"column {table.identifier}.{name} has type {kind} with no Spark DDL")
        columns.append(f"`{name}` {spark_type}{' NOT NULL' if required else ''}")
    parts = []
    for source, transform, _ in table.partition:
        if isinstance(transform, IdentityTransform):
            parts.append(f"`{source}`")
        elif isinstance(transform, DayTransform):
            parts.append(f"days(`{source}`)")
        else:
            raise LakeError(f"partition transform {transform} of {table.identifier} has no DDL")
    props = {**TABLE_PROPERTIES, **table.properties}
    text = f"CREATE TABLE IF NOT EXISTS {qualified(settings, table)} (\n  "
    text += ",\n  ".join(columns) + "\n) USING iceberg"
    if parts:
        text += f"\nPARTITIONED BY ({', '.join(parts)})"
    rendered = ", ".join(f"'{k}' = '{v}'" for k, v in sorted(props.items()))
    return text + f"\nTBLPROPERTIES ({rendered})"


def ensure_tables(spark: SparkSession, settings: Settings, *tables: TableDef) -> None:
    """Create the namespaces and tables that do not exist yet."""
    for table in tables:
        spark.sql(f"CREATE NAMESPACE IF NOT EXISTS {settings.lake.catalog_name}.{table.namespace}")
        spark.sql(create_ddl(settings, table))


def read_range(
    spark: SparkSession,
    settings: Settings,
    table: TableDef,
    predicate: str,
    columns: tuple[str, ...] | None = None,
    *,
    snapshot_id: int | None = None,
) -> DataFrame:
    """Rows of ``table`` matching a Spark SQL ``predicate`` (at ``snapshot_id`` when given)."""
    reader = spark.read
    if snapshot_id is not None:
        reader = reader.option("snapshot-id", str(snapshot_id))
    frame = reader.table(qualified(settings, table)).where(predicate)
    if columns is not None:
        frame = frame.select(*(f"`{c}`" for c in columns))
    return frame


def current_snapshot(spark: SparkSession, settings: Settings, table: TableDef) -> tuple[int, int]:
    """(snapshot id, sequence number) of ``table``'s ``main`` branch; (0, 0) when never written."""
    name = qualified(settings, table)
    refs = spark.sql(f"SELECT snapshot_id FROM {name}.refs WHERE name = 'main'").collect()
    if not refs:
        return 0, 0
    snapshot = int(refs[0][0])
    seqs = spark.sql(
        f"SELECT MAX(latest_sequence_number) FROM {name}.metadata_log_entries "
        f"WHERE latest_snapshot_id = {snapshot}"
    ).collect()
    sequence = seqs[0][0] if seqs and seqs[0][0] is not None else 0
    return snapshot, int(sequence)


def conform(frame: DataFrame, table: TableDef) -> DataFrame:
    """Select and cast ``frame`` to ``table``'s columns, in order (a missing one is an error)."""
    missing = [c for c in table.column_names if c not in frame.columns]
    if missing:
        raise LakeError(f"rows for {table.identifier} lack columns {missing}")
    return frame.selectExpr(
        *(
            f"CAST(`{name}` AS {SPARK_TYPES[type(kind)]}) AS `{name}`"
            for name, kind, _ in table.columns
        )
    )


def replace_range(
    spark: SparkSession,
    settings: Settings,
    table: TableDef,
    frame: DataFrame,
    date_column: str,
    dates: DateRange,
    keys: tuple[str, ...],
) -> None:
    """Replace ``table``'s rows of ``dates`` with ``frame`` in one commit."""
    from pyspark.sql import functions as f

    name = qualified(settings, table)
    rows = conform(frame, table)
    partitioned = any(
        source == date_column and isinstance(transform, IdentityTransform)
        for source, transform, _ in table.partition
    )
    if partitioned or dates.full:
        condition: Column = f.expr(dates.sql(f"`{date_column}`"))
        rows.writeTo(name).overwrite(condition)
        return
    view = f"replacement_{table.identifier.replace('.', '_')}"
    rows.createOrReplaceTempView(view)
    on = " AND ".join(f"t.`{k}` = s.`{k}`" for k in keys)
    try:
        spark.sql(
            f"MERGE INTO {name} t USING {view} s ON {on} "
            "WHEN MATCHED THEN UPDATE SET * WHEN NOT MATCHED THEN INSERT * "
            f"WHEN NOT MATCHED BY SOURCE AND {dates.sql(f't.`{date_column}`')} THEN DELETE"
        )
    finally:
        spark.catalog.dropTempView(view)


def set_properties(
    spark: SparkSession, settings: Settings, table: TableDef, properties: dict[str, str]
) -> None:
    """Set table properties (e.g. a step's cursor)."""
    if not properties:
        return
    rendered = ", ".join(f"'{k}' = '{v}'" for k, v in sorted(properties.items()))
    spark.sql(f"ALTER TABLE {qualified(settings, table)} SET TBLPROPERTIES ({rendered})")
