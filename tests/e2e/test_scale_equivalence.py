"""Acceptance 1: Kafka + REST catalog on S3 gives the same tables as the embedded run.

The same replay file goes once through `wikistream run --replay F --once` (SQLite log, SQLite
catalog) and once through two processes like production: `wikistream ingest --log kafka` and
`wikistream run --log kafka --stages bronze,silver,gold,dq --once` (tansu, SeaweedFS REST catalog,
``s3://`` warehouse). Every table must hold the same rows, except columns that describe the run
rather than the data (see :mod:`tests.e2e.lake_rows`).
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from pyiceberg.catalog import Catalog

from tests.e2e.lake_rows import (
    AUDIT_KEY,
    DATA_TABLES,
    PROFILE_KEY,
    diff_rows,
    diff_table,
    read_rows,
)
from tests.e2e.log_records import dead_letters, raw_events
from tests.e2e.scale import ScaleRun, clean_env
from wikistream.eventlog.base import lag
from wikistream.eventlog.registry import open_event_log
from wikistream.lake.bronze import GROUP as BRONZE_GROUP
from wikistream.lake.catalog import open_catalog
from wikistream.settings import Settings, load_settings

pytestmark = [pytest.mark.integration, pytest.mark.kafka, pytest.mark.slow]


def _settings(data_dir: Path, env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Settings:
    for key, value in clean_env(env).items():
        if key.startswith(("WIKISTREAM_", "AWS_")):
            monkeypatch.setenv(key, value)
    return load_settings(overrides={"data_dir": data_dir})


@pytest.fixture
def embedded_settings(scale_run: ScaleRun) -> Settings:
    return load_settings(overrides={"data_dir": scale_run.embedded_dir})


@pytest.fixture
def scale_settings(scale_run: ScaleRun, monkeypatch: pytest.MonkeyPatch) -> Settings:
    # AWS_* stay set for the test: pyarrow's S3 reads take the keys from the environment too.
    env = {**scale_run.scale_env(), "WIKISTREAM_LOG__BACKEND": "kafka"}
    return _settings(scale_run.lake_dir, env, monkeypatch)


@pytest.fixture
def catalogs(embedded_settings: Settings, scale_settings: Settings) -> tuple[Catalog, Catalog]:
    return open_catalog(embedded_settings), open_catalog(scale_settings)


def test_the_scale_run_really_used_kafka_and_rest(
    scale_run: ScaleRun, scale_settings: Settings, catalogs: tuple[Catalog, Catalog]
) -> None:
    _, scale = catalogs
    assert scale.properties["type"] == "rest"
    location = scale.load_table("bronze.raw_events").location()
    assert location.startswith("s3://"), location
    assert not (scale_run.lake_dir / "catalog.db").exists()
    assert not (scale_run.lake_dir / "eventlog.db").exists()
    assert not (scale_run.ingest_dir / "eventlog.db").exists()
    log = open_event_log(scale_settings, readonly=True)
    try:
        committed = log.committed(BRONZE_GROUP, "raw-events")
        assert committed, "bronze never committed its Kafka group offset"
        assert lag(log.head("raw-events"), committed) == 0
        assert len(committed) > 1, "the raw topic should spread over several partitions"
    finally:
        log.close()


@pytest.mark.parametrize("table", DATA_TABLES)
def test_data_tables_hold_the_same_rows(table: str, catalogs: tuple[Catalog, Catalog]) -> None:
    embedded, scale = catalogs
    diff, columns = diff_table(embedded, scale, table)
    assert diff.rows_left > 0, f"{table} is empty: the comparison would prove nothing"
    assert diff.equal, diff.describe(columns)


def test_gold_found_the_planted_high_risk_user(catalogs: tuple[Catalog, Catalog]) -> None:
    _, scale = catalogs
    levels = Counter(row[0] for row in read_rows(scale, "gold.risk_scores", ["risk_level"]))
    assert levels["HIGH"] >= 1, levels
    assert levels["MEDIUM"] >= 1, levels


@pytest.mark.parametrize(
    ("table", "key", "layers"),
    [
        ("dq_audit.quality_results", AUDIT_KEY, {"bronze", "silver", "gold"}),
        ("dq_audit.profile_metrics", PROFILE_KEY, {"bronze", "silver"}),
    ],
)
def test_quality_audit_has_the_same_checks_and_statuses(
    table: str, key: tuple[str, ...], layers: set[str], catalogs: tuple[Catalog, Catalog]
) -> None:
    embedded, scale = catalogs
    left, right = read_rows(embedded, table, key), read_rows(scale, table, key)
    assert {row[0] for row in left} == layers
    diff = diff_rows(table, left, right)
    assert diff.equal, diff.describe(key, limit=10)


def test_event_logs_hold_the_same_events_and_dead_letters(
    embedded_settings: Settings, scale_settings: Settings
) -> None:
    embedded = open_event_log(embedded_settings, readonly=True)
    scale = open_event_log(scale_settings, readonly=True)
    try:
        left, right = raw_events(embedded), raw_events(scale)
        assert left
        assert Counter(left) == Counter(right)
        bad_left, bad_right = dead_letters(embedded), dead_letters(scale)
        assert len(bad_left) == 2, bad_left  # the two bad lines of the replay file
        assert Counter(bad_left) == Counter(bad_right)
    finally:
        embedded.close()
        scale.close()
