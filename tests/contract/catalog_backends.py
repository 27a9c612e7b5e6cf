"""Catalog backends for the catalog contract, each configured through settings alone.

- sqlite:      SqlCatalog on SQLite (the default), file:// warehouse under the data dir
- postgres-s3: SqlCatalog on PostgreSQL, s3:// warehouse on SeaweedFS, keys from [lake.s3]
- rest-s3:     SeaweedFS Iceberg REST signed with SigV4 (as S3 Tables), keys from AWS_* env
- glue-s3:     AWS Glue and S3 from moto's server, keys in [lake.catalog] properties
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from pyiceberg.catalog import Catalog

from tests.services.moto_aws import MotoAws
from tests.services.postgres import PostgresServer
from tests.services.seaweed import SeaweedServer
from wikistream.lake.schemas import TableDef
from wikistream.settings import Settings, load_settings

BACKENDS = (
    "sqlite",
    pytest.param("postgres-s3", marks=pytest.mark.integration),
    pytest.param("rest-s3", marks=pytest.mark.integration),
    pytest.param("glue-s3", marks=pytest.mark.integration),
)


@dataclass
class Backend:
    """Settings that select one catalog kind, and where its data files must land."""

    name: str
    settings: Settings
    location_prefix: str  # every data file path starts with this
    secrets: tuple[str, ...]  # values that must never be printed


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[-40:]


def make_backend(
    name: str,
    request: pytest.FixtureRequest,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Backend:
    """Build the settings of backend ``name``, starting the services it needs (session-scoped)."""
    data_dir = tmp_path / "data"
    unique = _slug(request.node.name)
    if name == "sqlite":
        settings = load_settings(overrides={"data_dir": data_dir})
        return Backend(name, settings, (data_dir / "warehouse").resolve().as_uri(), ())
    if name == "postgres-s3":
        pg: PostgresServer = request.getfixturevalue("postgres")
        weed: SeaweedServer = request.getfixturevalue("seaweed")
        uri = pg.create_database(f"cat_{unique.replace('-', '_')}")
        warehouse = f"s3://{weed.data_bucket}/{unique}"
        lake: dict[str, Any] = {
            "catalog": {"type": "sql", "uri": uri},
            "warehouse": warehouse,
            "s3": {
                "endpoint": weed.s3_endpoint,
                "region": weed.region,
                "access_key_id": weed.access_key,
                "secret_access_key": weed.secret_key,
            },
        }
        settings = load_settings(overrides={"data_dir": data_dir, "lake": lake})
        return Backend(name, settings, warehouse, (weed.secret_key, weed.access_key, pg.password))
    if name == "rest-s3":
        weed = request.getfixturevalue("seaweed")
        for key, value in weed.env().items():
            monkeypatch.setenv(key, value)
        lake = {
            "catalog": {
                "type": "rest",
                "uri": weed.rest_uri,
                "rest.sigv4-enabled": "true",
                "rest.signing-name": "s3tables",
            }
        }
        settings = load_settings(overrides={"data_dir": data_dir, "lake": lake})
        secrets = (weed.secret_key, weed.access_key)
        return Backend(name, settings, f"s3://{weed.table_bucket}/", secrets)
    if name == "glue-s3":
        aws: MotoAws = request.getfixturevalue("moto_aws")
        props = aws.glue_catalog_properties(unique)
        settings = load_settings(overrides={"data_dir": data_dir, "lake": {"catalog": props}})
        secrets = (props["s3.secret-access-key"], props["s3.access-key-id"])
        return Backend(name, settings, props["warehouse"], secrets)
    raise ValueError(name)


def wipe_catalog(catalog: Catalog) -> None:
    """Drop every table and namespace (shared servers outlive one test; files may stay)."""
    for (namespace,) in catalog.list_namespaces():
        for identifier in catalog.list_tables(namespace):
            with contextlib.suppress(Exception):
                catalog.drop_table(identifier)
        with contextlib.suppress(Exception):
            catalog.drop_namespace(namespace)


_VALUES = {
    "string": lambda name, i: f"{name}-{i}",
    "int": lambda name, i: i,
    "long": lambda name, i: 1_000_000 + i,
    "double": lambda name, i: i / 4,
    "boolean": lambda name, i: i % 2 == 0,
    "timestamptz": lambda name, i: datetime(2026, 5, 1, tzinfo=UTC) + timedelta(minutes=i),
}


def rows_for(table: TableDef, count: int, start: int = 0, **fixed: Any) -> pa.Table:
    """``count`` rows matching ``table``'s schema: generated values, ``fixed`` columns constant."""
    schema = table.schema().as_arrow()
    columns = {}
    for field in schema:
        kind = str(table.schema().find_field(field.name).field_type)
        make = _VALUES[kind]
        if field.name in fixed:
            values = [fixed[field.name]] * count
        else:
            values = [make(field.name, start + i) for i in range(count)]
        columns[field.name] = pa.array(values, type=field.type)
    return pa.table(columns, schema=schema)


@contextlib.contextmanager
def no_secret_in(capsys: pytest.CaptureFixture[str], secrets: tuple[str, ...]) -> Iterator[None]:
    """Fail if any of ``secrets`` was printed inside the block."""
    yield
    out, err = capsys.readouterr()
    for secret in secrets:
        assert secret not in out + err
