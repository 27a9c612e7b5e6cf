"""What an operator sees: live mode with the stream unreachable, `status` during and after a run,
and clear one-line errors for bad flags and a mistyped data dir."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from pathlib import Path

import psutil
import pytest

from tests.e2e.runs import cli_command, cli_env
from wikistream.orchestrate.status import read_all_status

STAGES = {"ingest", "bronze", "refine", "maintain", "serve"}  # serve: the dashboard


def _status(data_dir: Path) -> tuple[int, dict[str, object], str]:
    done = subprocess.run(
        cli_command(data_dir, "status", "-o", "json"),
        env=cli_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    return done.returncode, json.loads(done.stdout or "{}"), done.stderr


@pytest.mark.slow
def test_unreachable_stream_one_clear_line_keeps_retrying_and_status_says_why(
    tmp_path: Path,
) -> None:
    data_dir = tmp_path / "data"
    log = tmp_path / "run.err"
    env = cli_env(
        WIKISTREAM_INGEST__STREAM_URL="http://127.0.0.1:9/",  # discard port: refused
        WIKISTREAM_INGEST__BACKOFF_MAX_S="1",
    )
    with log.open("wb") as stderr:
        proc = subprocess.Popen(
            cli_command(data_dir, "run"), env=env, stdout=subprocess.DEVNULL, stderr=stderr
        )
    try:
        deadline = time.monotonic() + 120
        reconnects = 0
        while time.monotonic() < deadline and proc.poll() is None:
            ingest = read_all_status(data_dir).get("ingest")
            source = ingest.details.get("source", {}) if ingest else {}
            reconnects = int(source.get("reconnects") or 0)
            if reconnects >= 4:
                break
            time.sleep(0.2)
        assert proc.poll() is None, log.read_text()[-3000:]
        assert reconnects >= 4, "ingest stopped retrying the unreachable stream"

        code, during, _ = _status(data_dir)
        assert code == 0
        stages = {row["stage"]: row for row in during["stages"]}  # type: ignore[attr-defined]
        assert set(stages) == STAGES
        assert stages["ingest"]["state"] == "running"
        assert "stream unreachable" in stages["ingest"]["error"]
        assert "Connection refused" in stages["ingest"]["error"]
        errors = {s: stages[s]["error"] for s in STAGES - {"ingest"} if stages[s]["error"]}
        assert errors == {}, log.read_text()[-3000:]

        # a second run on the same data dir (any mode) refuses at once, naming the first
        for extra in ([], ["--once"]):
            began = time.monotonic()
            second = subprocess.run(
                cli_command(data_dir, "run", *extra),
                env=env,
                capture_output=True,
                text=True,
                timeout=120,
            )
            assert second.returncode == 1, second.stderr
            assert f"another `wikistream run` (pid {proc.pid}) is running" in second.stderr
            assert time.monotonic() - began < 20  # not after waiting for every stage lock
        assert read_all_status(data_dir)["ingest"].pid in {
            c.pid for c in psutil.Process(proc.pid).children()
        }
    finally:
        proc.send_signal(signal.SIGINT)
        code = proc.wait(timeout=60)
    assert code == 0, log.read_text()[-3000:]
    text = log.read_text()
    unreachable = [line for line in text.splitlines() if "WARNING" in line and "reach" in line]
    assert len(unreachable) == 1, unreachable  # one clear line, not one per retry
    assert "http://127.0.0.1:9/" in unreachable[0]
    assert "wikistream generate" in unreachable[0]  # and what to do when offline
    assert "Traceback" not in text

    code, after, _ = _status(data_dir)
    assert code == 0
    states = {row["stage"]: row["state"] for row in after["stages"]}  # type: ignore[attr-defined]
    assert states == dict.fromkeys(STAGES, "stopped")


def test_bad_flag_value_is_one_usage_error_not_a_traceback(tmp_path: Path) -> None:
    done = subprocess.run(
        cli_command(tmp_path, "status", "-o", "yaml"),
        env=cli_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert "Invalid value for '--output'" in done.stderr


def test_status_of_a_missing_data_dir_says_so_and_creates_nothing(tmp_path: Path) -> None:
    missing = tmp_path / "typo"
    code, body, stderr = _status(missing)
    assert code == 1
    assert f"data dir {missing} does not exist" in stderr
    assert body["tables"] == []
    assert not missing.exists()
