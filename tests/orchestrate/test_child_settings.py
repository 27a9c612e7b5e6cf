"""Flags of `wikistream run` reach the worker processes it starts (real processes)."""

from __future__ import annotations

import json
import logging
import os
import time
from pathlib import Path

import pytest

from wikistream.cli.run_cmd import _hand_down
from wikistream.orchestrate.supervisor import Supervisor, WorkerSpec, child_log_flags
from wikistream.settings import load_settings

REPO = Path(__file__).resolve().parents[2]
PROBE = "tests.orchestrate.settings_probe:record_settings"


def _run_probe(data_dir: Path) -> dict[str, object]:
    settings = load_settings(overrides={"data_dir": data_dir})
    sup = Supervisor(settings, [WorkerSpec(PROBE)])
    sup.start()
    try:
        deadline = time.monotonic() + 60
        while not sup.all_done():
            assert time.monotonic() < deadline, "probe stage did not finish"
            sup.tick()
            time.sleep(0.1)
    finally:
        sup.stop()
    body: dict[str, object] = json.loads((data_dir / "probe.json").read_text())
    return body


def test_flags_and_config_file_reach_workers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv(
        "PYTHONPATH",
        os.pathsep.join([str(REPO / "src"), str(REPO), os.environ.get("PYTHONPATH", "")]),
    )
    config = tmp_path / "elsewhere.toml"  # not in the data dir: found only through --config
    config.write_text('[log.kafka]\nbootstrap_servers = "broker.internal:9092"\n')
    for name in ("WIKISTREAM_LOG__BACKEND", "WIKISTREAM_CONFIG"):
        monkeypatch.setenv(name, "")  # makes monkeypatch remove what _hand_down sets …
        monkeypatch.delenv(name)  # … after the test (delenv alone ignores absent variables)
    caplog.set_level(logging.DEBUG)  # as after `wikistream -v`

    _hand_down({"log": {"backend": "kafka"}}, config)

    assert os.environ["WIKISTREAM_CONFIG"] == str(config.resolve())
    probe = _run_probe(tmp_path / "data")
    assert probe == {"log_backend": "kafka", "bootstrap": "broker.internal:9092", "debug": True}


def test_workers_log_at_info_without_verbose(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    assert child_log_flags() == []
    caplog.set_level(logging.DEBUG)
    assert child_log_flags() == ["-v"]
