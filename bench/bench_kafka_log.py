"""Throughput of KafkaEventLog on a local tansu broker, with real recentchange events as values.

    PYTHONPATH=src:. python bench/bench_kafka_log.py [--records 20000] [--batch 500]

Prints, per append mode: append records/s (batches with a checkpoint, as ingest does), the
latency of a one-record append, and read records/s (pages of 500, as bronze does).
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
import uuid
from pathlib import Path

from tests.kafka_broker import TansuBroker

from wikistream.eventlog.base import NewRecord
from wikistream.eventlog.config import KafkaSettings
from wikistream.eventlog.kafka import KafkaEventLog

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "recentchange-2026-02-26.jsonl"


def load_values() -> list[bytes]:
    """Real events (one JSON object per line), or a ~1 KB stand-in when the file is absent."""
    if DATA.is_file():
        return [line.encode() for line in DATA.read_text().splitlines() if line.strip()]
    return [json.dumps({"meta": {"id": str(i)}, "pad": "x" * 1000}).encode() for i in range(100)]


def run(bootstrap: str, mode: str, total: int, batch: int, values: list[bytes]) -> None:
    settings = KafkaSettings(
        bootstrap_servers=bootstrap,
        topic_prefix=f"bench{uuid.uuid4().hex[:6]}.",
        append_mode=mode,  # type: ignore[arg-type]
    )
    log = KafkaEventLog(settings, retention_days=7.0)
    records = [
        NewRecord(value=values[i % len(values)], key=f"id-{i}".encode()) for i in range(total)
    ]
    log.append({"raw-events": records[:1]}, ("ingest", {"n": 1}))  # topics + producer warm-up
    started = time.perf_counter()
    for start in range(0, total, batch):
        log.append({"raw-events": records[start : start + batch]}, ("ingest", {"n": start}))
    append_s = time.perf_counter() - started
    singles = []
    for i in range(50):
        t0 = time.perf_counter()
        log.append({"raw-events": [records[i]]}, ("ingest", {"single": i}))
        singles.append(time.perf_counter() - t0)
    position: dict[int, int] = {}
    read = 0
    started = time.perf_counter()
    while True:
        page = log.read("raw-events", position, 500)
        if not page:
            break
        read += len(page)
        for rec in page:
            position[rec.partition] = rec.offset
    read_s = time.perf_counter() - started
    mb = sum(len(r.value) for r in records) / 1e6
    print(
        f"{mode:13s} append {total / append_s:8.0f} rec/s ({mb / append_s:5.1f} MB/s, batches of "
        f"{batch})  1-record append p50 {statistics.median(singles) * 1000:5.1f} ms  "
        f"read {read / read_s:8.0f} rec/s ({read} records)"
    )
    log.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=500)
    args = parser.parse_args()
    values = load_values()
    print(f"values: {len(values)} distinct, mean {statistics.mean(map(len, values)):.0f} bytes")
    with TansuBroker() as broker:
        for mode in ("transactional", "idempotent"):
            run(broker.bootstrap, mode, args.records, args.batch, values)


if __name__ == "__main__":
    main()
