"""`wikistream query`, `wikistream report` and `wikistream serve` as a user runs them."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.serve.conftest import Lake, make_lake
from wikistream.cli.app import main

SRC = str(Path(__file__).resolve().parents[2] / "src")
ROOT = str(Path(__file__).resolve().parents[2])


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> Lake:
    return make_lake(tmp_path_factory.mktemp("cli") / "data")


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WIKISTREAM_")}
    env["PYTHONPATH"] = os.pathsep.join([SRC, ROOT])
    return env


@dataclass
class Done:
    """What a command printed and its exit code."""

    returncode: int
    stdout: str
    stderr: str


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Callable[..., Done]:
    """Run the real entry point in-process (a subprocess costs seconds of imports each)."""

    def run(lake: Lake, *args: str) -> Done:
        argv = ["wikistream", "--data-dir", str(lake.settings.data_dir), *args]
        monkeypatch.setattr(sys, "argv", argv)
        capsys.readouterr()
        code = 0
        try:
            main()
        except SystemExit as exc:
            code = int(exc.code or 0)
        out = capsys.readouterr()
        return Done(code, out.out, out.err)

    return run


def test_query_json_and_csv(lake: Lake, cli: Callable[..., Done]) -> None:
    sql = "SELECT entity_id, risk_score FROM gold.risk_scores ORDER BY risk_score DESC LIMIT 2"
    done = cli(lake, "query", sql, "--output", "json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == [
        {"entity_id": "203.0.113.66", "risk_score": 90.0},
        {"entity_id": "Vandal-Alpha", "risk_score": 80.0},
    ]
    csv = cli(lake, "query", sql, "-o", "csv")
    assert csv.stdout.splitlines()[:2] == ["entity_id,risk_score", "203.0.113.66,90.00"]


def test_query_table_output_names_the_snapshot(lake: Lake, cli: Callable[..., Done]) -> None:
    done = cli(lake, "query", "SELECT count(*) AS n FROM gold.daily_analytics_summary")
    assert done.returncode == 0, done.stderr
    assert "3" in done.stdout
    assert "gold.daily_analytics_summary@" in done.stderr


def test_refused_query_is_one_line_and_exit_code_1(lake: Lake, cli: Callable[..., Done]) -> None:
    done = cli(lake, "query", "COPY (SELECT 1) TO '/tmp/x.csv'")
    assert done.returncode == 1
    assert done.stderr.strip().startswith("error: COPY statements are not allowed")
    assert "Traceback" not in done.stderr
    bad_as_of = cli(lake, "query", "SELECT 1", "--as-of", "soon")
    assert bad_as_of.returncode == 1
    assert "neither a snapshot id nor" in bad_as_of.stderr


def test_report_writes_a_self_contained_file(
    lake: Lake, tmp_path: Path, cli: Callable[..., Done]
) -> None:
    out = tmp_path / "report.html"
    done = cli(lake, "report", "--out", str(out), "--output", "json")
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["report"] == str(out)
    html = out.read_text()
    assert summary["bytes"] == len(html.encode())
    assert 'src="/static' not in html
    assert "Chart.js v4" in html
    assert "Vandal-Alpha" in html
    missing_dir = cli(lake, "report", "--out", str(tmp_path / "nope" / "r.html"))
    assert missing_dir.returncode == 1
    assert "does not exist" in missing_dir.stderr


@pytest.fixture
def served(lake: Lake) -> Iterator[tuple[subprocess.Popen[str], str]]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "wikistream", "--data-dir", str(lake.settings.data_dir),
         "serve", "--port", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env(),
    )  # fmt: skip
    assert proc.stdout is not None
    line = proc.stdout.readline()
    url = line.split(" on ", 1)[1].split(" ", 1)[0]
    yield proc, url
    if proc.poll() is None:
        proc.kill()
        proc.wait()


def test_serve_starts_on_loopback_and_stops_on_ctrl_c(
    served: tuple[subprocess.Popen[str], str],
) -> None:
    proc, url = served
    assert url.startswith("http://127.0.0.1:")
    assert httpx.get(url + "api/health", timeout=10).json() == {"status": "ok"}
    proc.send_signal(signal.SIGINT)
    deadline = time.monotonic() + 15
    while proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.1)
    if proc.returncode is None:  # say why: signal dispositions and what the server logged
        status = Path(f"/proc/{proc.pid}/status").read_text(encoding="utf-8")
        signals = [line for line in status.splitlines() if line.startswith(("Sig", "State"))]
        proc.kill()
        _, err = proc.communicate(timeout=10)
        raise AssertionError(f"still running 15 s after SIGINT: {signals}\n{err[-3000:]}")
    assert proc.returncode == 0
    assert proc.stdout is not None
    assert "stopping the dashboard" in proc.stdout.read()


def test_serve_refuses_public_address_without_token(lake: Lake, cli: Callable[..., Done]) -> None:
    done = cli(lake, "serve", "--host", "0.0.0.0", "--port", "0")
    assert done.returncode == 1
    assert "without a token" in done.stderr
