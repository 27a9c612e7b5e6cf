"""Settings of the Iceberg lake (section ``[lake]``)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PlainSerializer, SecretStr

from wikistream.lake.redact import redact


def _stringify(value: Any) -> Any:
    """pyiceberg properties are strings; accept TOML's ``true`` and ``5`` for them too."""
    if not isinstance(value, dict):
        return value
    return {key: _as_property(item) for key, item in value.items()}


def _as_property(item: Any) -> Any:
    if isinstance(item, bool):
        return "true" if item else "false"
    if isinstance(item, int | float):
        return str(item)
    return item  # anything else is validated (and refused if not a string) as usual


# JSON dumps of the settings (status pages, `--output json`) never show catalog credentials.
CatalogProperties = Annotated[
    dict[str, str],
    BeforeValidator(_stringify),
    PlainSerializer(redact, when_used="json"),
]


class S3Settings(BaseModel):
    """Object-store connection for an ``s3://`` warehouse (AWS S3, MinIO, SeaweedFS …).

    Empty fields fall back to the standard AWS settings: ``AWS_ENDPOINT_URL_S3`` /
    ``AWS_ENDPOINT_URL``, ``AWS_REGION`` / ``AWS_DEFAULT_REGION``, and the AWS credential chain
    (``AWS_ACCESS_KEY_ID`` / ``AWS_SECRET_ACCESS_KEY`` / ``AWS_SESSION_TOKEN``, profile, instance
    role), which never pass through WikiStream's settings at all.
    """

    model_config = ConfigDict(extra="forbid")

    endpoint: str = Field(default="", description="S3 endpoint URL, e.g. http://127.0.0.1:8333.")
    region: str = ""
    access_key_id: SecretStr | None = None
    secret_access_key: SecretStr | None = None
    session_token: SecretStr | None = None
    connect_timeout_s: float | None = Field(default=None, gt=0)
    request_timeout_s: float | None = Field(default=None, gt=0)


class LakeSettings(BaseModel):
    """Catalog, warehouse, commit triggers and table maintenance."""

    model_config = ConfigDict(extra="forbid")

    catalog_name: str = "wikistream"
    catalog: CatalogProperties = Field(
        default_factory=dict,
        description=(
            "pyiceberg catalog properties. Empty: a SqlCatalog on SQLite under the data dir with a "
            "local warehouse. Set type=rest/glue/sql and uri/warehouse to use another catalog."
        ),
    )
    warehouse: str = Field(
        default="",
        description=(
            "Where table files live (file:///…, s3://bucket/prefix). Shortcut for the catalog's "
            "'warehouse' property; empty: <data-dir>/warehouse for the default catalog."
        ),
    )
    s3: S3Settings = Field(default_factory=S3Settings)
    s3_tables_arn: str = Field(
        default="",
        description=(
            "ARN of an Amazon S3 Tables bucket "
            "(arn:aws:s3tables:<region>:<account>:bucket/<name>); fills in the REST catalog "
            "properties of its Iceberg endpoint, signed with SigV4."
        ),
    )
    commit_rows: int = Field(default=50_000, gt=0)
    commit_interval_s: float = Field(default=5.0, gt=0)
    maintenance_interval_s: float = Field(default=3600.0, gt=0)
    snapshot_max_age_h: float = Field(default=48.0, gt=0)
    snapshot_min_keep: int = Field(default=1, ge=1)
    snapshot_max_count: int = Field(
        default=100,
        ge=1,
        description=(
            "Keep at most this many snapshots per table (newest first) in addition to the age "
            "limit: pyiceberg's commit cost grows with the snapshot count, and 5 s commits make "
            "~17,000 snapshots a day. The bronze writer expires beyond it as it goes."
        ),
    )
    orphan_grace_h: float = Field(default=72.0, ge=0)
    audit_retention_days: int = Field(
        default=90,
        ge=0,
        description=(
            "Maintenance deletes data-quality audit rows (dq_audit.quality_results and "
            "profile_metrics) of run dates older than this many days; 0 keeps them forever."
        ),
    )
    compact_max_files: int = Field(default=4, ge=1)
    # silver/gold transformation steps (DuckDB)
    transform_threads: int = Field(
        default=1, ge=1, description="DuckDB threads used by the silver and gold steps."
    )
    transform_memory_mb: int = Field(
        default=1024, ge=64, description="DuckDB memory limit of one silver/gold step."
    )
    transform_batch_rows: int = Field(
        default=100_000,
        ge=1_000,
        description=(
            "Bronze rows one silver commit handles at most, silver rows one gold batch reads "
            "at most (gold never splits a UTC day); bounds the memory of a catch-up or rebuild."
        ),
    )
    arrow_memory_pool: Literal["jemalloc", "mimalloc", "system", "default"] = Field(
        default="jemalloc",
        description=(
            "pyarrow allocator of the lake stages (bronze, silver/gold, maintenance, dashboard). "
            "jemalloc returns freed memory to the OS (mimalloc, pyarrow's default, keeps it: "
            "~2.5x the peak RSS on a catch-up)."
        ),
    )
