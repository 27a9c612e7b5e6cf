"""The Spark session's configuration: catalog mapping, UTC, jars, secrets (no JVM started)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from wikistream.errors import ConfigError, DependencyMissingError
from wikistream.lake.config import LakeSettings
from wikistream.settings import Settings
from wikistream.spark.config import SparkSettings
from wikistream.spark.session import open_spark, redact_conf, spark_catalog_properties, spark_conf


def make(tmp_path: Path, lake_catalog: dict[str, str] | None = None, **spark: object) -> Settings:
    return Settings(
        data_dir=tmp_path / "data",
        lake=LakeSettings(catalog=lake_catalog or {}),
        spark=SparkSettings(iceberg_jars="provided", **spark),  # type: ignore[arg-type]
    )


def test_default_catalog_is_the_same_sqlite_file_through_jdbc(tmp_path: Path) -> None:
    settings = make(tmp_path)
    props = spark_catalog_properties(settings)
    db = (tmp_path / "data" / "catalog.db").resolve()
    assert props["type"] == "jdbc"
    assert props["uri"] == f"jdbc:sqlite:{db}"
    assert props["warehouse"] == (tmp_path / "data" / "warehouse").resolve().as_uri()
    assert props["cache-enabled"] == "false"  # pyiceberg commits too: never a stale snapshot
    assert props["jdbc.init-catalog-tables"] == "false"  # see test_spark_leaves_sqlite_unlocked


def test_session_is_pinned_to_utc_and_bound_to_the_lake_catalog(tmp_path: Path) -> None:
    conf = spark_conf(make(tmp_path))
    assert conf["spark.sql.session.timeZone"] == "UTC"
    assert "-Duser.timezone=UTC" in conf["spark.driver.extraJavaOptions"]
    assert conf["spark.sql.catalog.wikistream"] == "org.apache.iceberg.spark.SparkCatalog"
    assert conf["spark.sql.defaultCatalog"] == "wikistream"
    assert conf["spark.master"] == "local[2]"
    assert conf["spark.driver.bindAddress"] == "127.0.0.1"
    assert "sqlite" in conf["spark.jars"]  # the JDBC driver of the local catalog


def test_cluster_mode_leaves_master_and_driver_memory_to_spark_submit(tmp_path: Path) -> None:
    conf = spark_conf(make(tmp_path, master=None))
    assert "spark.master" not in conf
    assert "spark.driver.memory" not in conf


def test_rest_catalog_keys_are_copied_and_secrets_redacted(tmp_path: Path) -> None:
    settings = make(
        tmp_path,
        {
            "type": "rest",
            "uri": "https://catalog.example/api",
            "warehouse": "s3://bucket/wh",
            "credential": "id:very-secret",
            "s3.secret-access-key": "also-secret",
            "py-io-impl": "pyiceberg.io.fsspec.FsspecFileIO",
        },
    )
    conf = spark_conf(settings)
    prefix = "spark.sql.catalog.wikistream."
    assert conf[prefix + "type"] == "rest"
    assert conf[prefix + "uri"] == "https://catalog.example/api"
    assert conf[prefix + "credential"] == "id:very-secret"
    assert prefix + "py-io-impl" not in conf
    shown = redact_conf(conf)
    assert "very-secret" not in str(shown)
    assert "also-secret" not in str(shown)
    assert shown[prefix + "warehouse"] == "s3://bucket/wh"


def test_glue_region_gets_the_java_name(tmp_path: Path) -> None:
    props = spark_catalog_properties(
        make(tmp_path, {"type": "glue", "glue.region": "eu-west-1", "warehouse": "s3://b/w"})
    )
    assert props["type"] == "glue"
    assert props["client.region"] == "eu-west-1"
    assert "glue.region" not in props


def test_postgres_sql_catalog_maps_to_a_jdbc_url(tmp_path: Path) -> None:
    props = spark_catalog_properties(
        make(tmp_path, {"type": "sql", "uri": "postgresql+psycopg2://ws:pw@db.local:5433/lake"})
    )
    assert props["uri"] == "jdbc:postgresql://db.local:5433/lake"
    assert (props["jdbc.user"], props["jdbc.password"]) == ("ws", "pw")


def test_spark_catalog_settings_replace_derived_keys(tmp_path: Path) -> None:
    settings = make(
        tmp_path,
        {"type": "in-memory"},
        catalog={"type": "hadoop", "warehouse": "/tmp/wh"},
    )
    props = spark_catalog_properties(settings)
    assert (props["type"], props["warehouse"]) == ("hadoop", "/tmp/wh")


@pytest.mark.parametrize(
    ("catalog", "key"),
    [
        ({"type": "in-memory"}, "spark.catalog"),
        ({"type": "sql", "uri": "sqlite:///:memory:"}, "lake.catalog.uri"),
        ({"type": "sql", "uri": "mysql://h/db"}, "lake.catalog.uri"),
    ],
)
def test_unmappable_catalogs_name_the_setting_to_change(
    tmp_path: Path, catalog: dict[str, str], key: str
) -> None:
    with pytest.raises(ConfigError) as info:
        spark_catalog_properties(make(tmp_path, catalog))
    assert info.value.key == key


def test_missing_sqlite_driver_says_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("wikistream.spark.session.sqlite_jdbc_jar", lambda: None)
    with pytest.raises(ConfigError, match="libxerial-sqlite-jdbc-java"):
        spark_conf(make(tmp_path))


def test_missing_pyspark_names_the_extra(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pyspark.sql", None)
    with pytest.raises(DependencyMissingError) as info:
        open_spark(make(tmp_path))
    assert info.value.extra == "spark"
    assert "wikistream[spark]" in str(info.value)
