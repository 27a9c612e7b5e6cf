"""Check that the configured catalog answers and its warehouse accepts writes, without a secret."""

from __future__ import annotations

import time
import uuid
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from pyiceberg.io import load_file_io

from wikistream.errors import WikiStreamError
from wikistream.lake.catalog import catalog_properties, open_catalog
from wikistream.lake.catalog_errors import catalog_errors
from wikistream.lake.redact import redact_uri

if TYPE_CHECKING:
    from pyiceberg.catalog import Catalog

    from wikistream.settings import Settings

PROBE_DIR = "_wikistream_probe"
# Warehouses that are plain object-store or file paths; others (an S3 Tables ARN, a SeaweedFS
# table-bucket name) are managed by the catalog and take no foreign objects.
PROBED_SCHEMES = ("file://", "s3://", "s3a://", "gs://", "abfs://", "abfss://", "hdfs://")


@dataclass
class CatalogHealth:
    """What `wikistream catalog check` reports; ``ok`` is False on any failure."""

    catalog: str
    type: str
    uri: str
    warehouse: str
    ok: bool = False
    namespaces: int | None = None
    tables: int | None = None
    warehouse_writable: bool | None = None
    latency_ms: float | None = None
    error: str | None = None
    retryable: bool | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def probe_warehouse(catalog: Catalog, warehouse: str) -> bool | None:
    """Write, read back and delete a small object under ``warehouse``; None when not probed."""
    if not warehouse.startswith(PROBED_SCHEMES):
        return None
    io = load_file_io(catalog.properties, warehouse)
    path = f"{warehouse.rstrip('/')}/{PROBE_DIR}/{uuid.uuid4().hex}.txt"
    payload = b"wikistream warehouse probe\n"
    with catalog_errors(
        f"writing a probe object to {redact_uri(path)}", catalog.name, catalog.properties
    ):
        with io.new_output(path).create(overwrite=True) as out:
            out.write(payload)
        with io.new_input(path).open() as handle:
            ok = handle.read() == payload
        io.delete(path)
    return ok


def check_catalog(settings: Settings) -> CatalogHealth:
    """Open the catalog, count namespaces and tables, probe the warehouse; never raises ours."""
    props = catalog_properties(settings)
    health = CatalogHealth(
        catalog=settings.lake.catalog_name,
        type=props.get("type", "?"),
        uri=redact_uri(props.get("uri", "")),
        warehouse=redact_uri(props.get("warehouse", "")),
    )
    started = time.perf_counter()
    try:
        catalog = open_catalog(settings)
        with catalog_errors("listing namespaces and tables", catalog.name, catalog.properties):
            namespaces = catalog.list_namespaces()
            health.namespaces = len(namespaces)
            health.tables = sum(len(catalog.list_tables(ns)) for ns in namespaces)
        health.latency_ms = round((time.perf_counter() - started) * 1000, 1)
        health.warehouse_writable = probe_warehouse(catalog, props.get("warehouse", ""))
    except WikiStreamError as exc:
        health.error = str(exc)
        health.retryable = exc.retryable
        return health
    health.ok = health.warehouse_writable is not False
    return health
