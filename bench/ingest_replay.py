"""Benchmark: replay file → validation → SQLite event log, events per second on one core.

Run: ``PYTHONPATH=src python bench/ingest_replay.py [--events 200000] [--synchronous FULL]``.
Target: ≥ 100k events/s (CPU time) on one core of a current laptop. Writes
``bench/results/ingest_replay.json``.
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
import threading
import time
from pathlib import Path

from wikistream.ingest.ingestor import Ingestor
from wikistream.ingest.replay import ReplaySource
from wikistream.ingest.validate import EventChecker
from wikistream.settings import load_settings

_REPO = Path(__file__).resolve().parents[1]
SHARED = next(
    (
        p
        for p in (_REPO.parent / "shared" / "data", _REPO.parent.parent / "shared" / "data")
        if p.is_dir()
    ),
    _REPO.parent / "shared" / "data",
)
SAMPLES = ["recentchange-2026-02-26.jsonl", "recentchange-enwiki-2023-07-29.jsonl"]


def build_feed(path: Path, events: int, shared: Path) -> None:
    """A replay file of real events (2026 + 2023 samples) with unique ids and rising offsets."""
    pool = []
    for name in SAMPLES:
        pool += [
            json.loads(x) for x in (shared / name).read_text("utf-8").splitlines() if x.strip()
        ]
    rng = random.Random(7)
    with path.open("w", encoding="utf-8") as out:
        for n in range(events):
            event = rng.choice(pool)
            event["meta"]["id"] = f"bench-{n:09d}"
            event["meta"]["offset"] = 10_000_000 + n
            event["meta"]["topic"] = "eqiad.mediawiki.recentchange"
            out.write(json.dumps(event, separators=(",", ":"), ensure_ascii=False) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--synchronous", choices=["FULL", "NORMAL"], default="FULL")
    parser.add_argument("--shared-data", type=Path, default=SHARED)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        feed = Path(tmp) / "feed.jsonl"
        build_feed(feed, args.events, args.shared_data)
        lines = feed.read_text("utf-8").splitlines()
        checker = EventChecker(1_000_000)
        c0 = time.process_time()
        for line in lines:
            checker.check(line)
        check_cpu = time.process_time() - c0
        del lines
        settings = load_settings(
            overrides={
                "data_dir": Path(tmp) / "data",
                "log": {"sqlite_synchronous": args.synchronous},
            }
        )
        from wikistream.eventlog.registry import open_event_log

        log = open_event_log(settings)
        source = ReplaySource(feed, None)
        ingestor = Ingestor(settings, log, resume_key=source.resume_key)
        w0, c0 = time.perf_counter(), time.process_time()
        summary = ingestor.run(source, threading.Event())
        wall, cpu = time.perf_counter() - w0, time.process_time() - c0
        log.close()
    result = {
        "events": summary.run.received,
        "appended": summary.run.appended,
        "synchronous": args.synchronous,
        "wall_s": round(wall, 3),
        "cpu_s": round(cpu, 3),
        "events_per_s_wall": round(summary.run.received / wall),
        "events_per_s_cpu": round(summary.run.received / cpu),
        "validation_only_events_per_s_cpu": round(summary.run.received / check_cpu),
        "target_events_per_s": 100_000,
    }
    out = Path(__file__).resolve().parent / "results" / "ingest_replay.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    for key, value in result.items():
        print(f"{key:36} {value}")


if __name__ == "__main__":
    main()
