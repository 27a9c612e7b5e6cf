"""Static checks of a sandbox query, done with DuckDB's own parser before anything runs.

A query is accepted when it is exactly one ``SELECT``/``WITH`` statement whose syntax tree (from
``json_serialize_sql``) references only WikiStream tables or its own CTEs, calls no table function
outside a small allow-list and no function that reads files, settings or the environment. The
engine itself is locked as well (see :mod:`wikistream.serve.query`); these checks give a clear
error first and decide which tables and columns to expose.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import duckdb

from wikistream.errors import QueryError, QueryRefusedError
from wikistream.serve.lakeread import TABLES

ALLOWED_TABLE_FUNCTIONS = frozenset(
    {"range", "generate_series", "unnest", "json_each", "json_tree"}
)
BLOCKED_FUNCTIONS = frozenset(
    {
        "getenv",
        "current_setting",
        "current_query",
        "sleep_ms",
        "pg_sleep",
        "glob",
        "query",
        "query_table",
        "sniff_csv",
        "which_secret",
        "json_execute_serialized_sql",
        "add_parquet_key",
        "checkpoint",
        "force_checkpoint",
        "import_database",
        "copy_database",
    }
)
BLOCKED_PREFIXES = ("read_", "parquet_", "duckdb_", "pragma_", "enable_", "disable_", "register_")

_KNOWN_COLUMNS: dict[str, frozenset[str]] = {
    name: frozenset(c.lower() for c in table.column_names) for name, table in TABLES.items()
}
_BY_SHORT_NAME: dict[str, str] = {name.split(".", 1)[1]: name for name in TABLES}
_STAR_CLASSES = frozenset({"STAR", "POSITIONAL_REFERENCE"})


@dataclass
class CheckedQuery:
    """An accepted query: its text and the tables (with the columns it may use) it reads."""

    text: str
    tables: dict[str, set[str] | None] = field(default_factory=dict)
    """View name -> lower-case column names the query may touch; None means all columns."""


def check_query(sql: str, *, max_chars: int) -> CheckedQuery:
    """Accept one read-only SELECT over WikiStream tables, or raise :class:`QueryRefusedError`."""
    if not sql or not sql.strip():
        raise QueryRefusedError("the query is empty; write one SELECT statement")
    if len(sql) > max_chars:
        raise QueryRefusedError(
            f"the query is {len(sql)} characters long, the limit is {max_chars} "
            "(serve.query_max_chars); shorten it"
        )
    if "\x00" in sql:
        raise QueryRefusedError("the query contains a NUL character")
    statement = _single_statement(sql)
    tree = _syntax_tree(statement)
    return _inspect(statement, tree)


class _Parser:
    """One private DuckDB connection used only to parse (opening one costs ~50 ms)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._con: duckdb.DuckDBPyConnection | None = None

    def _connection(self) -> duckdb.DuckDBPyConnection:
        if self._con is None:
            con = duckdb.connect(":memory:")
            # It only parses, but lock it anyway: nothing user-written may ever reach the disk.
            con.execute("SET enable_external_access = false")
            con.execute("SET lock_configuration = true")
            self._con = con
        return self._con

    def statements(self, sql: str) -> list[Any]:
        with self._lock:
            return list(self._connection().extract_statements(sql))

    def serialize(self, statement: str) -> str | None:
        with self._lock:
            row = self._connection().execute("SELECT json_serialize_sql(?)", [statement]).fetchone()
        return None if row is None else str(row[0])


_PARSER = _Parser()


def _single_statement(sql: str) -> str:
    try:
        statements = _PARSER.statements(sql)
    except duckdb.Error as exc:
        raise QueryError(f"the query has a syntax error: {_first_line(exc)}") from exc
    if not statements:
        raise QueryRefusedError("the query is empty (only comments?); write one SELECT statement")
    if len(statements) > 1:
        raise QueryRefusedError(
            f"the query holds {len(statements)} statements; only one SELECT statement is allowed "
            "(remove the ';' and what follows)"
        )
    kind = str(statements[0].type).rsplit(".", 1)[-1]
    if kind != "SELECT":
        raise QueryRefusedError(
            f"{kind} statements are not allowed: the query sandbox is read-only and accepts one "
            "SELECT (or WITH … SELECT) statement"
        )
    text: str = statements[0].query
    return text.rstrip().rstrip(";")


def _syntax_tree(statement: str) -> dict[str, Any]:
    try:
        raw = _PARSER.serialize(statement)
    except duckdb.Error as exc:
        raise QueryError(f"the query cannot be parsed: {_first_line(exc)}") from exc
    tree: dict[str, Any] = json.loads(raw) if raw else {"error": True}
    if tree.get("error"):
        message = tree.get("error_message", "unknown parser error")
        raise QueryRefusedError(f"the query was refused by the parser: {message}")
    return tree


def _walk(node: Any) -> Iterator[dict[str, Any]]:
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            yield item
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def _inspect(text: str, tree: dict[str, Any]) -> CheckedQuery:
    ctes: set[str] = set()
    aliases: set[str] = set()
    column_refs: list[list[str]] = []
    base_tables: list[dict[str, Any]] = []
    star = False
    for node in _walk(tree):
        for entry in node.get("cte_map", {}).get("map", []) if "cte_map" in node else []:
            ctes.add(str(entry.get("key", "")).lower())
        kind = node.get("type")
        klass = node.get("class")
        if kind == "BASE_TABLE":
            base_tables.append(node)
        elif kind == "TABLE_FUNCTION":
            _check_table_function(node)
        if klass == "FUNCTION":
            _check_function(node)
        elif klass == "COLUMN_REF":
            column_refs.append([str(p).lower() for p in node.get("column_names", [])])
        elif klass in _STAR_CLASSES:
            star = True
        if klass is not None and node.get("alias"):
            aliases.add(str(node["alias"]).lower())
        for name in node.get("using_columns", []) if kind == "JOIN" else []:
            column_refs.append([str(name).lower()])
    tables = _resolve_tables(base_tables, ctes)
    table_names = {t.split(".", 1)[1] for t in tables} | {t for t in tables}
    table_aliases = {str(n.get("alias", "")).lower() for n in base_tables if n.get("alias")}
    known = set().union(*(_KNOWN_COLUMNS[t] for t in tables)) if tables else set()
    used: set[str] = set()
    for parts in column_refs:
        hits = [p for p in parts if p in known]
        if hits:
            used.update(hits)
        elif parts and parts[-1] not in aliases and parts[-1] not in ctes:
            # A whole-row reference (`SELECT t FROM x t`), a lambda parameter or something
            # else we cannot attribute: expose every column rather than guess wrongly.
            star = True
        if parts and parts[0] in table_names | table_aliases and len(parts) == 1:
            star = True
    return CheckedQuery(
        text=text,
        tables={t: None if star else {c for c in used if c in _KNOWN_COLUMNS[t]} for t in tables},
    )


def _resolve_tables(base_tables: list[dict[str, Any]], ctes: set[str]) -> set[str]:
    found: set[str] = set()
    for node in base_tables:
        catalog = str(node.get("catalog_name") or "").lower()
        schema = str(node.get("schema_name") or "").lower()
        name = str(node.get("table_name") or "").lower()
        shown = ".".join(p for p in (catalog, schema, name) if p)
        if node.get("at_clause"):
            raise QueryRefusedError(
                f"AT (...) time travel on {shown} is not allowed here; use --as-of (CLI) or the "
                "as_of parameter (API) instead"
            )
        if catalog and catalog not in ("memory",):
            raise QueryRefusedError(
                f"table {shown!r} is not available (not a WikiStream table); {_tables_hint()}"
            )
        if not schema and name in ctes:
            continue
        qualified = f"{schema}.{name}" if schema else _BY_SHORT_NAME.get(name, "")
        if qualified not in TABLES:
            raise QueryRefusedError(f"table {shown!r} is not available; {_tables_hint()}")
        found.add(qualified)
    return found


def _check_table_function(node: dict[str, Any]) -> None:
    function = node.get("function") or {}
    name = str(function.get("function_name", "")).lower()
    if name not in ALLOWED_TABLE_FUNCTIONS:
        raise QueryRefusedError(
            f"table function {name}() is not allowed in the query sandbox (no file, network or "
            f"catalog access); allowed: {', '.join(sorted(ALLOWED_TABLE_FUNCTIONS))}"
        )


def _check_function(node: dict[str, Any]) -> None:
    name = str(node.get("function_name", "")).lower()
    if name in BLOCKED_FUNCTIONS or name.startswith(BLOCKED_PREFIXES):
        raise QueryRefusedError(
            f"function {name}() is not allowed in the query sandbox (it reads files, settings or "
            "the environment, or only wastes time)"
        )


def _tables_hint() -> str:
    return "query one of: " + ", ".join(sorted(TABLES))


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
