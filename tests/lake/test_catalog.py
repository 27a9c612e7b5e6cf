from __future__ import annotations

import pytest

from wikistream.lake.catalog import ensure_lake, open_catalog, open_lake
from wikistream.lake.schemas import ALL_TABLES, BRONZE
from wikistream.settings import Settings


def test_first_run_creates_namespaces_and_tables(settings: Settings) -> None:
    catalog = open_catalog(settings)
    tables = ensure_lake(catalog)
    assert {ns[0] for ns in catalog.list_namespaces()} >= {"bronze", "silver", "gold", "dq_audit"}
    assert set(tables) == {t.identifier for t in ALL_TABLES}
    bronze = tables[BRONZE.identifier]
    assert [f.name for f in bronze.schema().fields] == BRONZE.column_names
    assert str(bronze.spec().fields[0].transform) == "day"
    assert bronze.properties["write.parquet.compression-codec"] == "zstd"
    # idempotent: a second run loads the same tables
    again = ensure_lake(open_catalog(settings))
    assert again[BRONZE.identifier].metadata_location == bronze.metadata_location
    assert (settings.data_dir / "catalog.db").exists()


def test_open_lake_gives_a_catalog_with_every_table(settings: Settings) -> None:
    catalog = open_lake(settings)
    assert {".".join(t) for ns in ("bronze", "silver", "gold", "dq_audit")
            for t in catalog.list_tables(ns)} == {t.identifier for t in ALL_TABLES}  # fmt: skip


def test_a_namespace_another_process_creates_meanwhile_is_no_error(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Workers starting together race on the SQL catalog, which checks and then inserts."""
    mine, theirs = open_catalog(settings), open_catalog(settings)
    real = mine.namespace_exists
    checks: list[object] = []

    def checked_before_theirs_inserted(namespace: str | tuple[str, ...]) -> bool:
        checks.append(namespace)
        if len(checks) == 1:
            theirs.create_namespace("bronze")  # the other worker wins the race right now
            return False
        return real(namespace)

    monkeypatch.setattr(mine, "namespace_exists", checked_before_theirs_inserted)
    tables = ensure_lake(mine)
    assert set(tables) == {t.identifier for t in ALL_TABLES}
    assert ("bronze",) in theirs.list_namespaces()
