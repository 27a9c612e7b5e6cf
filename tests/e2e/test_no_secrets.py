"""Acceptance 4: credentials never appear in output, logs, status files or the lake.

Every scale process holds fake credentials: the AWS keys it signs S3 and REST requests with, a
SASL password, a webhook token, an SMTP password and a dashboard token (see
:mod:`tests.e2e.scale`). Commands run with ``-v`` (debug logs of botocore, urllib3, pyiceberg,
librdkafka), with ``--output json``, on success and on error paths; then stdout, stderr, every
file the runs left in their data dirs, the Iceberg metadata and the Kafka checkpoint are searched
for each secret value.
"""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from tests.e2e.scale import (
    SASL_PASSWORD,
    SERVE_TOKEN,
    WEBHOOK_TOKEN,
    Captured,
    ScaleRun,
    clean_env,
)
from tests.e2e.secrets_scan import find_secrets, lake_metadata_text, scan_files
from tests.services.ports import free_port
from wikistream.eventlog.registry import open_event_log
from wikistream.lake.catalog import open_catalog
from wikistream.settings import load_settings

pytestmark = [pytest.mark.integration, pytest.mark.kafka, pytest.mark.slow]

WRONG_SECRET = "fake-wrong-Secret-k3yQ0p"  # a rejected key must not be printed either
KAFKA = ("--log", "kafka")


@dataclass(frozen=True)
class Case:
    """A command of the lake or ingest process and what it must answer."""

    name: str
    args: tuple[str, ...]
    code: int = 0
    says: str = ""  # text expected in stdout/stderr
    env: dict[str, str] = field(default_factory=dict)
    data_dir: str = "lake"


def _cases() -> list[Case]:
    dead_port = str(free_port())
    return [
        Case("status", ("status", "-o", "json"), says='"tables"'),
        Case("tables", ("tables", "-o", "json"), says="bronze.raw_events"),
        Case("log stats", ("log", "stats", "-o", "json"), says='"group": "wikistream-bronze"'),
        Case("catalog show", ("catalog", "show", "-o", "json"), says="**********"),
        Case("catalog check", ("catalog", "check", "-o", "json"), says='"ok": true'),
        Case("alert sinks", ("alert", "sinks", "-o", "json"), says="webhook"),
        Case("dq runs", ("dq", "runs", "-o", "json"), says="PASSED"),
        Case("alert test (sinks down)", ("alert", "test", "-o", "json"), 1, "not delivered"),
        Case(
            "ingest, Kafka unreachable",
            ("ingest", *KAFKA, "--replay", "REPLAY", "--speed", "max", "--once", "-o", "json"),
            1,
            "check that the broker is up",
            {
                "WIKISTREAM_LOG__KAFKA__BOOTSTRAP_SERVERS": f"127.0.0.1:{dead_port}",
                "WIKISTREAM_LOG__KAFKA__REQUEST_TIMEOUT_S": "2",
            },
            data_dir="ingest-error",
        ),
        Case(
            "ingest, SASL refused",
            ("ingest", *KAFKA, "--replay", "REPLAY", "--speed", "max", "--once", "-o", "json"),
            1,
            "Kafka",
            {
                "WIKISTREAM_LOG__KAFKA__SECURITY_PROTOCOL": "SASL_PLAINTEXT",
                "WIKISTREAM_LOG__KAFKA__SASL_MECHANISM": "PLAIN",
                "WIKISTREAM_LOG__KAFKA__REQUEST_TIMEOUT_S": "2",
            },
            data_dir="ingest-error",
        ),
        Case(
            "run, REST catalog unreachable",
            ("run", *KAFKA, "--stages", "bronze,silver,gold,dq", "--once", "-o", "json"),
            1,
            "cannot reach the service",
            {"WIKISTREAM_LAKE__CATALOG__URI": f"http://127.0.0.1:{dead_port}"},
        ),
        Case(
            "run, wrong secret key",
            ("run", *KAFKA, "--stages", "bronze,silver,gold,dq", "--once", "-o", "json"),
            1,
            "credentials were rejected",
            {
                "WIKISTREAM_LAKE__S3__SECRET_ACCESS_KEY": WRONG_SECRET,
                "AWS_SECRET_ACCESS_KEY": WRONG_SECRET,
            },
        ),
    ]


CASES = _cases()


def _secrets(run: ScaleRun) -> dict[str, str]:
    return {**run.secrets, "rejected secret key": WRONG_SECRET}


def _assert_clean(captured: Captured, run: ScaleRun) -> None:
    leaked = find_secrets(captured.stdout + captured.stderr, _secrets(run))
    assert not leaked, f"{leaked} printed by `wikistream {' '.join(captured.args)}`"


def test_the_runs_themselves_print_no_secret(scale_run: ScaleRun) -> None:
    assert len(scale_run.commands) >= 3  # embedded run, ingest, lake run
    for captured in scale_run.commands:
        _assert_clean(captured, scale_run)
    # -v was on: the debug logs of the signing libraries were really there to leak
    assert any("botocore" in c.stderr for c in scale_run.commands)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_command_prints_no_secret(case: Case, scale_run: ScaleRun) -> None:
    args = tuple(str(scale_run.replay_file) if a == "REPLAY" else a for a in case.args)
    env = {"WIKISTREAM_LOG__BACKEND": "kafka", **case.env}
    captured = scale_run.scale(scale_run.root / case.data_dir, *args, **env)
    assert captured.returncode == case.code, captured.describe()
    assert case.says in captured.stdout + captured.stderr, captured.describe()
    if "-o" in args and captured.stdout.strip():
        captured.json()  # --output json stays parseable, errors go to stderr
    _assert_clean(captured, scale_run)


@pytest.fixture(scope="module")
def continuous(scale_run: ScaleRun) -> Iterator[Captured]:
    """`wikistream -v run --log kafka --stages bronze,silver,gold,dq` for a while, then SIGTERM.

    While it runs, /metrics and the dashboard API are read; their bodies become its stdout.
    """
    err_path = scale_run.root / "continuous.err"
    args = ("-v", "run", *KAFKA, "--stages", "bronze,silver,gold,dq")
    with err_path.open("w") as err:
        process = subprocess.Popen(
            [sys.executable, "-m", "wikistream", "--data-dir", str(scale_run.lake_dir), *args],
            stdout=subprocess.DEVNULL,
            stderr=err,
            env=clean_env(scale_run.scale_env()),
        )
    try:
        urls = _wait_for_stages(process, err_path, scale_run.lake_dir)
        bodies = [_fetch(url) for url in urls]
    finally:
        process.send_signal(signal.SIGTERM)
        code = process.wait(timeout=60)
    captured = Captured(args, code, "\n".join(bodies), err_path.read_text(errors="replace"))
    scale_run.commands.append(captured)
    return captured


def _wait_for_stages(process: subprocess.Popen[bytes], err: Path, data_dir: Path) -> list[str]:
    """Wait until both stages report running; return the metrics and dashboard API URLs."""
    deadline = time.monotonic() + 120
    run_dir = data_dir / "run"
    while time.monotonic() < deadline:
        assert process.poll() is None, err.read_text()[-3000:]
        banner = re.search(r"metrics (http\S+), dashboard (http\S+?)/?$", err.read_text(), re.M)
        states = {}
        for stage in ("bronze", "refine"):
            path = run_dir / f"{stage}.status.json"
            states[stage] = json.loads(path.read_text())["state"] if path.exists() else None
        if banner and all(s in {"running", "idle"} for s in states.values()):
            dashboard = banner[2]
            return [banner[1], f"{dashboard}/api/pipeline", f"{dashboard}/api/meta"]
        time.sleep(0.5)
    raise AssertionError(f"stages did not start: {err.read_text()[-3000:]}")


def _fetch(url: str) -> str:
    headers = {} if url.endswith("/metrics") else {"Authorization": f"Bearer {SERVE_TOKEN}"}
    response = httpx.get(url, headers=headers, timeout=30)
    assert response.status_code == 200, (url, response.status_code)
    return response.text


def test_continuous_run_and_its_endpoints_print_no_secret(
    continuous: Captured, scale_run: ScaleRun
) -> None:
    assert continuous.returncode == 0, continuous.describe()
    assert "wikistream_" in continuous.stdout  # the metrics were really read
    assert " DEBUG " in continuous.stderr
    # `--log kafka` reached the worker processes: none of them opened a SQLite log
    assert not (scale_run.lake_dir / "eventlog.db").exists()
    _assert_clean(continuous, scale_run)


def test_no_file_of_any_process_holds_a_secret(continuous: Captured, scale_run: ScaleRun) -> None:
    config = scale_run.lake_dir / "wikistream.toml"
    # The settings file is where the credentials come from: the scanner must find them there.
    assert "SMTP password" in scan_files([scale_run.lake_dir], scale_run.secrets)[str(config)]
    status_files = list((scale_run.lake_dir / "run").glob("*.status.json"))
    assert {p.name for p in status_files} >= {"bronze.status.json", "refine.status.json"}
    leaked = scan_files([scale_run.root], _secrets(scale_run), skip=[config])
    assert not leaked, leaked


def test_lake_metadata_and_kafka_checkpoint_hold_no_secret(
    scale_run: ScaleRun, monkeypatch: pytest.MonkeyPatch
) -> None:
    for key, value in scale_run.scale_env().items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("WIKISTREAM_LOG__BACKEND", "kafka")
    settings = load_settings(overrides={"data_dir": scale_run.lake_dir})
    metadata = lake_metadata_text(open_catalog(settings))
    assert "bronze" in metadata
    assert not find_secrets(metadata, _secrets(scale_run))
    log = open_event_log(settings, readonly=True)
    try:
        checkpoint = json.dumps(log.load_checkpoint("ingest"))
    finally:
        log.close()
    assert "appended" in checkpoint
    assert not find_secrets(checkpoint, _secrets(scale_run))
    assert SASL_PASSWORD not in checkpoint
    assert WEBHOOK_TOKEN not in metadata
