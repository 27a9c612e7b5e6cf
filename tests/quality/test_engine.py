"""The engine: compiled queries, ERROR isolation, SKIPPED scopes, portable SQL."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pyarrow as pa
import pytest

from tests.quality.rows import bronze, bronze_row, silver_row, table
from wikistream.lake.schemas import BRONZE, SILVER
from wikistream.quality.catalogue import (
    BRONZE_CHECKS,
    GOLD_HOURLY_CHECKS,
    GOLD_RISK_CHECKS,
    SILVER_CHECKS,
    expected_user_kind_sql,
)
from wikistream.quality.checks import CheckType, Level, Status, is_complete, ratio_check
from wikistream.quality.engine import compile_checks, connect, evaluate

ALL = [BRONZE_CHECKS, SILVER_CHECKS, GOLD_HOURLY_CHECKS, GOLD_RISK_CHECKS]


@pytest.mark.parametrize("checks", ALL, ids=["bronze", "silver", "hourly", "risk"])
def test_each_table_compiles_to_at_most_two_queries(checks: tuple) -> None:  # type: ignore[type-arg]
    queries = compile_checks(checks)
    assert 1 <= len(queries) <= 2
    # COUNT(DISTINCT) and percentiles only in the second query
    assert not re.search(r"DISTINCT|PERCENTILE", queries[0].sql)
    if len(queries) == 2:
        assert re.search(r"DISTINCT|PERCENTILE", queries[1].sql)
    # every check feeds a checked count, and a metric or a passed count to make a share
    fed = set().union(*(q.fields() for q in queries))
    for i in range(len(checks)):
        assert (i, "checked") in fed
        assert (i, "metric") in fed or (i, "passed") in fed
    # shared aggregates are computed once
    select_lists = [q.sql.split("\n")[1:-1] for q in queries]
    exprs = [line.strip().rsplit(" AS ", 1)[0] for lines in select_lists for line in lines]
    assert len(exprs) == len(set(exprs))


@pytest.mark.parametrize("checks", ALL, ids=["bronze", "silver", "hourly", "risk"])
def test_compiled_sql_transpiles_to_spark(checks: tuple) -> None:  # type: ignore[type-arg]
    sqlglot = pytest.importorskip("sqlglot")
    for query in compile_checks(checks):
        spark = sqlglot.transpile(query.sql, read="duckdb", write="spark")[0]
        assert "FROM slice" in spark
        # the bits that differ between the dialects are translated, not passed through
        assert "regexp_matches" not in spark.lower()
        assert "epoch(" not in spark.lower()


def test_broken_check_is_one_error_row_and_the_others_still_run() -> None:
    broken = ratio_check(
        "validity_no_such_column",
        CheckType.VALIDITY,
        "no_such_column > 0",
        columns=("no_such_column",),
    )
    results = evaluate([is_complete("event_id"), broken], bronze(5), table_name="bronze.raw_events")
    by_name = {r.check_name: r for r in results}
    assert by_name["completeness_event_id"].status is Status.PASSED
    error = by_name["validity_no_such_column"]
    assert error.status is Status.ERROR
    assert error.blocking
    assert "no_such_column" in error.message


def test_warning_level_error_does_not_block() -> None:
    broken = ratio_check(
        "x", CheckType.VALIDITY, "nope > 0", columns=("nope",), level=Level.WARNING
    )
    (result,) = evaluate([broken], bronze(2), table_name="t")
    assert result.status is Status.ERROR
    assert not result.blocking


def test_check_with_no_rows_in_scope_is_skipped_with_zero_counts() -> None:
    rows = [bronze_row(i, length_old=None, length_new=None, length_delta=None) for i in range(4)]
    checks = [c for c in BRONZE_CHECKS if c.name == "consistency_length_delta"]
    (result,) = evaluate(checks, table(BRONZE, rows), table_name="bronze.raw_events")
    assert result.status is Status.SKIPPED
    assert result.records_checked == 0
    assert result.records_failed is None or result.records_failed == 0


def test_timeliness_without_timestamps_is_skipped_not_error() -> None:
    rows = [bronze_row(i, bronze_processed_at=None) for i in range(3)]
    checks = [c for c in BRONZE_CHECKS if c.name == "timeliness_p95_latency_s"]
    (result,) = evaluate(checks, table(BRONZE, rows), table_name="bronze.raw_events")
    assert result.status is Status.SKIPPED


def test_counts_and_failure_rate_are_numbers_not_nulls() -> None:
    (result,) = evaluate([is_complete("title")], bronze(4), table_name="t")
    assert (result.records_checked, result.records_passed, result.records_failed) == (4, 4, 0)
    assert result.failure_rate == 0.0
    assert isinstance(result.duration_ms, int)


def test_dates_and_hours_are_utc_whatever_the_session() -> None:
    late = datetime(2026, 2, 26, 23, 30, tzinfo=UTC)
    rows = [bronze_row(0, event_timestamp=late)]
    checks = [
        c for c in BRONZE_CHECKS if c.name in {"consistency_event_date", "consistency_event_hour"}
    ]
    results = evaluate(checks, table(BRONZE, rows), table_name="t")
    assert [r.status for r in results] == [Status.PASSED, Status.PASSED]


@pytest.fixture
def real_users(shared_data) -> list[str]:  # type: ignore[no-untyped-def]
    import gzip
    import json

    users: set[str] = set()
    with (shared_data / "recentchange-2026-02-26.jsonl").open() as handle:
        for line in handle:
            try:
                users.add(json.loads(line).get("user") or "")
            except ValueError:
                continue
    with gzip.open(shared_data / "wikiticker-2015-09-12-sampled.json.gz", "rt") as handle:
        for line in handle:
            users.add(json.loads(line).get("user") or "")
    users.discard("")
    return sorted(users)


def _python_kind(name: str) -> str:
    import ipaddress

    try:
        ipaddress.ip_address(name)
        return "ip"
    except ValueError:
        pass
    if re.fullmatch(r"~[0-9]{4}-[0-9]+(-[0-9]+)*", name):
        return "temporary"
    return "registered"


def test_sql_user_kind_agrees_with_python_ipaddress_on_real_users(real_users: list[str]) -> None:
    con = connect()
    con.register("u", pa.table({"user_normalized": real_users}))
    sql = f"SELECT user_normalized, {expected_user_kind_sql()} FROM u"
    got = dict(con.execute(sql).fetchall())
    expected = {u: _python_kind(u) for u in real_users}
    mismatches = {u: (got[u], expected[u]) for u in real_users if got[u] != expected[u]}
    assert not mismatches
    kinds = set(got.values())
    assert kinds == {"ip", "temporary", "registered"}
    assert sum(1 for k in got.values() if k == "temporary") >= 3


def test_silver_region_accuracy_catches_every_mapped_domain() -> None:
    from wikistream.quality.catalogue import SEED_REGION_MAP

    rows = [
        silver_row(i, domain=d, region="other", language=lang)
        for i, (d, (_, lang)) in enumerate(SEED_REGION_MAP.items())
    ]
    checks = [c for c in SILVER_CHECKS if c.name == "accuracy_region_mapping"]
    (result,) = evaluate(checks, table(SILVER, rows), table_name="t")
    assert len(SEED_REGION_MAP) == 18
    assert result.records_failed == 18
