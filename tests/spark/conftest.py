"""One Spark session (local[2], Iceberg JDBC catalog on a SQLite file) shared by the Spark tests."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from wikistream.settings import Settings
from wikistream.spark.config import SparkSettings

_counter = itertools.count()


@pytest.fixture(scope="session")
def spark_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Settings of the shared lake the Spark session is bound to (its catalog is fixed)."""
    return Settings(
        data_dir=tmp_path_factory.mktemp("spark-lake"),
        spark=SparkSettings(
            shuffle_partitions=2,
            driver_memory="1g",
            conf={"spark.sql.codegen.wholeStage": "false"},
        ),
    )


@pytest.fixture(scope="session")
def spark(spark_settings: Settings) -> Iterator[Any]:
    """The session-wide SparkSession (starting a JVM costs ~10 s: only once)."""
    pytest.importorskip("pyspark")
    from wikistream.spark.session import open_spark

    session = open_spark(spark_settings)
    yield session
    session.stop()


@pytest.fixture(scope="session")
def frames_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where Arrow tables handed to Spark are written (kept until the session ends)."""
    return tmp_path_factory.mktemp("spark-frames")


def to_frame(spark: Any, table: pa.Table, directory: Path) -> Any:
    """An Arrow table as a Spark DataFrame (via Parquet: no pandas needed)."""
    path = directory / f"frame-{next(_counter)}.parquet"
    pq.write_table(table, path)
    return spark.read.parquet(str(path))
