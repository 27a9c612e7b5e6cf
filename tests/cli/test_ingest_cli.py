"""`wikistream ingest`, `log stats` and `dlq show` through the real command line."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any, ClassVar

import pytest
from typer.testing import CliRunner

from tests.ingest.events import SAMPLE_2026, EventFactory, base_event, dumps
from wikistream.cli import commands
from wikistream.cli.app import app
from wikistream.eventlog.sqlite import SqliteEventLog
from wikistream.ingest.source import SourceStatus, SseEvent

SRC = Path(__file__).resolve().parents[2] / "src"
runner = CliRunner()


@pytest.fixture(scope="module", autouse=True)
def _commands() -> None:
    if not any(c.name == "ingest" for c in app.registered_commands):
        commands.register(app)


def _cli(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.output


@pytest.mark.parametrize("args", [["ingest"], ["log"], ["log", "stats"], ["dlq"], ["dlq", "show"]])
def test_every_command_has_help(args: list[str]) -> None:
    code, out = _cli(*args, "--help")
    assert code == 0
    assert "Usage" in out


def _feed(tmp_path: Path, shared_data: Path) -> Path:
    factory = EventFactory(base_event(shared_data))
    first = dumps(factory.make())
    canary = factory.make(domain="canary")  # offsets rise in file order, as upstream
    lines = [
        first,
        "not json at all",
        dumps({"$schema": canary["$schema"], "meta": canary["meta"]}),
        dumps({**factory.make(), "bot": "yes"}),
        dumps(factory.make(domain="commons.wikimedia.org")),
    ]
    path = tmp_path / "feed.jsonl"
    path.write_text("\n".join(lines) + "\n" + (shared_data / SAMPLE_2026).read_text("utf-8"))
    return path


def test_ingest_then_log_stats_and_dlq_show(tmp_path: Path, shared_data: Path) -> None:
    data = str(tmp_path / "data")
    code, out = _cli(
        "--data-dir",
        data,
        "ingest",
        "--replay",
        str(_feed(tmp_path, shared_data)),
        "--speed",
        "max",
        "--once",
        "--output",
        "json",
    )
    assert code == 0, out
    summary = json.loads(out)
    assert summary["run"] == {
        "received": 55,
        "appended": 26,
        "dead_lettered": 2,
        "filtered": 26,
        "canary": 1,
        "duplicates": 0,
    }
    log = SqliteEventLog(tmp_path / "data" / "eventlog.db")
    log.commit("bronze", "raw-events", {0: 9})
    log.close()

    code, out = _cli("--data-dir", data, "log", "stats", "--output", "json")
    assert code == 0, out
    stats = json.loads(out)
    topics = {t["topic"]: t for t in stats["topics"]}
    assert topics["raw-events"]["records"] == 26
    assert topics["dlq-events"]["records"] == 2
    assert stats["groups"] == [
        {
            **stats["groups"][0],
            "group": "bronze",
            "topic": "raw-events",
            "committed": 9,
            "head": 25,
            "lag": 16,
        }
    ]
    assert stats["ingest"]["counters"] == summary["total"]
    assert stats["ingest"]["balanced"] is True
    assert stats["ingest"]["resume_ids"] == {"replay:feed.jsonl": summary["resume_id"]}
    assert stats["canary"]["count"] == 1
    assert stats["canary"]["age_s"] >= 0
    hours = {(r["hour"], r["topic"]) for r in stats["coverage"]}
    assert ("2026-02-26T15", "codfw.mediawiki.recentchange") in hours

    code, out = _cli("--data-dir", data, "dlq", "show", "--limit", "5", "--output", "json")
    assert code == 0, out
    rows = json.loads(out)
    assert [r["error_type"] for r in rows] == ["wrong_type", "invalid_json"]  # newest first
    assert rows[1]["preview"] == "not json at all"
    assert json.loads(rows[0]["sse_id"])[0]["offset"] == 4
    code, out = _cli("--data-dir", data, "dlq", "show", "--limit", "1", "--output", "json")
    assert [r["error_type"] for r in json.loads(out)] == ["wrong_type"]

    for args in (["log", "stats"], ["dlq", "show"]):  # the human-readable tables render too
        code, out = _cli("--data-dir", data, *args)
        assert code == 0
        assert "raw-events" in out or "wrong_type" in out


def test_log_stats_on_an_empty_data_dir(tmp_path: Path) -> None:
    code, out = _cli("--data-dir", str(tmp_path / "empty"), "log", "stats", "--output", "json")
    assert code == 0, out
    stats = json.loads(out)
    assert stats["ingest"]["counters"]["received"] == 0
    assert stats["coverage"] == []


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    return subprocess.run(
        [sys.executable, "-m", "wikistream", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_bad_options_are_one_line_errors(tmp_path: Path) -> None:
    feed = tmp_path / "f.jsonl"
    feed.write_text("{}\n")
    cases = [
        (["ingest", "--replay", str(feed), "--since", "2h"], "--since applies to the live"),
        (["ingest", "--once"], "--once applies to --replay"),
        (["ingest", "--replay", str(tmp_path / "missing.jsonl")], "does not exist"),
        (["ingest", "--replay", str(feed), "--speed", "fast"], "--speed 'fast' is not valid"),
    ]
    for args, message in cases:
        done = _run("--data-dir", str(tmp_path / "d"), *args)
        assert done.returncode == 1, (args, done.stderr)
        assert message in done.stderr
        assert "Traceback" not in done.stderr


def test_a_second_ingest_on_the_same_data_dir_is_refused(tmp_path: Path) -> None:
    feed = tmp_path / "f.jsonl"
    feed.write_text("")
    data_dir = tmp_path / "d"
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    args = ["--data-dir", str(data_dir), "ingest", "--replay", str(feed), "--speed", "max"]
    first = subprocess.Popen(
        [sys.executable, "-m", "wikistream", *args],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        lock = data_dir / "ingest.lock"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not (lock.exists() and lock.read_text().strip()):
            time.sleep(0.05)
        second = _run(*args, "--once")
        assert second.returncode == 1
        assert f"another `wikistream ingest` (pid {first.pid})" in second.stderr
    finally:
        first.send_signal(signal.SIGTERM)
        first.wait(timeout=10)
    assert first.returncode == 0
    assert _run(*args, "--once").returncode == 0  # free again once the first one stopped


class _FakeSseSource:
    """Stands in for the live SSE client (the public internet is out of reach in tests)."""

    made: ClassVar[list[dict[str, Any]]] = []

    def __init__(self, cfg: Any, since: Any = None) -> None:
        self.status = SourceStatus()
        self.made.append({"cfg": cfg, "since": since, "resume": []})

    def events(self, resume_id: str | None, stop: Any) -> Iterator[SseEvent | None]:
        self.made[-1]["resume"].append(resume_id)
        yield SseEvent(data=_FakeSseSource.line, id=f"live-{len(self.made)}")

    line = ""


def test_live_ingest_resumes_with_the_stored_id_and_since_overrides_it(
    tmp_path: Path, shared_data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    since_calls: list[tuple[str, float]] = []

    def parse_since(text: str, retention_days: float) -> datetime:
        since_calls.append((text, retention_days))
        return datetime(2026, 2, 26, 13, tzinfo=UTC)

    monkeypatch.setitem(
        sys.modules, "wikistream.ingest.sse_source", SimpleNamespace(SseSource=_FakeSseSource)
    )
    monkeypatch.setitem(
        sys.modules, "wikistream.ingest.since", SimpleNamespace(parse_since=parse_since)
    )
    factory = EventFactory(base_event(shared_data))
    _FakeSseSource.made.clear()
    data = str(tmp_path / "d")
    _FakeSseSource.line = dumps(factory.make())
    code, out = _cli("--data-dir", data, "ingest", "--output", "json")
    assert code == 0, out
    _FakeSseSource.line = dumps(factory.make())
    code, out = _cli("--data-dir", data, "ingest", "--output", "json")
    assert code == 0, out
    _FakeSseSource.line = dumps(factory.make())
    code, out = _cli("--data-dir", data, "ingest", "--since", "2h", "--output", "json")
    assert code == 0, out
    assert [m["resume"] for m in _FakeSseSource.made] == [[None], ["live-1"], [None]]
    assert [m["since"] for m in _FakeSseSource.made][2] == datetime(2026, 2, 26, 13, tzinfo=UTC)
    assert since_calls == [("2h", 7.0)]
    assert json.loads(out)["total"]["appended"] == 3
