"""Turn ``[lake]`` settings into the pyiceberg properties of one catalog, chosen by settings alone.

Precedence, lowest first: the embedded default (SqlCatalog on SQLite, warehouse under the data
dir) < ``s3_tables_arn`` < ``[lake.catalog]`` properties; ``[lake] warehouse`` and ``[lake.s3]``
fill in what the catalog properties leave unset, and the standard AWS environment variables fill
in what both leave unset. Credentials from the AWS credential chain are *not* copied into the
properties: pyarrow and boto3 read them themselves, so they never reach a dump or an error.
"""

from __future__ import annotations

import importlib.util
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit

from wikistream.errors import ConfigError, DependencyMissingError

if TYPE_CHECKING:
    from wikistream.lake.config import LakeSettings, S3Settings

CATALOG_FILE = "catalog.db"
WAREHOUSE_DIR = "warehouse"
DEFAULT_REGION = "us-east-1"  # what the AWS SDKs assume; custom endpoints ignore it

S3_SCHEMES = ("s3://", "s3a://", "s3n://")
_S3_TABLES_ARN = re.compile(
    r"^arn:(?P<partition>aws[a-z-]*):s3tables:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):"
    r"bucket/(?P<bucket>[a-z0-9][a-z0-9-]{1,61}[a-z0-9])$"
)


def default_catalog_properties(data_dir: Path) -> dict[str, str]:
    """The embedded catalog: SQLite file and local warehouse under ``data_dir``."""
    db = (data_dir / CATALOG_FILE).resolve()
    warehouse = (data_dir / WAREHOUSE_DIR).resolve()
    return {"type": "sql", "uri": f"sqlite:///{db}", "warehouse": warehouse.as_uri()}


def s3_tables_properties(arn: str) -> dict[str, str]:
    """REST properties of the Iceberg endpoint of the S3 Tables bucket ``arn`` (SigV4-signed)."""
    match = _S3_TABLES_ARN.match(arn.strip())
    if match is None:
        raise ConfigError(
            f"lake.s3_tables_arn {arn!r} is not an S3 Tables bucket ARN; expected "
            "arn:aws:s3tables:<region>:<12-digit account>:bucket/<bucket-name>",
            key="lake.s3_tables_arn",
        )
    region = match["region"]
    domain = "amazonaws.com.cn" if match["partition"] == "aws-cn" else "amazonaws.com"
    return {
        "type": "rest",
        "uri": f"https://s3tables.{region}.{domain}/iceberg",
        "warehouse": arn.strip(),
        "rest.sigv4-enabled": "true",
        "rest.signing-name": "s3tables",
        "rest.signing-region": region,
        "client.region": region,
        "s3.region": region,  # table data lives in the bucket's region: no lookup needed
    }


def uses_s3(props: Mapping[str, str]) -> bool:
    """Whether table files may live on S3: an s3:// warehouse, or a REST/Glue catalog."""
    warehouse = props.get("warehouse", "")
    return warehouse.startswith(S3_SCHEMES) or props.get("type") in {"rest", "glue"}


def sigv4_enabled(props: Mapping[str, str]) -> bool:
    """Whether REST requests are signed with AWS SigV4 (S3 Tables, SeaweedFS, API Gateway)."""
    return props.get("rest.sigv4-enabled", "").strip().lower() in {"true", "1", "yes"}


def _env_first(env: Mapping[str, str], *names: str) -> str:
    return next((env[n] for n in names if env.get(n)), "")


def _s3_properties(
    s3: S3Settings, props: Mapping[str, str], env: Mapping[str, str]
) -> dict[str, str]:
    """``s3.*`` / ``client.*`` properties from ``[lake.s3]`` and the AWS environment variables."""
    out: dict[str, str] = {}
    endpoint = s3.endpoint or _env_first(env, "AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL")
    region = s3.region or _env_first(env, "AWS_REGION", "AWS_DEFAULT_REGION")
    if endpoint:
        out["s3.endpoint"] = endpoint
        # Without a region pyiceberg asks AWS where the bucket lives, which a private endpoint
        # cannot answer; any region works for SeaweedFS/MinIO.
        region = region or DEFAULT_REGION
    if region:
        out["s3.region"] = region
    credentials = {
        "access-key-id": s3.access_key_id,
        "secret-access-key": s3.secret_access_key,
        "session-token": s3.session_token,
    }
    signed_by_boto = sigv4_enabled(props) or props.get("type") == "glue"
    for name, secret in credentials.items():
        if secret is not None and secret.get_secret_value():
            out[f"s3.{name}"] = secret.get_secret_value()
            if signed_by_boto:  # pyiceberg's SigV4 adapter and Glue client read client.*
                out[f"client.{name}"] = secret.get_secret_value()
    if signed_by_boto and region:
        out["client.region"] = region
    if sigv4_enabled(props) and region:
        out["rest.signing-region"] = region
    if props.get("type") == "glue" and region:
        out["glue.region"] = region
    if s3.connect_timeout_s is not None:
        out["s3.connect-timeout"] = str(s3.connect_timeout_s)
    if s3.request_timeout_s is not None:
        out["s3.request-timeout"] = str(s3.request_timeout_s)
    return out


def build_catalog_properties(
    lake: LakeSettings, data_dir: Path, env: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The pyiceberg properties of the configured catalog (defaults and shortcuts applied)."""
    env = os.environ if env is None else env
    explicit = dict(lake.catalog)
    if lake.s3_tables_arn:
        if explicit.get("type", "rest") != "rest":
            raise ConfigError(
                f"lake.s3_tables_arn is set but lake.catalog.type is {explicit['type']!r}; "
                "S3 Tables is a REST catalog: remove one of the two settings",
                key="lake.s3_tables_arn",
            )
        props = {**s3_tables_properties(lake.s3_tables_arn), **explicit}
    elif "type" in explicit or "uri" in explicit:
        props = explicit
    else:  # only extra properties given: they refine the embedded catalog
        props = {**default_catalog_properties(data_dir), **explicit}
    if lake.warehouse:
        given = explicit.get("warehouse")
        if given is not None and given != lake.warehouse:
            raise ConfigError(
                f"lake.warehouse ({lake.warehouse!r}) and lake.catalog.warehouse ({given!r}) "
                "disagree; set only one of them",
                key="lake.warehouse",
            )
        props["warehouse"] = lake.warehouse
    if uses_s3(props) or lake.s3.endpoint:
        for key, value in _s3_properties(lake.s3, props, env).items():
            props.setdefault(key, value)  # explicit catalog properties win
    return props


def ensure_local_warehouse(props: Mapping[str, str]) -> None:
    """Create a ``file://`` warehouse directory and the folder of a SQLite catalog file."""
    warehouse = props.get("warehouse", "")
    if warehouse.startswith("file://"):
        Path(unquote(urlsplit(warehouse).path)).mkdir(parents=True, exist_ok=True)
    uri = props.get("uri", "")
    if uri.startswith("sqlite:///") and uri != "sqlite:///:memory:":
        Path(uri.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)


def _sql_driver(uri: str) -> tuple[str, str] | None:
    """(module, feature) of the database driver a SQLAlchemy URI needs, if not built in."""
    scheme = uri.split("://", 1)[0].lower()
    if scheme in {"postgresql", "postgresql+psycopg2", "postgres"}:
        return "psycopg2", "PostgreSQL SQL catalog"
    if scheme == "postgresql+psycopg":
        return "psycopg", "PostgreSQL SQL catalog"
    return None


def check_dependencies(props: Mapping[str, str]) -> None:
    """Raise :class:`DependencyMissingError` when the catalog needs a module that is missing."""
    needs: list[tuple[str, str, str]] = []  # (feature, extra, module)
    kind = props.get("type", "")
    if kind == "glue":
        needs.append(("the AWS Glue catalog", "aws", "boto3"))
    if kind == "rest" and sigv4_enabled(props):
        needs.append(("a SigV4-signed REST catalog (S3 Tables)", "aws", "boto3"))
    if kind == "sql" and (driver := _sql_driver(props.get("uri", ""))):
        needs.append((f"the {driver[1]}", "postgres", driver[0]))
    for feature, extra, module in needs:
        if importlib.util.find_spec(module) is None:
            raise DependencyMissingError(feature, extra, module)
