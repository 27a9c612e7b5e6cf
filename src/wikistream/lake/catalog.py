"""Open the configured Iceberg catalog and make sure every WikiStream table exists.

Default: a pyiceberg ``SqlCatalog`` on ``<data-dir>/catalog.db`` with the warehouse in
``<data-dir>/warehouse``. Any other pyiceberg catalog (``type = "rest" | "glue" | "sql"`` …) on
any warehouse (``file://``, ``s3://``) is chosen by ``[lake]`` settings alone, without code
changes (see :mod:`wikistream.lake.catalog_config`). Failures come out as
:class:`CatalogError` / :class:`CatalogUnavailableError` with every credential scrubbed.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from pyiceberg.catalog import Catalog, load_catalog
from pyiceberg.exceptions import (
    NamespaceAlreadyExistsError,
    NoSuchTableError,
    TableAlreadyExistsError,
)
from pyiceberg.table import Table

from wikistream.lake.catalog_config import (
    CATALOG_FILE,
    WAREHOUSE_DIR,
    build_catalog_properties,
    check_dependencies,
    ensure_local_warehouse,
)
from wikistream.lake.catalog_errors import catalog_errors
from wikistream.lake.redact import secret_values
from wikistream.lake.schemas import ALL_TABLES, NAMESPACES, TABLE_PROPERTIES, TableDef
from wikistream.redaction import redact_secrets_in_logs

if TYPE_CHECKING:
    from wikistream.settings import Settings

__all__ = [
    "CATALOG_FILE",
    "WAREHOUSE_DIR",
    "catalog_properties",
    "ensure_lake",
    "ensure_table",
    "open_catalog",
    "open_lake",
]


def catalog_properties(settings: Settings) -> dict[str, str]:
    """The pyiceberg properties of the configured catalog, credentials included.

    Never print them as they are: pass them through :func:`wikistream.lake.redact.redact`.
    """
    return build_catalog_properties(settings.lake, settings.data_dir)


def open_catalog(settings: Settings, *, probe: bool = True) -> Catalog:
    """Load the configured catalog; with ``probe``, also list namespaces once.

    The probe turns "the service answers but refuses our credentials" into an error here rather
    than at the first write. Raises :class:`CatalogUnavailableError` (retryable) when the catalog
    cannot be reached, :class:`CatalogError` for bad settings or rejected credentials, and
    :class:`DependencyMissingError` when the catalog kind needs an extra that is not installed.
    """
    props = catalog_properties(settings)
    check_dependencies(props)
    redact_secrets_in_logs(secret_values(props))
    name = settings.lake.catalog_name
    with catalog_errors("opening the Iceberg catalog", name, props):
        ensure_local_warehouse(props)
        with _OPENING:
            catalog = _load(name, props)
        if probe:
            catalog.list_namespaces()
    return catalog


_OPENING = threading.Lock()  # the stages of a shared worker open their catalogs together


def _load(name: str, props: dict[str, str]) -> Catalog:
    """``load_catalog``, once more when another process created the SQL catalog's tables first.

    pyiceberg's SQL catalog creates its tables on open (check, then create): two processes
    opening a new catalog together can both pass the check.
    """
    try:
        return load_catalog(name, **props)
    except Exception as exc:
        if "already exists" not in str(exc):
            raise
        return load_catalog(name, **props)


def ensure_table(catalog: Catalog, table: TableDef) -> Table:
    """Load ``table``, creating its namespace and the table itself on first use."""
    with catalog_errors(
        f"loading or creating table {table.identifier}", catalog.name, catalog.properties
    ):
        return _load_or_create(catalog, table)


def _load_or_create(catalog: Catalog, table: TableDef) -> Table:
    try:
        return catalog.load_table(table.identifier)
    except NoSuchTableError:
        pass
    _create_namespace(catalog, table.namespace)
    try:
        return catalog.create_table(
            table.identifier,
            schema=table.schema(),
            partition_spec=table.partition_spec(),
            properties={**TABLE_PROPERTIES, **table.properties},
        )
    except TableAlreadyExistsError:  # another process created it first
        return catalog.load_table(table.identifier)


def _create_namespace(catalog: Catalog, namespace: str) -> None:
    """Create ``namespace`` unless it exists, also when another process creates it meanwhile.

    pyiceberg's SQL catalog checks, then inserts: two workers starting together can both pass
    the check, and the loser gets an integrity error instead of NamespaceAlreadyExistsError.
    """
    try:
        catalog.create_namespace(namespace)
    except NamespaceAlreadyExistsError:
        return
    except Exception:
        if not catalog.namespace_exists(namespace):
            raise


def ensure_lake(catalog: Catalog) -> dict[str, Table]:
    """Create the namespaces ``bronze silver gold dq_audit`` and every table; return them."""
    with catalog_errors("creating the lake namespaces", catalog.name, catalog.properties):
        for namespace in NAMESPACES:
            _create_namespace(catalog, namespace)
    return {table.identifier: ensure_table(catalog, table) for table in ALL_TABLES}


def open_lake(settings: Settings) -> Catalog:
    """Open the configured catalog (:func:`open_catalog`) with every WikiStream table created."""
    catalog = open_catalog(settings)
    ensure_lake(catalog)
    return catalog
