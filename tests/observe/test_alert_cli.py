"""`wikistream alert ...` as a subprocess, configured only through WIKISTREAM_* variables."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.observe.test_sink_webhook import TOKEN
from tests.webhook_receiver import WebhookReceiver

SECRET = TOKEN.rsplit("/", 1)[1]


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    r = WebhookReceiver(f"/services/{TOKEN}")
    yield r
    r.close()


def cli(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("WIKISTREAM_")}
    environ.update(env)
    environ["PYTHONPATH"] = os.pathsep.join([str(REPO / "src"), environ.get("PYTHONPATH", "")])
    return subprocess.run(
        [sys.executable, "-m", "wikistream", "--data-dir", str(tmp_path), "alert", *args],
        capture_output=True,
        text=True,
        env=environ,
        timeout=60,
    )


def test_alert_test_delivers_through_env_configured_webhook(
    tmp_path: Path, receiver: WebhookReceiver
) -> None:
    done = cli(tmp_path, "test", "-o", "json", WIKISTREAM_OBSERVE__WEBHOOK_URL=receiver.url)
    assert done.returncode == 0, done.stderr
    rows = json.loads(done.stdout)
    assert rows == [
        {"sink": "log", "result": "delivered", "error": None},
        {"sink": "webhook", "result": "delivered", "error": None},
    ]
    (body,) = receiver.bodies
    assert body["wikistream"]["alert_type"] == "TEST"
    assert "HTTP Request: POST" in done.stderr  # httpx logged the request at INFO...
    assert SECRET not in done.stderr + done.stdout  # ...without the token


def test_alert_test_exits_1_when_a_sink_fails(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    done = cli(
        tmp_path,
        "test",
        "-o",
        "json",
        WIKISTREAM_OBSERVE__WEBHOOK_URL=f"http://127.0.0.1:{port}/services/{TOKEN}",
        WIKISTREAM_OBSERVE__WEBHOOK_BACKOFF_S="0",
    )
    assert done.returncode == 1
    assert "error: test alert not delivered by webhook (1 of 2 sinks)" in done.stderr
    rows = {row["sink"]: row for row in json.loads(done.stdout)}
    assert rows["log"]["result"] == "delivered"
    assert "ConnectError" in rows["webhook"]["error"]
    assert SECRET not in done.stderr + done.stdout


def test_alert_sinks_lists_targets_without_secrets(tmp_path: Path) -> None:
    done = cli(
        tmp_path,
        "sinks",
        "-o",
        "json",
        WIKISTREAM_OBSERVE__WEBHOOK_URL=f"https://hooks.example.org/services/{TOKEN}",
        WIKISTREAM_OBSERVE__SMTP_HOST="127.0.0.1",
        WIKISTREAM_OBSERVE__SMTP_TO='["oncall@example.org"]',
        WIKISTREAM_OBSERVE__SMTP_USERNAME="alerts",
        WIKISTREAM_OBSERVE__SMTP_PASSWORD="hunter2-password",
    )
    assert done.returncode == 0, done.stderr
    sinks = {row["sink"]: row["target"] for row in json.loads(done.stdout)}
    assert set(sinks) == {"log", "webhook", "email"}
    assert "hooks.example.org" in sinks["webhook"]
    assert SECRET not in done.stdout
    assert "hunter2-password" not in done.stdout + done.stderr


def test_alert_rules_lists_the_rule_set(tmp_path: Path) -> None:
    done = cli(tmp_path, "rules", "-o", "json", WIKISTREAM_OBSERVE__DLQ_ALERT_PER_MINUTE="25")
    assert done.returncode == 0, done.stderr
    rules = {row["rule"]: row for row in json.loads(done.stdout)}
    assert "per_minute=25" in rules["dlq_high_rate"]["settings"]
    assert len(rules) == 8
