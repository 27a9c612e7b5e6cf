"""Open the configured Iceberg catalog and make sure every WikiStream table exists.

Default: a pyiceberg ``SqlCatalog`` on ``<data-dir>/catalog.db`` with the warehouse in
``<data-dir>/warehouse``. Any other pyiceberg catalog (``type = "rest" | "glue" | "sql"`` …) is
chosen by ``[lake] catalog`` properties alone, without code changes.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING

from pyiceberg.catalog import Catalog, load_catalog
from pyiceberg.exceptions import (
    NamespaceAlreadyExistsError,
    NoSuchTableError,
    TableAlreadyExistsError,
)
from pyiceberg.table import Table

from wikistream.errors import CatalogError
from wikistream.lake.schemas import ALL_TABLES, NAMESPACES, TABLE_PROPERTIES, TableDef

if TYPE_CHECKING:
    from wikistream.settings import Settings

CATALOG_FILE = "catalog.db"
WAREHOUSE_DIR = "warehouse"


def catalog_properties(settings: Settings) -> dict[str, str]:
    """The pyiceberg properties of the configured catalog (defaults filled in)."""
    props = dict(settings.lake.catalog)
    if not props:
        db = settings.path(CATALOG_FILE).resolve()
        warehouse = settings.path(WAREHOUSE_DIR).resolve()
        warehouse.mkdir(parents=True, exist_ok=True)
        props = {"type": "sql", "uri": f"sqlite:///{db}", "warehouse": warehouse.as_uri()}
    return props


def open_catalog(settings: Settings) -> Catalog:
    """Load the catalog; raise :class:`CatalogError` with the reason when it cannot be reached."""
    props = catalog_properties(settings)
    try:
        return load_catalog(settings.lake.catalog_name, **props)
    except Exception as exc:  # pyiceberg raises many unrelated types here
        raise CatalogError(
            f"cannot open Iceberg catalog {settings.lake.catalog_name!r} "
            f"(type={props.get('type', '?')}): {exc}; check the [lake] catalog settings"
        ) from exc


def ensure_table(catalog: Catalog, table: TableDef) -> Table:
    """Load ``table``, creating its namespace and the table itself on first use."""
    try:
        return catalog.load_table(table.identifier)
    except NoSuchTableError:
        pass
    with contextlib.suppress(NamespaceAlreadyExistsError):
        catalog.create_namespace(table.namespace)
    try:
        return catalog.create_table(
            table.identifier,
            schema=table.schema(),
            partition_spec=table.partition_spec(),
            properties={**TABLE_PROPERTIES, **table.properties},
        )
    except TableAlreadyExistsError:  # another process created it first
        return catalog.load_table(table.identifier)


def ensure_lake(catalog: Catalog) -> dict[str, Table]:
    """Create the namespaces ``bronze silver gold dq_audit`` and every table; return them."""
    for namespace in NAMESPACES:
        with contextlib.suppress(NamespaceAlreadyExistsError):
            catalog.create_namespace(namespace)
    return {table.identifier: ensure_table(catalog, table) for table in ALL_TABLES}
