"""Acceptance: SIGKILL at ≥ 10 random moments during a replay loses and duplicates nothing."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.ingest.events import SAMPLE_2018, SAMPLE_2023, SAMPLE_2026, dumps, real_events
from wikistream.eventlog.sqlite import SqliteEventLog
from wikistream.ingest.config import SEED_TARGET_DOMAINS

SRC = Path(__file__).resolve().parents[2] / "src"
LINES = 40_000


def _build_feed(shared_data: Path, path: Path, rng: random.Random) -> tuple[list[str], int, int]:
    """Write a replay file; return the expected raw meta.ids in order, DLQ count, received."""
    pool = (
        real_events(shared_data, SAMPLE_2023)
        + real_events(shared_data, SAMPLE_2026)
        + real_events(shared_data, SAMPLE_2018)[:300]
    )
    expected: list[str] = []
    dead = received = 0
    offset = 5_000_000_000
    lines: list[str] = []
    for n in range(LINES):
        roll = rng.random()
        if roll < 0.02 and lines:
            line = rng.choice(lines[-50:])  # a redelivery (identical text: same offset)
            if line.strip():
                received += 1
            if line == "{not json":  # no offset, no meta.id: nothing to recognise it by
                dead += 1
            lines.append(line)
            continue
        if roll < 0.03:
            lines.append("")
            continue
        offset += 1
        event = json.loads(json.dumps(rng.choice(pool)))
        event.pop("$schema", None) if event["meta"].get("schema_uri") else None
        event["meta"].update(
            id=f"kill-{n:06d}",
            topic="eqiad.mediawiki.recentchange",
            partition=0,
            offset=offset,
            dt=f"2026-02-26T{(n * 24) // LINES:02d}:00:00Z",
        )
        received += 1
        if roll < 0.06:
            event["namespace"] = "not a number"
            dead += 1
        elif roll < 0.07:
            event = {
                "$schema": "/mediawiki/recentchange/1.0.0",
                "meta": {**event["meta"], "domain": "canary"},
            }
        elif roll < 0.075:
            lines.append("{not json")
            dead += 1
            continue
        elif event["meta"]["domain"] in SEED_TARGET_DOMAINS:
            expected.append(event["meta"]["id"])
        lines.append(dumps(event))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return expected, dead, received


def _progress(db: Path) -> int:
    if not db.exists():
        return 0
    log = SqliteEventLog(db, readonly=True)
    try:
        body = log.load_checkpoint("ingest")
    except Exception:  # the schema may not exist yet if the first run died during startup
        return 0
    finally:
        log.close()
    return 0 if body is None else int(body["counters"]["received"])


@pytest.mark.slow
def test_sigkill_at_random_moments_loses_and_duplicates_nothing(
    tmp_path: Path, shared_data: Path
) -> None:
    rng = random.Random(20260226)
    feed = tmp_path / "feed.jsonl"
    expected, dead, received = _build_feed(shared_data, feed, rng)
    data_dir = tmp_path / "data"
    db = data_dir / "eventlog.db"
    env = {**os.environ, "PYTHONPATH": str(SRC), "WIKISTREAM_INGEST__FLUSH_EVENTS": "500"}
    cmd = [
        sys.executable,
        "-m",
        "wikistream",
        "--data-dir",
        str(data_dir),
        "ingest",
        "--replay",
        str(feed),
        "--speed",
        "max",
        "--once",
        "--output",
        "json",
    ]
    # Kill points: two during start-up, then at random fractions of the file (polled through
    # the checkpoint, so each kill lands mid-run), each delayed by a random 0-80 ms so it hits
    # any moment between two appends.
    targets = [None, None, *sorted(rng.uniform(0.02, 0.95) * received for _ in range(10))]
    kills = mid_run_kills = 0
    for target in targets:
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        if target is None:
            time.sleep(rng.uniform(0.05, 0.6))
        else:
            deadline = time.monotonic() + 60
            while _progress(db) < target and proc.poll() is None and time.monotonic() < deadline:
                time.sleep(0.01)
            time.sleep(rng.uniform(0.0, 0.08))
        if proc.poll() is not None:
            assert proc.returncode == 0, proc.stderr.read() if proc.stderr else b""
            break
        before = _progress(db)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        kills += 1
        mid_run_kills += 0 < before < received
    assert kills >= 10, kills
    assert mid_run_kills >= 8, mid_run_kills
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    log = SqliteEventLog(db, readonly=True)
    raw = [json.loads(r.value)["id"] for r in log.read("raw-events", {}, 10 * LINES)]
    assert raw == expected  # nothing lost, nothing twice, in file order
    assert len(log.read("dlq-events", {}, 10 * LINES)) == dead
    total = summary["total"]
    assert total["received"] == received
    assert total["appended"] == len(expected)
    assert total["dead_lettered"] == dead
    assert summary["balanced"] is True
