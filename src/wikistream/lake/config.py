"""Settings of the Iceberg lake (section ``[lake]``)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class LakeSettings(BaseModel):
    """Catalog, warehouse, commit triggers and table maintenance."""

    model_config = ConfigDict(extra="forbid")

    catalog_name: str = "wikistream"
    catalog: dict[str, str] = Field(
        default_factory=dict,
        description=(
            "pyiceberg catalog properties. Empty: a SqlCatalog on SQLite under the data dir with a "
            "local warehouse. Set type=rest/glue/sql and uri/warehouse to use another catalog."
        ),
    )
    commit_rows: int = Field(default=50_000, gt=0)
    commit_interval_s: float = Field(default=5.0, gt=0)
    maintenance_interval_s: float = Field(default=3600.0, gt=0)
    snapshot_max_age_h: float = Field(default=48.0, gt=0)
    snapshot_min_keep: int = Field(default=1, ge=1)
    orphan_grace_h: float = Field(default=72.0, ge=0)
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
            "pyarrow allocator used by the silver/gold steps. jemalloc returns freed memory to "
            "the OS (mimalloc, pyarrow's default, keeps it: ~2.5x the peak RSS on a catch-up)."
        ),
    )
