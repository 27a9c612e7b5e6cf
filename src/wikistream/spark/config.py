"""Settings of the Spark engine (section ``[spark]``)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class SparkSettings(BaseModel):
    """How ``python -m wikistream.spark`` and ``--engine spark`` build their Spark session."""

    model_config = ConfigDict(extra="forbid")

    master: str | None = Field(
        default="local[2]",
        description=(
            "Spark master URL. None/empty: leave it to spark-submit (EMR Serverless, YARN, k8s)."
        ),
    )
    app_name: str = "wikistream"
    driver_memory: str = Field(default="1g", description="spark.driver.memory (local mode).")
    shuffle_partitions: int = Field(default=4, ge=1, description="spark.sql.shuffle.partitions.")
    catalog: dict[str, str] = Field(
        default_factory=dict,
        description=(
            "Iceberg SparkCatalog properties (spark.sql.catalog.<lake.catalog_name>.<key>). "
            "Empty: derived from [lake] catalog (SQLite SqlCatalog → Iceberg JdbcCatalog on the "
            "same file; rest/glue/hive mapped key by key). Given keys replace derived ones."
        ),
    )
    iceberg_jars: Literal["auto", "provided"] = Field(
        default="auto",
        description=(
            "auto: build the Iceberg runtime jars from PyPI wheels into jars_dir on first use. "
            "provided: the cluster already has them (EMR --packages / --jars, spark.jars)."
        ),
    )
    jars_dir: Path | None = Field(
        default=None, description="Cache of built jars (default ~/.cache/wikistream/jars)."
    )
    jars: list[str] = Field(
        default_factory=list, description="Extra jars for spark.jars (e.g. a JDBC driver)."
    )
    conf: dict[str, str] = Field(
        default_factory=dict, description="Extra Spark properties, applied last."
    )
