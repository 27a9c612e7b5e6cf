"""Rewrite bronze files the way table maintenance does, to test that steps stay correct."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pyiceberg.table.update.snapshot as snapshot_module
from pyiceberg.io.pyarrow import _dataframe_to_data_files
from pyiceberg.table import Table
from pyiceberg.table.snapshots import Operation
from pyiceberg.table.update.snapshot import _OverwriteFiles


def compact_with_overwrite(table: Table) -> None:
    """Rewrite every live file into new files as an ``overwrite`` (what pyiceberg can commit)."""
    table.overwrite(table.scan().to_arrow())


@contextmanager
def _replace_summaries_allowed() -> Iterator[None]:
    # pyiceberg cannot write `replace` snapshots (Spark/Java compaction does); let it for the test
    original = snapshot_module.update_snapshot_summaries

    def patched(summary: Any, *args: Any, **kwargs: Any) -> Any:
        if summary.operation == Operation.REPLACE:
            return summary
        return original(summary, *args, **kwargs)

    snapshot_module.update_snapshot_summaries = patched
    try:
        yield
    finally:
        snapshot_module.update_snapshot_summaries = original


def compact_with_replace(table: Table) -> None:
    """Rewrite every live file into one new file as a ``replace`` snapshot (Spark compaction)."""
    old_files = [task.file for task in table.scan().plan_files()]
    data = table.scan().to_arrow()
    with _replace_summaries_allowed(), table.transaction() as tx:
        new_files = list(_dataframe_to_data_files(tx.table_metadata, data, table.io))
        with _OverwriteFiles(Operation.REPLACE, tx, table.io) as rewrite:
            for data_file in old_files:
                rewrite.delete_data_file(data_file)
            for data_file in new_files:
                rewrite.append_data_file(data_file)
