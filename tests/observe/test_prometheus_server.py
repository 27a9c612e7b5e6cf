"""A real Prometheus scrapes our /metrics, fires our rules, and accepts every dashboard query."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import REPO
from tests.observe.conftest import CheckResult
from wikistream.observe.metrics import PipelineMetrics
from wikistream.observe.server import MetricsServer, serve_metrics

PROMETHEUS = shutil.which("prometheus")
pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(
        PROMETHEUS is None, reason="prometheus not installed (apt install prometheus)"
    ),
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def scraped(tmp_path: Path) -> Iterator[tuple[PipelineMetrics, str]]:
    metrics = PipelineMetrics()
    server: MetricsServer = serve_metrics(metrics, "127.0.0.1", 0)
    port = free_port()
    config = tmp_path / "prometheus.yml"
    config.write_text(
        json.dumps(  # JSON is YAML
            {
                "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
                "rule_files": [str(REPO / "deploy" / "prometheus" / "alerts.yml")],
                "scrape_configs": [
                    {
                        "job_name": "wikistream",
                        "static_configs": [{"targets": [f"127.0.0.1:{server.port}"]}],
                    }
                ],
            }
        )
    )
    assert PROMETHEUS is not None
    process = subprocess.Popen(
        [
            PROMETHEUS,
            f"--config.file={config}",
            f"--storage.tsdb.path={tmp_path / 'tsdb'}",
            f"--web.listen-address=127.0.0.1:{port}",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield metrics, f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=15)
        server.close()


def wait_for(probe: Any, timeout_s: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            result = probe()
        except httpx.TransportError:
            result = None
        if result:
            return result
        time.sleep(0.3)
    raise AssertionError("condition not met in time")


def query(base: str, expr: str) -> dict[str, Any]:
    response = httpx.get(f"{base}/api/v1/query", params={"query": expr}, timeout=5)
    body: dict[str, Any] = response.json()
    return body


def test_prometheus_scrapes_fires_gate_alert_and_runs_dashboard_queries(
    scraped: tuple[PipelineMetrics, str],
) -> None:
    metrics, base = scraped
    # Until its TSDB is open Prometheus answers 503 with a plain-text body.
    wait_for(lambda: httpx.get(f"{base}/-/ready", timeout=5).status_code == 200)
    metrics.observe_ingest({"received": 10, "appended": 8})
    metrics.observe_gate(
        "bronze",
        "bronze.raw_events",
        False,
        [CheckResult("uniqueness_event_id", "uniqueness", "FAILED", 0.9, 0.95)],
        run_id="dq-prom",
    )

    def scraped_ingest() -> bool:
        result = query(base, "wikistream_ingest_events_appended_total")["data"]["result"]
        return bool(result) and result[0]["value"][1] == "8"

    wait_for(scraped_ingest)

    def gate_alert() -> list[dict[str, Any]]:
        alerts = httpx.get(f"{base}/api/v1/alerts", timeout=5).json()["data"]["alerts"]
        return [a for a in alerts if a["labels"]["alertname"] == "WikistreamDqGateFailed"]

    (alert,) = wait_for(gate_alert)
    assert alert["state"] == "firing"
    assert alert["labels"]["table"] == "bronze.raw_events"
    assert alert["annotations"]["summary"] == "DQ gate FAILED: bronze (bronze.raw_events)"

    dashboard = json.loads((REPO / "deploy" / "grafana" / "wikistream.json").read_text())
    for panel in dashboard["panels"]:
        for target in panel["targets"]:
            expr = target["expr"].replace("$__range", "1h").replace("$instance", ".*")
            body = query(base, expr)
            assert body["status"] == "success", (panel["title"], expr, body)
