"""`wikistream rebuild --engine spark`: a date-range backfill on Spark from the real CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from tests.quality.rows import T0, bronze_row, table
from wikistream.cli import rebuild_cmd
from wikistream.cli.app import root
from wikistream.lake.catalog import ensure_table, open_catalog
from wikistream.lake.schemas import BRONZE, SILVER
from wikistream.settings import load_settings

SRC = Path(__file__).resolve().parents[2] / "src"


def cli(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WIKISTREAM_")}
    env["PYTHONPATH"] = str(SRC)
    return subprocess.run(
        [sys.executable, "-m", "wikistream", "--data-dir", str(data_dir), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def test_bad_layer_or_range_is_refused_before_spark_starts(tmp_path: Path) -> None:
    done = cli(tmp_path, "rebuild", "--engine", "spark", "--layer", "platinum")
    assert done.returncode == 1
    assert "unknown layer 'platinum'" in done.stderr
    done = cli(
        tmp_path, "rebuild", "--engine", "spark", "--layer", "gold",
        "--from", "2026-02-27", "--to", "2026-02-26",
    )  # fmt: skip
    assert done.returncode == 1
    assert "is after --to" in done.stderr


@pytest.mark.spark
@pytest.mark.slow
def test_rebuild_one_day_of_silver_on_spark(spark: Any, tmp_path: Path) -> None:
    """In-process CLI on the test's Spark session (a lake of its own: catalog ``rebuild``)."""
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    (data_dir / "wikistream.toml").write_text('[lake]\ncatalog_name = "rebuild"\n')
    settings = load_settings(overrides={"data_dir": data_dir})
    catalog = open_catalog(settings)
    yesterday = T0 - timedelta(days=1)
    rows = [bronze_row(i) for i in range(6)] + [bronze_row(9, event_id="ev-0")]  # a duplicate
    rows += [bronze_row(50 + i, event_timestamp=yesterday) for i in range(4)]
    ensure_table(catalog, BRONZE).append(table(BRONZE, rows))
    app = typer.Typer()
    app.callback()(root)
    rebuild_cmd.register(app)
    day = T0.date().isoformat()
    done = CliRunner().invoke(
        app,
        [
            "--data-dir", str(data_dir), "rebuild", "--engine", "spark", "--layer", "silver",
            "--from", day, "--to", day, "--output", "json",
        ],
    )  # fmt: skip
    assert done.exit_code == 0, done.output
    result = json.loads(done.stdout)
    assert (result["engine"], result["rows_in"], result["cursor_moved"]) == ("spark", 7, False)
    silver = catalog.load_table(SILVER.identifier).scan().to_arrow()
    assert sorted(silver["event_date"].to_pylist()) == [day] * 6  # only the range, deduplicated
    assert spark.sparkContext._jsc is not None  # the shared session was left running
