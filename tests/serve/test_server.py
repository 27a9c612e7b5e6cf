"""The dashboard server over real HTTP on loopback: pages, JSON, the query API and its guards."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.serve.conftest import Lake
from tests.serve.test_query import ESCAPES, SLOW_SQL
from wikistream.errors import ConfigError
from wikistream.serve.server import ServerHandle, is_loopback, start_server
from wikistream.settings import load_settings


@pytest.fixture(scope="module")
def server(lake: Lake) -> Iterator[ServerHandle]:
    handle = start_server(lake.settings, port=0)
    yield handle
    handle.close()


@pytest.fixture
def client(server: ServerHandle) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=30) as c:
        yield c


def test_index_static_and_security_headers(client: httpx.Client) -> None:
    page = client.get("/")
    assert page.status_code == 200
    assert "<title>WikiStream</title>" in page.text
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert page.headers["x-content-type-options"] == "nosniff"
    chart = client.get("/static/vendor/chart.umd.js")
    assert chart.status_code == 200
    assert "Chart.js v4" in chart.text[:200]
    assert chart.headers["content-type"].startswith("text/javascript")
    assert client.get("/static/vendor/chart.js.LICENSE.md").status_code == 200
    assert client.get("/static/../server.py").status_code == 404
    assert client.get("/static/%2e%2e/server.py").status_code == 404
    assert client.get("/nope").status_code == 404


def test_page_json(client: httpx.Client, lake: Lake) -> None:
    assert client.get("/api/health").json() == {"status": "ok"}
    meta = client.get("/api/meta").json()
    assert {t["name"] for t in meta["tables"]} >= {"gold.hourly_stats", "bronze.raw_events"}
    assert client.get("/api/activity").json()["date"] == lake.planted.today
    risk = client.get("/api/risk", params={"date": lake.planted.today}).json()
    assert risk["users"][0]["entity_id"] == "203.0.113.66"
    assert client.get("/api/daily").json()["days"] == lake.planted.days
    pipe = client.get("/api/pipeline").json()
    assert pipe["log"]["dlq"]["last_hour"] == 3
    assert len(pipe["stages"]) == 3


def test_query_get_and_post(client: httpx.Client) -> None:
    sql = "SELECT entity_id FROM gold.risk_scores ORDER BY risk_score DESC LIMIT 2"
    got = client.get("/api/query", params={"sql": sql}).json()
    assert got["rows"] == [["203.0.113.66"], ["Vandal-Alpha"]]
    posted = client.post("/api/query", json={"sql": sql, "limit": 1})
    assert posted.status_code == 200
    assert posted.json()["rows"] == [["203.0.113.66"]]
    assert posted.json()["truncated"]


@pytest.mark.parametrize("sql", list(ESCAPES.values()), ids=list(ESCAPES))
def test_escapes_get_400_json_and_the_server_stays_up(client: httpx.Client, sql: str) -> None:
    response = client.post("/api/query", json={"sql": sql})
    assert response.status_code == 400
    body = response.json()
    assert body["kind"] == "refused"
    assert body["error"]
    assert client.get("/api/query", params={"sql": "SELECT 1 AS ok"}).json()["rows"] == [[1]]


def test_timeout_is_400_and_bad_requests_are_explained(client: httpx.Client) -> None:
    response = client.post("/api/query", json={"sql": SLOW_SQL})
    assert response.status_code == 400
    assert response.json()["kind"] == "timeout"
    assert client.post("/api/query", content=b"sql=SELECT 1").status_code == 415
    bad_json = client.post("/api/query", content=b"{", headers={"Content-Type": "application/json"})
    assert bad_json.status_code == 400
    assert "not JSON" in bad_json.json()["error"]
    assert client.post("/api/query", json=["SELECT 1"]).status_code == 400
    assert client.post("/api/query", json={"query": "SELECT 1"}).status_code == 400
    assert client.post("/api/query", json={"sql": "SELECT 1", "limit": "x"}).status_code == 400
    assert client.post("/api/pipeline", json={}).status_code == 405
    syntax = client.get("/api/query", params={"sql": "SELEC 1"})
    assert syntax.status_code == 400
    assert syntax.json()["kind"] == "query"
    assert client.get("/api/query", params={"sql": "SELECT 1"}).status_code == 200


def test_dns_rebinding_host_is_refused(client: httpx.Client) -> None:
    response = client.get("/api/meta", headers={"Host": "evil.example:8050"})
    assert response.status_code == 403
    assert client.get("/api/meta", headers={"Host": "localhost:1"}).status_code == 200


def test_token_is_required_when_set(lake: Lake, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="wikistream.serve.server")
    handle = start_server(lake.settings, port=0, token="s3cret-token")
    try:
        with httpx.Client(base_url=handle.url, timeout=30) as c:
            assert c.get("/api/health").status_code == 200
            assert c.get("/api/meta").status_code == 401
            assert c.get("/").status_code == 401
            assert c.get("/api/meta", headers={"Authorization": "Bearer wrong"}).status_code == 401
            ok = c.get("/api/meta", headers={"Authorization": "Bearer s3cret-token"})
            assert ok.status_code == 200
            page = c.get("/", params={"token": "s3cret-token"})
            assert page.status_code == 200
            assert "HttpOnly" in page.headers["set-cookie"]
            # the cookie set by the page authorizes the page's own API calls
            assert c.get("/api/meta").status_code == 200
    finally:
        handle.close()
    assert "token=***" in caplog.text
    assert "s3cret-token" not in caplog.text


def test_non_loopback_needs_a_token(tmp_path: Path) -> None:
    settings = load_settings(overrides={"data_dir": tmp_path / "data"})
    with pytest.raises(ConfigError, match="without a token"):
        start_server(settings, host="0.0.0.0", port=0)
    assert is_loopback("127.0.0.1")
    assert is_loopback("localhost")
    assert is_loopback("::1")
    assert not is_loopback("0.0.0.0")
    assert not is_loopback("192.168.1.5")


def test_port_in_use_is_a_clear_error(lake: Lake, server: ServerHandle) -> None:
    with pytest.raises(ConfigError, match=r"cannot listen on 127\.0\.0\.1"):
        start_server(lake.settings, port=server.port)


def test_the_lake_libraries_load_with_the_first_request_only(tmp_path: Path) -> None:
    """The supervisor of `wikistream run` serves the dashboard: unopened, it loads no lake libs."""
    code = """
import sys
import httpx
from wikistream.serve.server import start_server
from wikistream.settings import load_settings

heavy = ("pyarrow", "duckdb", "pyiceberg")
handle = start_server(load_settings(overrides={"data_dir": sys.argv[1]}), port=0)
before = [m for m in heavy if m in sys.modules]
page = httpx.get(handle.url + "/api/meta", timeout=60)
after = [m for m in heavy if m in sys.modules]
handle.close()
print(before, after, page.status_code)
"""
    repo = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(repo / "src"), str(repo)])}
    done = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path / "data")],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split("\n")[0] == "[] ['pyarrow', 'duckdb', 'pyiceberg'] 200"
