"""The SQL sandbox: correct answers over real Iceberg tables, and every escape refused."""

from __future__ import annotations

import time

import pyarrow.compute as pc
import pytest

from tests.serve.conftest import Lake
from tests.serve.lake_rows import HOURLY_STATS, arrow, hourly_rows
from wikistream.errors import QueryError, QueryRefusedError, QueryTimeoutError
from wikistream.lake.catalog import ensure_lake, open_catalog
from wikistream.serve import views
from wikistream.serve.lakeread import AsOf, parse_as_of
from wikistream.serve.query import QuerySandbox, json_value
from wikistream.serve.sqlcheck import CheckedQuery, check_query

# 10^10 row pairs: CPU-bound for minutes, but with a tiny memory footprint.
SLOW_SQL = "SELECT count(*) FROM range(100000) a, range(100000) b WHERE (a.range * b.range) % 7 = 3"

ESCAPES = {
    "read_csv": "SELECT * FROM read_csv('/etc/passwd')",
    "read_csv_auto over https": "SELECT * FROM read_csv_auto('https://example.org/x.csv')",
    "read_parquet": "SELECT * FROM read_parquet('/tmp/*.parquet')",
    "read_text": "SELECT content FROM read_text('/etc/hostname')",
    "read_blob in a subquery": "SELECT (SELECT count(*) FROM read_blob('/etc/shadow')) AS n",
    "glob": "SELECT * FROM glob('/etc/*')",
    "file path as a table": "SELECT * FROM '/etc/passwd'",
    "url as a table": "SELECT * FROM 'https://example.org/data.parquet'",
    "reader hidden in a CTE": "WITH x AS (SELECT * FROM read_json('/etc/x.json')) SELECT * FROM x",
    "COPY to a file": "COPY (SELECT 1) TO '/tmp/wikistream-escape.csv'",
    "ATTACH": "ATTACH '/tmp/wikistream-escape.db' AS x",
    "DETACH": "DETACH memory",
    "PRAGMA": "PRAGMA version",
    "CALL pragma": "CALL pragma_version()",
    "SET": "SET enable_external_access = true",
    "RESET": "RESET lock_configuration",
    "two statements": "SELECT 1; SELECT 2",
    "comment hiding a second statement": "SELECT 1 /* ok */ ; -- x\nDROP TABLE gold.hourly_stats",
    "line comment then statement": "SELECT 1 --\n; COPY (SELECT 1) TO '/tmp/x.csv'",
    "INSTALL": "INSTALL httpfs",
    "LOAD": "LOAD httpfs",
    "CREATE TABLE": "CREATE TABLE t AS SELECT 1",
    "CREATE MACRO": "CREATE MACRO evil(x) AS x",
    "INSERT": "INSERT INTO gold.hourly_stats SELECT * FROM gold.hourly_stats",
    "UPDATE": "UPDATE gold.risk_scores SET risk_score = 0",
    "DELETE": "DELETE FROM gold.risk_scores",
    "DROP": "DROP TABLE gold.hourly_stats",
    "EXPORT": "EXPORT DATABASE '/tmp/wikistream-export'",
    "EXPLAIN": "EXPLAIN SELECT 1",
    "getenv": "SELECT getenv('HOME')",
    "current_setting": "SELECT current_setting('enable_external_access')",
    "current_setting in a WHERE": (
        "SELECT 1 FROM gold.hourly_stats WHERE current_setting('threads') IS NOT NULL"
    ),
    "duckdb_settings": "SELECT * FROM duckdb_settings()",
    "duckdb_secrets": "SELECT * FROM duckdb_secrets()",
    "query() table function": "SELECT * FROM query('SELECT * FROM read_csv(''/etc/passwd'')')",
    "information_schema": "SELECT * FROM information_schema.tables",
    "internal source name": "SELECT * FROM __wikistream_source_0",
    "other catalog": "SELECT * FROM system.main.duckdb_tables",
    "AT time travel syntax": "SELECT * FROM gold.hourly_stats AT (VERSION => 1)",
    "sleep": "SELECT sleep_ms(100000)",
    "NUL byte": "SELECT 1\x00; DROP TABLE x",
    "empty": "   ",
    "only a comment": "-- nothing",
}


@pytest.mark.parametrize("sql", list(ESCAPES.values()), ids=list(ESCAPES))
def test_escape_is_refused_with_a_clear_error(lake: Lake, sql: str) -> None:
    with pytest.raises(QueryRefusedError) as info:
        lake.sandbox.run(sql)
    message = str(info.value)
    assert len(message) > 20
    assert any(
        word in message
        for word in ("not allowed", "not available", "refused", "statement", "empty", "NUL")
    ), message


def test_very_long_query_is_refused(lake: Lake) -> None:
    sql = "SELECT 1 AS x" + " + 1" * 10_000
    with pytest.raises(QueryRefusedError, match="characters long, the limit is 20000"):
        lake.sandbox.run(sql)


def test_time_consuming_cross_join_is_cut_off(lake: Lake) -> None:
    started = time.monotonic()
    with pytest.raises(QueryTimeoutError, match="longer than 1 s"):
        lake.sandbox.run(SLOW_SQL, timeout_s=1.0)
    assert time.monotonic() - started < 4.0
    # the sandbox keeps working afterwards
    assert lake.sandbox.run("SELECT 42 AS answer").rows == [[42]]


def test_engine_lock_refuses_files_even_if_the_checker_missed_them(lake: Lake) -> None:
    """Second layer: with the static check bypassed, DuckDB itself refuses file access."""
    checked = CheckedQuery(text="SELECT * FROM read_csv('/etc/passwd')", tables={})
    with pytest.raises(QueryRefusedError, match="file system operations are disabled"):
        lake.sandbox._execute(checked, None, 10, 5.0)
    # with a table exposed, only that snapshot's own data files are readable
    checked = CheckedQuery(
        text="SELECT * FROM read_text('/etc/hostname')",
        tables={"gold.daily_analytics_summary": None},
    )
    with pytest.raises(QueryRefusedError, match="file system operations are disabled"):
        lake.sandbox._execute(checked, None, 10, 5.0)
    checked = CheckedQuery(text="SELECT 1", tables={})
    assert lake.sandbox._execute(checked, None, 10, 5.0).rows == [[1]]


def test_remote_or_delete_file_snapshots_fall_back_to_pyiceberg_reads(
    lake: Lake, monkeypatch: pytest.MonkeyPatch
) -> None:
    sql = "SELECT domain, sum(total_events) FROM gold.hourly_stats GROUP BY 1 ORDER BY 1"
    direct = lake.sandbox.run(sql).rows
    monkeypatch.setattr(views, "local_data_files", lambda table, snapshot_id: None)
    assert lake.sandbox.run(sql).rows == direct
    assert lake.sandbox.run("SELECT count(*) FROM gold.risk_scores").rows == [[6]]


def test_aggregate_matches_the_table(lake: Lake) -> None:
    result = lake.sandbox.run(
        "SELECT domain, sum(total_events) AS edits FROM gold.hourly_stats "
        "GROUP BY domain ORDER BY edits DESC, domain"
    )
    table = lake.reader.read("gold.hourly_stats")
    expected = {}
    for domain in set(table.column("domain").to_pylist()):
        mask = pc.equal(table.column("domain"), domain)
        expected[domain] = pc.sum(table.filter(mask).column("total_events")).as_py()
    assert result.columns == ["domain", "edits"]
    assert {d: n for d, n in result.rows} == expected
    assert [r[1] for r in result.rows] == sorted(expected.values(), reverse=True)
    assert result.snapshots["gold.hourly_stats"] is not None


def test_every_table_is_a_view_and_short_names_work(lake: Lake) -> None:
    for name in ("bronze.raw_events", "silver.cleaned_events", "gold.risk_scores",
                 "gold.daily_analytics_summary", "dq_audit.quality_results",
                 "dq_audit.profile_metrics"):  # fmt: skip
        count = lake.sandbox.run(f"SELECT count(*) FROM {name}").rows[0][0]
        assert count == lake.reader.read(name).num_rows, name
    assert lake.sandbox.run("SELECT count(*) FROM risk_scores").rows == [[6]]


def test_only_referenced_columns_are_exposed() -> None:
    checked = check_query(
        "SELECT domain, sum(total_events) n FROM gold.hourly_stats GROUP BY domain ORDER BY n",
        max_chars=1000,
    )
    assert checked.tables == {"gold.hourly_stats": {"domain", "total_events"}}
    star = check_query("SELECT * FROM bronze.raw_events", max_chars=1000)
    assert star.tables == {"bronze.raw_events": None}
    whole_row = check_query("SELECT r FROM gold.risk_scores r", max_chars=1000)
    assert whole_row.tables == {"gold.risk_scores": None}
    cte = check_query(
        "WITH x AS (SELECT entity_id AS e FROM gold.risk_scores) SELECT e FROM x", max_chars=1000
    )
    assert cte.tables == {"gold.risk_scores": {"entity_id"}}


def test_whole_row_and_struct_results_are_json_safe(lake: Lake) -> None:
    result = lake.sandbox.run("SELECT r FROM gold.risk_scores r ORDER BY r.risk_score DESC LIMIT 1")
    row = result.rows[0][0]
    assert row["entity_id"] == "203.0.113.66"
    assert row["gold_processed_at"].endswith("Z")


def test_row_limit_truncates(lake: Lake) -> None:
    result = lake.sandbox.run("SELECT * FROM range(100)", row_limit=7)
    assert len(result.rows) == 7
    assert result.truncated
    assert result.row_limit == 7
    capped = QuerySandbox(
        lake.reader, lake.settings.serve.model_copy(update={"query_row_limit": 5})
    )
    result = capped.run("SELECT * FROM range(100)", row_limit=1000)
    assert len(result.rows) == 5
    assert result.truncated


def test_syntax_and_unknown_column_errors_are_query_errors(lake: Lake) -> None:
    with pytest.raises(QueryError, match="syntax error"):
        lake.sandbox.run("SELEC 1")
    with pytest.raises(QueryError, match="no_such_column"):
        lake.sandbox.run("SELECT no_such_column FROM gold.hourly_stats")


def test_time_travel_by_snapshot_id_and_timestamp(tmp_path: object) -> None:
    from pathlib import Path

    from tests.serve.conftest import make_lake

    lake = make_lake(Path(str(tmp_path)) / "data")
    table = lake.reader.load("gold.hourly_stats")
    assert table is not None
    assert table.current_snapshot() is not None
    first = table.current_snapshot()
    before = lake.sandbox.run("SELECT sum(total_events) FROM gold.hourly_stats").rows[0][0]
    time.sleep(0.05)
    extra = [r | {"stat_hour": 9} for r in hourly_rows(lake.planted.today)]
    ensure_lake(open_catalog(lake.settings))["gold.hourly_stats"].append(arrow(HOURLY_STATS, extra))
    now = lake.sandbox.run("SELECT sum(total_events) FROM gold.hourly_stats").rows[0][0]
    assert now == before * 2
    by_id = lake.sandbox.run(
        "SELECT sum(total_events) FROM gold.hourly_stats", as_of=AsOf(snapshot_id=first.snapshot_id)
    )
    assert by_id.rows[0][0] == before
    assert by_id.snapshots["gold.hourly_stats"] == first.snapshot_id
    stamp = parse_as_of(str(first.timestamp_ms / 1000 and _iso(first.timestamp_ms)))
    assert lake.sandbox.run("SELECT sum(total_events) FROM hourly_stats", as_of=stamp).rows == [
        [before]
    ]
    # before the first commit the table was empty
    early = parse_as_of("2000-01-01T00:00:00Z")
    assert lake.sandbox.run("SELECT count(*) FROM gold.hourly_stats", as_of=early).rows == [[0]]
    # a snapshot id of one table reads the others as of that moment
    joined = lake.sandbox.run(
        "SELECT (SELECT count(*) FROM gold.hourly_stats), (SELECT count(*) FROM gold.risk_scores)",
        as_of=AsOf(snapshot_id=first.snapshot_id),
    )
    assert joined.rows[0][0] == 24
    with pytest.raises(QueryError, match="does not exist"):
        lake.sandbox.run("SELECT 1 FROM gold.hourly_stats", as_of=AsOf(snapshot_id=12345))
    with pytest.raises(QueryError, match="neither a snapshot id nor"):
        parse_as_of("yesterday-ish")


def _iso(ms: int) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(ms / 1000, tz=UTC).isoformat()


def test_json_values() -> None:
    from datetime import UTC, datetime, timedelta
    from decimal import Decimal

    assert json_value(Decimal("255")) == 255
    assert json_value(Decimal("2.5")) == 2.5
    assert json_value(float("nan")) is None
    assert json_value(datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)) == "2026-01-02T03:04:05.000000Z"
    assert json_value(timedelta(seconds=3)) == 3.0
    assert json_value(b"ab") == "ab"
    assert json_value({"a": [Decimal("1")]}) == {"a": [1]}
