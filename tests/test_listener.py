"""Bind failures of the metrics endpoint and the dashboard name the setting to change."""

from __future__ import annotations

import re
import socket
from pathlib import Path

import pytest

from wikistream.errors import ConfigError
from wikistream.listener import http_url
from wikistream.observe.metrics import PipelineMetrics
from wikistream.observe.server import serve_metrics
from wikistream.serve.server import start_server
from wikistream.settings import load_settings

NOT_HERE = "192.0.2.1"  # TEST-NET-1: never an address of this machine


def test_urls_bracket_ipv6_hosts() -> None:
    assert http_url("127.0.0.1", 8050) == "http://127.0.0.1:8050/"
    assert http_url("::1", 9108, "/metrics") == "http://[::1]:9108/metrics"


def test_an_address_this_machine_lacks_names_the_host_setting(tmp_path: Path) -> None:
    with pytest.raises(
        ConfigError, match=f"cannot listen on {re.escape(NOT_HERE)}:0 for metrics"
    ) as info:
        serve_metrics(PipelineMetrics(), NOT_HERE, 0)
    assert info.value.key == "observe.metrics_host"
    settings = load_settings(overrides={"data_dir": tmp_path / "data"})
    with pytest.raises(ConfigError, match=r"for the dashboard: .*check serve\.host") as info:
        start_server(settings, host=NOT_HERE, port=0, token="fake-token-for-test")
    assert info.value.key == "serve.host"


def test_a_port_in_use_names_the_port_setting(tmp_path: Path) -> None:
    settings = load_settings(overrides={"data_dir": tmp_path / "data"})
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(ConfigError, match=f"port {port} is already in use") as info:
            start_server(settings, port=port)
    assert info.value.key == "serve.port"
    assert "--port or serve.port" in str(info.value)
