"""The lake's catalog contract, run against every catalog kind the settings can select.

What the stages rely on: ensure_lake is idempotent; append + set_properties commit atomically in
one snapshot; delete + append replaces a partition in one snapshot; scans filter and project;
expiring snapshots keeps the current data; a concurrent commit is refused as a retryable
CommitConflictError; data files land in the configured warehouse.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from pyiceberg.catalog import Catalog
from pyiceberg.expressions import EqualTo, GreaterThanOrEqual

from tests.contract.catalog_backends import BACKENDS, Backend, make_backend, rows_for, wipe_catalog
from wikistream.clock import utc_now
from wikistream.errors import CommitConflictError
from wikistream.lake.catalog import ensure_lake, ensure_table, open_catalog
from wikistream.lake.catalog_errors import catalog_errors
from wikistream.lake.schemas import ALL_TABLES, NAMESPACES, SILVER

DAY_1, DAY_2 = "2026-05-01", "2026-05-02"


@pytest.fixture(params=BACKENDS)
def backend(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Backend]:
    chosen = make_backend(request.param, request, tmp_path, monkeypatch)
    yield chosen
    wipe_catalog(open_catalog(chosen.settings))


@pytest.fixture
def catalog(backend: Backend) -> Catalog:
    return open_catalog(backend.settings)


def test_ensure_lake_creates_every_table_once(backend: Backend, catalog: Catalog) -> None:
    tables = ensure_lake(catalog)
    assert {ns[0] for ns in catalog.list_namespaces()} >= set(NAMESPACES)
    assert set(tables) == {t.identifier for t in ALL_TABLES}
    silver = tables[SILVER.identifier]
    assert [f.name for f in silver.schema().fields] == SILVER.column_names
    assert silver.properties["write.parquet.compression-codec"] == "zstd"
    assert silver.location().startswith(backend.location_prefix.rstrip("/"))
    again = ensure_lake(open_catalog(backend.settings))  # a second process, same lake
    assert again[SILVER.identifier].metadata_location == silver.metadata_location


def test_append_and_set_properties_commit_as_one_snapshot(
    backend: Backend, catalog: Catalog
) -> None:
    table = ensure_table(catalog, SILVER)
    with table.transaction() as tx:
        tx.append(rows_for(SILVER, 5, event_date=DAY_1))
        tx.set_properties({"wikistream.log-position": "0:5"})
    reopened = open_catalog(backend.settings).load_table(SILVER.identifier)
    assert len(reopened.snapshots()) == 1
    assert reopened.properties["wikistream.log-position"] == "0:5"
    assert reopened.scan().to_arrow().num_rows == 5
    data_files = [task.file.file_path for task in reopened.scan().plan_files()]
    assert data_files
    assert all(path.startswith(backend.location_prefix) for path in data_files)


def test_delete_then_append_replaces_a_partition(catalog: Catalog) -> None:
    table = ensure_table(catalog, SILVER)
    table.append(rows_for(SILVER, 4, event_date=DAY_1))
    table.append(rows_for(SILVER, 3, start=100, event_date=DAY_2))
    with table.transaction() as tx:
        tx.delete(EqualTo("event_date", DAY_1))
        tx.append(rows_for(SILVER, 2, start=500, event_date=DAY_1))
    table = catalog.load_table(SILVER.identifier)
    day1 = table.scan(row_filter=EqualTo("event_date", DAY_1)).to_arrow()
    assert sorted(day1["event_id"].to_pylist()) == ["event_id-500", "event_id-501"]
    assert table.scan(row_filter=EqualTo("event_date", DAY_2)).to_arrow().num_rows == 3
    assert len(table.snapshots()) == 4  # append, append, then delete + append


def test_scan_filters_and_projects(catalog: Catalog) -> None:
    table = ensure_table(catalog, SILVER)
    table.append(rows_for(SILVER, 10, event_date=DAY_1))
    result = table.scan(
        row_filter=GreaterThanOrEqual("length_old", 7), selected_fields=("event_id", "length_old")
    ).to_arrow()
    assert result.column_names == ["event_id", "length_old"]
    assert sorted(result["length_old"].to_pylist()) == [7, 8, 9]


def test_expire_snapshots_keeps_current_data(catalog: Catalog) -> None:
    table = ensure_table(catalog, SILVER)
    for batch in range(3):
        table.append(rows_for(SILVER, 2, start=10 * batch, event_date=DAY_1))
    table = catalog.load_table(SILVER.identifier)
    current = table.current_snapshot()
    assert current is not None
    assert len(table.snapshots()) == 3
    table.maintenance.expire_snapshots().older_than(utc_now() + timedelta(seconds=1)).commit()
    table = catalog.load_table(SILVER.identifier)
    assert [s.snapshot_id for s in table.snapshots()] == [current.snapshot_id]
    assert table.scan().to_arrow().num_rows == 6


def test_concurrent_commit_is_a_retryable_conflict(catalog: Catalog) -> None:
    ensure_table(catalog, SILVER)
    first = catalog.load_table(SILVER.identifier)
    second = catalog.load_table(SILVER.identifier)  # same base snapshot as `first`
    first.append(rows_for(SILVER, 2, event_date=DAY_1))
    with (
        pytest.raises(CommitConflictError) as caught,
        catalog_errors("appending", catalog.name, catalog.properties),
    ):
        second.append(rows_for(SILVER, 3, start=10, event_date=DAY_1))
    assert caught.value.retryable
    assert "reload the table and retry" in str(caught.value)
    current = catalog.load_table(SILVER.identifier)
    assert current.scan().to_arrow().num_rows == 2  # the refused append left no trace
    assert len(current.snapshots()) == 1
