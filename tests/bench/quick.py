"""Run one benchmark as an operator does (`python -m bench NAME --quick`), read its JSON."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]


def run_quick_bench(name: str, tmp_path: Path, *, timeout: float) -> tuple[str, dict[str, Any]]:
    """Run the bench in a fresh process (results and cache under ``tmp_path``); fail the test
    when it exits non-zero. Returns its stdout and ``results/<name>.json``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("WIKISTREAM_")}
    env["PYTHONPATH"] = f"{REPO / 'src'}{os.pathsep}{REPO}"
    result = subprocess.run(
        [sys.executable, "-m", "bench", name, "--quick",
         "--results-dir", str(tmp_path / "results"), "--cache-dir", str(tmp_path / "cache")],
        capture_output=True, text=True, env=env, cwd=REPO, timeout=timeout, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    payload = json.loads((tmp_path / "results" / f"{name}.json").read_text())
    return result.stdout, payload
