"""Build a Spark session that reads and writes the WikiStream lake through an Iceberg catalog.

The Iceberg ``SparkCatalog`` is registered under ``[lake] catalog_name`` and its properties are
derived from ``[lake] catalog`` (the pyiceberg properties), so Spark sees the same tables:

* default (SQLite ``SqlCatalog`` under the data dir) → Iceberg ``JdbcCatalog`` on the same file
  (both use the same ``iceberg_tables`` schema), needing the SQLite JDBC driver;
* ``type = "sql"`` on PostgreSQL → ``JdbcCatalog`` with a ``jdbc:postgresql://`` URL;
* ``rest`` / ``glue`` / ``hive`` → the same type, keys copied (``glue.region`` → ``client.region``);
* ``[spark] catalog`` replaces any derived key (e.g. S3 Tables' ``catalog-impl``).

The session time zone is pinned to UTC (JVM and SQL), unlike the seed (weakness 4).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

from wikistream.errors import ConfigError, DependencyMissingError
from wikistream.lake.catalog import catalog_properties, open_catalog
from wikistream.lake.redact import redact
from wikistream.spark.jars import ensure_iceberg_jars, sqlite_jdbc_jar

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

    from wikistream.settings import Settings

SPARK_CATALOG = "org.apache.iceberg.spark.SparkCatalog"
EXTENSIONS = "org.apache.iceberg.spark.extensions.IcebergSparkSessionExtensions"
# pyiceberg-only properties that mean nothing (or something else) to the Java catalog
PYICEBERG_ONLY = frozenset({"type", "uri", "py-io-impl", "downcast-ns-timestamp-to-us-on-write"})
RENAMED = {"glue.region": "client.region"}  # pyiceberg name → Iceberg Java name


def spark_catalog_properties(settings: Settings) -> dict[str, str]:
    """The Iceberg SparkCatalog properties (without the ``spark.sql.catalog.<name>.`` prefix)."""
    props = catalog_properties(settings)
    kind = props.get("type", "sql")
    # other processes (the laptop steps, pyiceberg) commit too: never serve a cached snapshot
    derived: dict[str, str] = {"cache-enabled": "false"}
    if kind == "sql":
        derived.update(_jdbc(props.get("uri", "")))
    elif kind in ("rest", "glue", "hive"):
        derived["type"] = kind
        if "uri" in props:
            derived["uri"] = props["uri"]
    elif not settings.spark.catalog:
        raise ConfigError(
            f"[lake] catalog type {kind!r} has no Spark equivalent; set [spark] catalog "
            'properties (e.g. type = "hadoop" and warehouse) for the Spark engine',
            key="spark.catalog",
        )
    for key, value in props.items():
        if key not in PYICEBERG_ONLY:
            derived[RENAMED.get(key, key)] = value
    derived.update(settings.spark.catalog)
    return derived


def _jdbc(uri: str) -> dict[str, str]:
    """Map a SQLAlchemy URL (pyiceberg SqlCatalog) to Iceberg JdbcCatalog properties."""
    parts = urlsplit(uri)
    scheme = parts.scheme.split("+", 1)[0]
    if scheme == "sqlite":
        path = unquote(uri.split(":///", 1)[1]) if ":///" in uri else ""
        if not path or path == ":memory:":
            raise ConfigError(
                f"the Spark engine cannot share an in-memory SQLite catalog ({uri!r}); use a file",
                key="lake.catalog.uri",
            )
        # SQLite has one writer: one pooled connection, and wait for the laptop side's commits.
        # Iceberg's own table initialisation leaves a metadata cursor open, which keeps a SQLite
        # read lock for the JVM's lifetime and blocks every other writer: open_spark creates the
        # (identical) tables through pyiceberg instead.
        return {
            "type": "jdbc",
            "uri": f"jdbc:sqlite:{path}",
            "clients": "1",
            "jdbc.busy_timeout": "30000",
            "jdbc.init-catalog-tables": "false",
        }
    if scheme in ("postgresql", "postgres"):
        props = {"type": "jdbc", "uri": f"jdbc:postgresql://{parts.hostname}"}
        if parts.port:
            props["uri"] += f":{parts.port}"
        props["uri"] += parts.path
        if parts.username:
            props["jdbc.user"] = unquote(parts.username)
        if parts.password:
            props["jdbc.password"] = unquote(parts.password)
        return props
    raise ConfigError(
        f"cannot map SQL catalog URL scheme {parts.scheme!r} to a JDBC catalog for Spark; set "
        '[spark] catalog properties (type = "jdbc", uri = "jdbc:...")',
        key="lake.catalog.uri",
    )


def spark_conf(settings: Settings) -> dict[str, str]:
    """Every Spark property the session gets (secrets included: never log it, see redact_conf)."""
    spark = settings.spark
    name = settings.lake.catalog_name
    catalog = spark_catalog_properties(settings)
    conf: dict[str, str] = {
        "spark.app.name": spark.app_name,
        "spark.sql.session.timeZone": "UTC",
        "spark.driver.extraJavaOptions": "-Duser.timezone=UTC",
        "spark.executor.extraJavaOptions": "-Duser.timezone=UTC",
        "spark.sql.extensions": EXTENSIONS,
        "spark.sql.defaultCatalog": name,
        f"spark.sql.catalog.{name}": SPARK_CATALOG,
        "spark.sql.shuffle.partitions": str(spark.shuffle_partitions),
    }
    conf.update({f"spark.sql.catalog.{name}.{k}": v for k, v in catalog.items()})
    if spark.master:
        conf["spark.master"] = spark.master
        if spark.master.startswith("local"):
            conf.update(
                {
                    "spark.driver.memory": spark.driver_memory,
                    "spark.driver.host": "127.0.0.1",
                    "spark.driver.bindAddress": "127.0.0.1",
                    "spark.ui.enabled": "false",
                    "spark.default.parallelism": str(spark.shuffle_partitions),
                }
            )
    jars = [str(p) for p in _jars(settings, catalog)]
    if jars:
        conf["spark.jars"] = ",".join(jars)
    conf.update(spark.conf)
    return conf


def _jars(settings: Settings, catalog: Mapping[str, str]) -> list[Any]:
    spark = settings.spark
    jars: list[Any] = []
    if spark.iceberg_jars == "auto":
        jars.extend(ensure_iceberg_jars(spark.jars_dir).paths)
    if catalog.get("uri", "").startswith("jdbc:sqlite:") and not _mentions_sqlite(spark.jars):
        driver = sqlite_jdbc_jar()
        if driver is None:
            raise ConfigError(
                "the Spark engine reads the local SQLite catalog through JDBC, but no SQLite JDBC "
                "driver is installed; run `apt-get install libxerial-sqlite-jdbc-java` or add "
                "the sqlite-jdbc jar to [spark] jars",
                key="spark.jars",
            )
        jars.append(driver)
    jars.extend(spark.jars)
    return jars


def _mentions_sqlite(jars: list[str]) -> bool:
    return any("sqlite" in jar.lower() for jar in jars)


def redact_conf(conf: Mapping[str, str]) -> dict[str, str]:
    """``conf`` with credentials (keys and URI passwords) masked, for logs and output."""
    return redact(conf)


def open_spark(settings: Settings) -> SparkSession:
    """Start (or join) the Spark session for ``settings``; raise if pyspark is missing."""
    try:
        from pyspark.sql import SparkSession
    except ImportError as exc:
        raise DependencyMissingError("the Spark engine", "spark", "pyspark") from exc
    conf = spark_conf(settings)
    if conf.get(f"spark.sql.catalog.{settings.lake.catalog_name}.uri", "").startswith(
        "jdbc:sqlite:"
    ):
        open_catalog(settings)  # creates the catalog tables the JdbcCatalog is told not to
    builder: Any = SparkSession.builder
    for key, value in conf.items():
        builder = builder.config(key, value)
    session: SparkSession = builder.getOrCreate()
    session.sparkContext.setLogLevel("WARN")
    return session


def running_spark() -> SparkSession | None:
    """The active Spark session of this process, if any (a notebook's, a test's)."""
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        return None
    return SparkSession.getActiveSession()
