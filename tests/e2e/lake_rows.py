"""Compare the lakes of two runs table by table, ignoring what legitimately differs between them.

Processing times, the event-log position (SQLite vs Kafka partitions/offsets) and the data-quality
run ids are properties of *a run*, not of the data: they are dropped before comparing. Every other
column must hold the same multiset of rows in both lakes.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
from pyiceberg.catalog import Catalog

# Log position and processing-time columns: differ between any two runs of the same input.
LOG_POSITION = ("log_partition", "log_offset")
KAFKA = ("kafka_topic", "kafka_partition", "kafka_offset", "kafka_timestamp")
PROCESSED = ("producer_ingested_at", "bronze_processed_at", "silver_processed_at")

# table -> columns left out of the comparison
IGNORED: dict[str, tuple[str, ...]] = {
    "bronze.raw_events": (*KAFKA, *LOG_POSITION, *PROCESSED),
    "silver.cleaned_events": (*LOG_POSITION, *PROCESSED),
    "gold.hourly_stats": ("gold_processed_at",),
    "gold.risk_scores": ("gold_processed_at",),
    "gold.daily_analytics_summary": ("gold_processed_at",),
}
DATA_TABLES = tuple(IGNORED)

# The audit: which checks ran on which layer and table, with which outcome.
AUDIT_KEY = ("layer", "table_name", "check_name", "check_type", "severity", "status")
# What a profile measured (run ids and times differ; the data measured must not).
PROFILE_KEY = (
    "layer",
    "table_name",
    "column_name",
    "record_count",
    "null_count",
    "distinct_count",
    "min_value",
    "max_value",
)


@dataclass(frozen=True)
class TableDiff:
    """Rows found in only one of the two lakes (with multiplicity)."""

    table: str
    rows_left: int
    rows_right: int
    only_left: list[tuple[Any, ...]]
    only_right: list[tuple[Any, ...]]

    @property
    def equal(self) -> bool:
        return not self.only_left and not self.only_right

    def describe(self, columns: Iterable[str], limit: int = 3) -> str:
        """A readable account of the first differing rows."""
        names = list(columns)
        lines = [f"{self.table}: {self.rows_left} vs {self.rows_right} rows"]
        for side, rows in (("only left", self.only_left), ("only right", self.only_right)):
            for row in rows[:limit]:
                lines.append(f"  {side}: {dict(zip(names, row, strict=True))}")
        return "\n".join(lines)


def read_rows(catalog: Catalog, identifier: str, columns: Iterable[str]) -> list[tuple[Any, ...]]:
    """The rows of ``identifier`` restricted to ``columns``, as tuples."""
    table: pa.Table = catalog.load_table(identifier).scan().to_arrow().select(list(columns))
    return list(zip(*(table.column(c).to_pylist() for c in table.column_names), strict=True))


def compared_columns(catalog: Catalog, identifier: str) -> list[str]:
    """Columns of ``identifier`` that must be equal between two runs of the same input."""
    ignored = set(IGNORED.get(identifier, ()))
    schema = catalog.load_table(identifier).schema()
    return [f.name for f in schema.fields if f.name not in ignored]


def diff_rows(table: str, left: list[tuple[Any, ...]], right: list[tuple[Any, ...]]) -> TableDiff:
    """Multiset difference of two row lists."""
    lcount, rcount = Counter(left), Counter(right)
    return TableDiff(
        table,
        len(left),
        len(right),
        sorted((lcount - rcount).elements(), key=repr),
        sorted((rcount - lcount).elements(), key=repr),
    )


def diff_table(left: Catalog, right: Catalog, identifier: str) -> tuple[TableDiff, list[str]]:
    """Compare one data table of two lakes; return the diff and the columns compared."""
    columns = compared_columns(left, identifier)
    assert columns == compared_columns(right, identifier), f"{identifier}: schemas differ"
    diff = diff_rows(
        identifier, read_rows(left, identifier, columns), read_rows(right, identifier, columns)
    )
    return diff, columns
