"""`wikistream dq …` end to end: run, results, runs, override, checks, errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from tests.quality.rows import bronze, bronze_row, table
from wikistream.cli import quality_cmd
from wikistream.cli.app import root
from wikistream.lake.catalog import ensure_lake, open_catalog
from wikistream.lake.schemas import BRONZE
from wikistream.settings import Settings

SRC = Path(__file__).resolve().parents[2] / "src"


@pytest.fixture
def cli() -> typer.Typer:
    """The root callback plus the dq commands, invoked in-process."""
    app = typer.Typer()
    app.callback()(root)
    quality_cmd.register(app)
    return app


def _invoke(app: typer.Typer, settings: Settings, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(
        app, ["--data-dir", str(settings.data_dir), "dq", *args], env={"COLUMNS": "250"}
    )
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout


def test_run_results_override_runs(cli: typer.Typer, settings: Settings) -> None:
    tables = ensure_lake(open_catalog(settings))
    tables[BRONZE.identifier].append(bronze(5))

    code, out = _invoke(
        cli, settings, "run", "--layer", "bronze", "--date", "2026-02-26", "-o", "json"
    )
    assert code == 0
    report = json.loads(out)
    assert report["passed"] is True
    assert report["counts"]["total_checks"] == 17
    assert report["slices"][0]["data_dates"] == ["2026-02-26"]

    tables[BRONZE.identifier].append(table(BRONZE, [bronze_row(0)]))  # a duplicate event_id
    code, out = _invoke(cli, settings, "run", "--layer", "bronze", "-o", "json")
    assert code == 1
    report = json.loads(out)
    run_id = report["run_id"]
    assert report["alert"]["failed_checks"][0]["name"] == "uniqueness_event_id"

    code, out = _invoke(cli, settings, "results", "--run-id", run_id, "--failed", "-o", "json")
    assert code == 0
    (failed,) = json.loads(out)
    assert failed["check_name"] == "uniqueness_event_id"
    assert failed["records_failed"] == 1
    assert failed["slice"]["rows"] == 6
    assert failed["evidence"]["comparison"] == ">="

    code, out = _invoke(cli, settings, "override", "--run-id", run_id, "--reason", "replayed once")
    assert code == 0
    assert f"run {run_id} accepted" in out

    code, out = _invoke(cli, settings, "runs", "--layer", "bronze", "-o", "json")
    runs = json.loads(out)
    assert [r["status"] for r in runs] == ["OVERRIDDEN", "PASSED"]  # newest first
    assert runs[0]["override"]["reason"] == "replayed once"

    code, out = _invoke(cli, settings, "run", "--layer", "bronze")  # table output
    assert code == 1
    assert "uniqueness_event_id" in out
    assert "bronze gate FAILED" in out


def test_checks_lists_the_catalogue(cli: typer.Typer, settings: Settings) -> None:
    code, out = _invoke(cli, settings, "checks", "--layer", "bronze", "-o", "json")
    assert code == 0
    checks = json.loads(out)
    assert len(checks) == 17
    assert {c["level"] for c in checks} == {"error", "warning"}
    code, out = _invoke(cli, settings, "checks", "--layer", "gold", "--sql")
    assert "FROM slice" in out
    assert "-- gold.risk_scores" in out


def test_real_cli_reports_bad_input_in_one_line(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "wikistream",
            "--data-dir",
            str(tmp_path),
            "dq",
            "run",
            "--layer",
            "silver",
            "--date",
            "2026-13-01",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 1
    assert proc.stderr.strip() == (
        "error: invalid slice date '2026-13-01': expected a UTC date as YYYY-MM-DD"
    )
