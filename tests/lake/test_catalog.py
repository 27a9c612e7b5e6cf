from __future__ import annotations

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
