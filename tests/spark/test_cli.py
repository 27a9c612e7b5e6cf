"""`python -m wikistream.spark`: argument errors are refused before any JVM starts."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src"


def run(*args: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    env = {k: v for k, v in env.items() if not k.startswith("WIKISTREAM_")}
    return subprocess.run(
        [sys.executable, "-m", "wikistream.spark", "--data-dir", str(tmp_path), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["dq", "--layer", "silver", "--from", "2026-02-30"], "--from '2026-02-30' is not a date"),
        (["dq", "--layer", "gold", "--from", "2026-02-26", "--to", "2026-02-25"], "is after --to"),
    ],
)
def test_bad_dates_exit_2_with_the_option_named(
    tmp_path: Path, args: list[str], message: str
) -> None:
    done = run(*args, tmp_path=tmp_path)
    assert done.returncode == 2
    assert message in done.stderr


def test_unknown_layer_is_a_usage_error(tmp_path: Path) -> None:
    done = run("dq", "--layer", "platinum", tmp_path=tmp_path)
    assert done.returncode == 2
    assert "invalid choice: 'platinum'" in done.stderr
