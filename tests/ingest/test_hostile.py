"""≥ 30 hostile inputs: each is dead-lettered with a reason or dropped by rule; no crash."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from tests.ingest.events import EventFactory, ListSource, base_event, sse
from tests.ingest.hostile import HOSTILE, MAX_EVENT_BYTES, Case
from wikistream.eventlog.registry import open_event_log
from wikistream.ingest.checkpoint import CHECKPOINT_NAME
from wikistream.ingest.ingestor import Ingestor
from wikistream.settings import Settings, load_settings

SRC = Path(__file__).resolve().parents[2] / "src"


def _settings(tmp_path: Path) -> Settings:
    return load_settings(
        overrides={"data_dir": tmp_path / "data", "ingest": {"max_event_bytes": MAX_EVENT_BYTES}}
    )


def _outcome(before: dict[str, int], after: dict[str, int]) -> str:
    changed = {k for k in after if after[k] != before[k] and k != "received"}
    if not changed and after["received"] == before["received"]:
        return "skipped"
    assert after["received"] == before["received"] + 1
    assert len(changed) == 1, changed
    return {
        "appended": "appended",
        "filtered": "filtered",
        "canary": "canary",
        "duplicates": "duplicate",
        "dead_lettered": "dlq",
    }[changed.pop()]


@pytest.mark.parametrize("case", HOSTILE, ids=[c[0] for c in HOSTILE])
def test_hostile_input_has_its_expected_outcome(
    case: Case, tmp_path: Path, shared_data: Path
) -> None:
    name, build, expected = case
    settings = _settings(tmp_path)
    log = open_event_log(settings)
    ingestor = Ingestor(settings, log)
    data = build(EventFactory(base_event(shared_data)))
    before = ingestor.counters.as_dict()
    ingestor.run(ListSource([sse(data, 1)]), threading.Event())
    outcome = _outcome(before, ingestor.counters.as_dict())
    assert ingestor.counters.balanced()
    if expected.startswith("dlq:"):
        assert outcome == "dlq", f"{name}: got {outcome}"
        (record,) = log.read(settings.log.dlq_topic, {}, 10)
        body = json.loads(record.value)
        assert body["error_type"] == expected[4:], body["error"]
        assert body["error"], "a DLQ record says why"
        assert body["sse_id"] is not None
        assert body["received_at"].endswith("Z")
        assert body["raw_bytes"] >= min(len(data), 1)
        assert len(body["raw_payload"].encode("utf-8")) <= settings.ingest.dlq_payload_bytes
    else:
        assert outcome == expected, f"{name}: got {outcome}"
        assert log.read(settings.log.dlq_topic, {}, 10) == []
    raw = log.read(settings.log.raw_topic, {}, 10)
    assert len(raw) == (1 if expected == "appended" else 0)
    log.close()


def test_seed_messages_are_kept(tmp_path: Path, shared_data: Path) -> None:
    settings = _settings(tmp_path)
    log = open_event_log(settings)
    factory = EventFactory(base_event(shared_data))
    texts = []
    for key in ("meta", "type"):
        event = factory.make()
        del event[key]
        texts.append(json.dumps(event))
    event = factory.make()
    event["meta"] = "x"
    texts.append(json.dumps(event))
    for key in ("id", "domain", "dt"):
        event = factory.make()
        del event["meta"][key]
        texts.append(json.dumps(event))
    Ingestor(settings, log).run(ListSource([sse(t) for t in texts]), threading.Event())
    errors = [json.loads(r.value)["error"] for r in log.read(settings.log.dlq_topic, {}, 10)]
    assert errors == [
        "Missing required field: meta",
        "Missing required field: type",
        "meta field is not a dictionary",
        "Missing meta.id",
        "Missing meta.domain",
        "Missing meta.dt",
    ]


def test_all_hostile_lines_through_the_cli_add_up(tmp_path: Path, shared_data: Path) -> None:
    factory = EventFactory(base_event(shared_data))
    lines = [build(factory) for _, build, _ in HOSTILE]
    path = tmp_path / "hostile.jsonl"
    path.write_bytes(b"\n".join(line.encode("utf-8", "surrogateescape") for line in lines) + b"\n")
    env = {
        **os.environ,
        "PYTHONPATH": str(SRC),
        "WIKISTREAM_INGEST__MAX_EVENT_BYTES": str(MAX_EVENT_BYTES),
    }
    data_dir = tmp_path / "data"
    cmd = [
        sys.executable,
        "-m",
        "wikistream",
        "--data-dir",
        str(data_dir),
        "ingest",
        "--replay",
        str(path),
        "--speed",
        "max",
        "--once",
        "--output",
        "json",
    ]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    total = summary["total"]
    expected = [e for _, _, e in HOSTILE]
    assert total["received"] == len(expected) - expected.count("skipped")
    assert total["dead_lettered"] == sum(e.startswith("dlq:") for e in expected)
    assert total["appended"] == expected.count("appended")
    assert total["filtered"] == expected.count("filtered")
    assert total["canary"] == expected.count("canary")
    assert total["received"] == (
        total["appended"]
        + total["dead_lettered"]
        + total["filtered"]
        + total["canary"]
        + total["duplicates"]
    )
    assert summary["balanced"] is True
    settings = load_settings(overrides={"data_dir": data_dir})
    log = open_event_log(settings, readonly=True)
    dlq = [json.loads(r.value)["error_type"] for r in log.read("dlq-events", {}, 1000)]
    assert dlq == [e[4:] for e in expected if e.startswith("dlq:")]
    checkpoint = log.load_checkpoint(CHECKPOINT_NAME)
    assert checkpoint is not None
    assert checkpoint["counters"] == total
