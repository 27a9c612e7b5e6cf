"""Run the SQL models in ``lake/sql/*.sql`` on DuckDB over Arrow tables.

The models are written in a subset of SQL that Spark SQL also runs: ``CAST`` instead of ``::``,
``regexp_like`` (Spark built-in; a DuckDB macro here), ``TRANSLATE``/``CHR`` instead of
dialect-specific regex replaces, explicit ``NULLS LAST``, no quoted identifiers. Inputs are views
named by the runner; parameters are ``{name}`` placeholders filled by :func:`render_model`.
"""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import Mapping
from importlib import resources
from typing import TYPE_CHECKING

import duckdb
import pyarrow as pa

from wikistream.errors import LakeError

if TYPE_CHECKING:
    from wikistream.settings import Settings

log = logging.getLogger(__name__)

_PLACEHOLDER = re.compile(r"\{([a-z_][a-z0-9_]*)\}")

DUCKDB_PRELUDE = (
    # Spark's regexp_like(str, regexp): true when the regex matches anywhere in str.
    "CREATE OR REPLACE MACRO regexp_like(s, p) AS regexp_matches(s, p)",
)


def read_model(name: str) -> str:
    """The text of ``lake/sql/<name>.sql``."""
    path = resources.files("wikistream.lake").joinpath("sql", f"{name}.sql")
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise LakeError(
            f"SQL model {name!r} not found at {path}; the wikistream package is incomplete — "
            "reinstall it"
        ) from exc


def render_model(name: str, params: Mapping[str, str] | None = None) -> str:
    """Return model ``name`` with every ``{placeholder}`` replaced; a missing one is an error."""
    values = dict(params or {})
    text = read_model(name)

    def substitute(match: re.Match[str]) -> str:
        key = match.group(1)
        if key not in values:
            raise LakeError(f"SQL model {name!r} needs parameter {{{key}}}, which was not given")
        return values[key]

    return _PLACEHOLDER.sub(substitute, text)


def sql_string(value: str) -> str:
    """Quote ``value`` as a SQL string literal valid in DuckDB and Spark SQL."""
    if "\\" in value:
        raise ValueError(f"backslashes are not portable in SQL literals: {value!r}")
    return "'" + value.replace("'", "''") + "'"


JEMALLOC_DECAY_MS = 100
"""How long jemalloc keeps freed pages before returning them (its default, 1 s, spans several
steps of a catch-up: measured 1 M-event silver+gold peak 410 MiB at 1 s, 386 MiB at 100 ms for
~2 % more CPU, 365 MiB at 0 ms for ~14 % more CPU)."""


def use_memory_pool(name: str) -> None:
    """Make ``name`` pyarrow's default allocator for this process (if this build has it)."""
    if name == "jemalloc":
        with contextlib.suppress(NotImplementedError):  # pyarrow built without jemalloc
            pa.jemalloc_set_decay_ms(JEMALLOC_DECAY_MS)
    pools = {
        "jemalloc": pa.jemalloc_memory_pool,
        "mimalloc": pa.mimalloc_memory_pool,
        "system": pa.system_memory_pool,
    }
    if name not in pools or pa.default_memory_pool().backend_name == name:
        return
    try:
        pa.set_memory_pool(pools[name]())
    except NotImplementedError:  # pyarrow built without that allocator: keep the default
        log.warning("pyarrow has no %s allocator; keeping %s", name, pa.default_memory_pool())


def connect(settings: Settings) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB session in UTC, with the step's thread and memory limits.

    Also switches pyarrow to the configured allocator (``lake.arrow_memory_pool``).
    """
    lake = settings.lake
    use_memory_pool(lake.arrow_memory_pool)
    con = duckdb.connect(
        config={
            "threads": lake.transform_threads,
            "memory_limit": f"{lake.transform_memory_mb}MB",
            "preserve_insertion_order": False,
            # give freed memory back after each query: the default keeps up to 128 MB cached
            "allocator_flush_threshold": "16MB",
        }
    )
    con.execute("SET TimeZone = 'UTC'")
    for statement in DUCKDB_PRELUDE:
        con.execute(statement)
    return con


def run_sql(con: duckdb.DuckDBPyConnection, sql: str, views: Mapping[str, pa.Table]) -> pa.Table:
    """Register ``views``, run ``sql`` and return its result as an Arrow table."""
    for view, table in views.items():
        con.register(view, table)
    try:
        return con.sql(sql).to_arrow_table()
    except duckdb.Error as exc:
        raise LakeError(f"SQL failed on DuckDB: {exc}\n{sql}") from exc
    finally:
        for view in views:
            con.unregister(view)


def run_model(
    con: duckdb.DuckDBPyConnection,
    name: str,
    views: Mapping[str, pa.Table],
    params: Mapping[str, str] | None = None,
) -> pa.Table:
    """Register ``views``, run model ``name`` and return its result as an Arrow table."""
    for view, table in views.items():
        con.register(view, table)
    sql = render_model(name, params)
    try:
        return con.sql(sql).to_arrow_table()
    except duckdb.Error as exc:
        raise LakeError(f"SQL model {name!r} failed on DuckDB: {exc}") from exc
    finally:
        for view in views:
            con.unregister(view)
