"""The table comparison itself: blind to processing times and row order, not to data."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
from pyiceberg.catalog import Catalog

from tests.contract.catalog_backends import rows_for
from tests.e2e.lake_rows import diff_table
from wikistream.lake.catalog import ensure_lake, open_catalog
from wikistream.lake.schemas import DAILY_SUMMARY
from wikistream.settings import load_settings

TABLE = DAILY_SUMMARY.identifier


def _lake(path: Path, rows: pa.Table) -> Catalog:
    catalog = open_catalog(load_settings(overrides={"data_dir": path}))
    ensure_lake(catalog)
    catalog.load_table(TABLE).append(rows)
    return catalog


def _replace(rows: pa.Table, name: str, values: pa.ChunkedArray) -> pa.Table:
    return rows.set_column(rows.schema.get_field_index(name), rows.schema.field(name), values)


def test_processing_time_and_order_are_ignored(tmp_path: Path) -> None:
    rows = rows_for(DAILY_SUMMARY, 5)
    later = _replace(
        rows, "gold_processed_at", pc.add(rows["gold_processed_at"], timedelta(days=400))
    )
    diff, columns = diff_table(
        _lake(tmp_path / "a", rows), _lake(tmp_path / "b", later.take([4, 3, 2, 1, 0])), TABLE
    )
    assert diff.equal, diff.describe(columns)
    assert "gold_processed_at" not in columns
    assert "total_events" in columns


def test_a_changed_value_and_a_missing_row_are_found(tmp_path: Path) -> None:
    rows = rows_for(DAILY_SUMMARY, 5)
    changed = _replace(rows, "total_events", pc.add(rows["total_events"], 1)).slice(0, 1)
    right = pa.concat_tables([changed, rows.slice(1, 3)])  # row 0 changed, row 4 missing
    diff, columns = diff_table(_lake(tmp_path / "a", rows), _lake(tmp_path / "b", right), TABLE)
    assert not diff.equal
    assert (diff.rows_left, diff.rows_right) == (5, 4)
    assert len(diff.only_left) == 2
    assert len(diff.only_right) == 1
    assert "total_events" in diff.describe(columns)
