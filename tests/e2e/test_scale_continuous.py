"""Continuous production layout: a running lake process keeps up with a separate ingest.

The lake process (`wikistream run --log kafka --stages bronze,silver,gold,dq`, continuous, small
commits) is started first and waits on an empty Kafka; then a separate `wikistream ingest`
appends the replay file. Bronze, silver and gold, built incrementally in many small commits while
events arrive, must hold the same rows as the embedded one-shot run of the same file. (The audit
tables are not compared here: continuous gates check many small slices, not one.)
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from pyiceberg.catalog import Catalog

from tests.e2e.lake_rows import DATA_TABLES, diff_table
from tests.e2e.scale import ScaleRun, clean_env, create_table_bucket, write_lake_config
from wikistream.lake.catalog import open_catalog
from wikistream.settings import load_settings

pytestmark = [pytest.mark.integration, pytest.mark.kafka, pytest.mark.slow]

SMALL_COMMITS = {
    "WIKISTREAM_LAKE__COMMIT_ROWS": "700",
    "WIKISTREAM_LAKE__COMMIT_INTERVAL_S": "0.5",
    "WIKISTREAM_LAKE__TRANSFORM_BATCH_ROWS": "2000",
}


def _status(data_dir: Path, stage: str) -> dict[str, Any]:
    path = data_dir / "run" / f"{stage}.status.json"
    try:
        body: dict[str, Any] = json.loads(path.read_text())
    except (OSError, ValueError):  # not written yet, or replaced while we read
        return {}
    return body


def _wait_caught_up(process: subprocess.Popen[bytes], run: ScaleRun, rows: int, err: Path) -> None:
    """Until bronze wrote ``rows`` rows, silver holds them and refine ran two idle passes more."""
    deadline = time.monotonic() + 240
    idle_since: int | None = None
    while time.monotonic() < deadline:
        assert process.poll() is None, err.read_text()[-3000:]
        bronze, refine = _status(run.lake_dir, "bronze"), _status(run.lake_dir, "refine")
        b_rows = (bronze.get("counters") or {}).get("rows")
        counters = refine.get("counters") or {}
        if b_rows == rows and counters.get("silver_rows") == rows and not refine.get("pending"):
            passes = int(counters.get("passes", 0))
            idle_since = passes if idle_since is None else idle_since
            if passes >= idle_since + 2:  # gold of the last silver commit is done too
                return
        time.sleep(0.5)
    raise AssertionError(f"lake did not catch up:\n{err.read_text()[-3000:]}")


@pytest.fixture(scope="module")
def continuous_lake(scale_run: ScaleRun) -> Catalog:
    unique = uuid.uuid4().hex[:8]
    run = ScaleRun(
        root=scale_run.root / "continuous",
        replay_file=scale_run.replay_file,
        bootstrap=scale_run.bootstrap,
        topic_prefix=f"e2c-{unique}.",
        table_bucket=f"e2c-{unique}",
        weed=scale_run.weed,
    )
    create_table_bucket(run.weed, run.table_bucket)
    write_lake_config(run)
    embedded = open_catalog(load_settings(overrides={"data_dir": scale_run.embedded_dir}))
    rows = len(embedded.load_table("bronze.raw_events").scan().to_arrow())

    err = run.root / "lake.err"
    cmd = [sys.executable, "-m", "wikistream", "--data-dir", str(run.lake_dir), "run"]
    with err.open("w") as stderr:
        lake = subprocess.Popen(
            [*cmd, "--log", "kafka", "--stages", "bronze,silver,gold,dq"],
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            env=clean_env({**run.scale_env(), **SMALL_COMMITS}),
        )
    try:
        replay = ("--replay", str(run.replay_file), "--speed", "max", "--once")
        ingest = run.scale(run.ingest_dir, "ingest", "--log", "kafka", *replay)
        assert ingest.returncode == 0, ingest.describe()
        _wait_caught_up(lake, run, rows, err)
    finally:
        lake.send_signal(signal.SIGTERM)
        lake.wait(timeout=60)
    scale_run.commands.extend(run.commands)  # for the secret scan of test_no_secrets
    # <lake-dir>/wikistream.toml holds the keys: REST signing and S3 reads need no environment
    return open_catalog(load_settings(overrides={"data_dir": run.lake_dir}))


def test_incremental_commits_build_the_same_tables(
    continuous_lake: Catalog, scale_run: ScaleRun
) -> None:
    bronze = continuous_lake.load_table("bronze.raw_events")
    assert len(bronze.snapshots()) > 3, "expected many small bronze commits"
    embedded = open_catalog(load_settings(overrides={"data_dir": scale_run.embedded_dir}))
    for table in DATA_TABLES:
        diff, columns = diff_table(embedded, continuous_lake, table)
        assert diff.rows_left > 0, table
        assert diff.equal, diff.describe(columns)
