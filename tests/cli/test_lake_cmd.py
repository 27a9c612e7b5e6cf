"""`wikistream bronze`, `tables` and `maintain` through the real command line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from wikistream.eventlog.registry import open_event_log
from wikistream.settings import Settings

from ..lake.envelopes import envelope, event_line, raw_value

SRC = Path(__file__).resolve().parents[2] / "src"


def cli(data_dir: Path, *args: str, **env_extra: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WIKISTREAM_")}
    env["PYTHONPATH"] = str(SRC)
    env.update(env_extra)
    return subprocess.run(
        [sys.executable, "-m", "wikistream", "--data-dir", str(data_dir), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def as_json(proc: subprocess.CompletedProcess[str]) -> Any:
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_bronze_once_tables_and_maintain(settings: Settings) -> None:
    log = open_event_log(settings)
    log.append({"raw-events": [envelope(event_line(timestamp=1772064000 + i)) for i in range(30)]})
    log.append({"raw-events": [raw_value(b"not json")]})
    log.close()
    data_dir = settings.data_dir

    result = as_json(
        cli(data_dir, "bronze", "--once", "-o", "json", WIKISTREAM_LAKE__COMMIT_ROWS="10")
    )
    assert result["rows_written"] == 30
    assert result["dead_lettered"] == 1
    assert result["commits"] == 4
    assert result["position"] == {"0": 30}
    assert result["lag"] == 0

    tables = {t["table"]: t for t in as_json(cli(data_dir, "tables", "-o", "json"))}
    bronze = tables["bronze.raw_events"]
    assert bronze["exists"] is True
    assert bronze["rows"] == 30
    assert bronze["data_files"] == 3  # the last commit held only the bad record
    assert bronze["snapshots"] == 3
    assert bronze["log_position"] == '{"0": 30}'
    assert bronze["size_bytes"] > 0
    assert tables["silver.cleaned_events"]["exists"] is False

    report = as_json(cli(data_dir, "maintain", "-t", "bronze.raw_events", "-o", "json"))
    assert report[0]["table"] == "bronze.raw_events"
    assert report[0]["partitions_compacted"] == 0  # 3 files ≤ 4
    assert report[0]["data_files_after"] == 3

    text = cli(data_dir, "tables")
    assert text.returncode == 0
    assert "bronze.raw_e" in text.stdout


def test_unknown_table_is_a_one_line_error(settings: Settings) -> None:
    proc = cli(settings.path(), "maintain", "-t", "nope.nothing")
    assert proc.returncode == 1
    assert proc.stderr.strip().startswith("error: no table 'nope.nothing'")
    assert "Traceback" not in proc.stderr
