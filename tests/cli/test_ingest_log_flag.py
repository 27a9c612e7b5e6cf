"""`wikistream ingest --log kafka|sqlite`: the ingest process of the production layout."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src"


def _ingest(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    replay = tmp_path / "empty.jsonl"
    replay.write_text("")
    env = {k: v for k, v in os.environ.items() if not k.startswith("WIKISTREAM_")}
    env["PYTHONPATH"] = os.pathsep.join([str(SRC), env.get("PYTHONPATH", "")])
    cmd = [sys.executable, "-m", "wikistream", "--data-dir", str(tmp_path / "data"), "ingest"]
    return subprocess.run(
        [*cmd, *args, "--replay", str(replay), "--once"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize(
    ("backend", "message"),
    [
        ("kafka", "WIKISTREAM_LOG__KAFKA__BOOTSTRAP_SERVERS"),  # chosen, but not configured
        ("nope", "invalid setting 'log.backend'"),
    ],
)
def test_log_flag_selects_the_backend(tmp_path: Path, backend: str, message: str) -> None:
    done = _ingest(tmp_path, "--log", backend)
    assert done.returncode == 1
    assert message in done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "data" / "eventlog.db").exists()


def test_sqlite_is_the_default(tmp_path: Path) -> None:
    done = _ingest(tmp_path)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "data" / "eventlog.db").exists()
