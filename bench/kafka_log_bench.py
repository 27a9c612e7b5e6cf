"""KafkaEventLog on a local tansu broker: append and read throughput, one-record append latency.

Real recentchange-sized values (~1.4 KB envelopes built from the shared sample when present).
Appends go in batches with a checkpoint, as ingest does; reads in pages of 500, as bronze does.
Both append modes are measured. No targets: an in-memory broker on a shared machine is a
reference, not a cluster.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
import uuid

from bench.harness import REPO, BenchContext, Result

NAME = "kafka_log"
BATCH = 500


def load_values() -> list[bytes]:
    """Real events (one JSON object per line), or ~1 KB stand-ins when the sample is absent."""
    sys.path.insert(0, str(REPO))
    from tests.conftest import SHARED_DATA

    sample = SHARED_DATA / "recentchange-2026-02-26.jsonl"
    if sample.is_file():
        return [line.encode() for line in sample.read_text().splitlines() if line.strip()]
    return [json.dumps({"meta": {"id": str(i)}, "pad": "x" * 1000}).encode() for i in range(100)]


def measure_mode(bootstrap: str, mode: str, total: int, values: list[bytes]) -> list[Result]:
    """Append ``total`` records in batches, time single appends, read everything back."""
    from wikistream.eventlog.base import NewRecord
    from wikistream.eventlog.config import KafkaSettings
    from wikistream.eventlog.kafka import KafkaEventLog

    settings = KafkaSettings(
        bootstrap_servers=bootstrap,
        topic_prefix=f"bench{uuid.uuid4().hex[:6]}.",
        append_mode=mode,  # type: ignore[arg-type]
    )
    log = KafkaEventLog(settings, retention_days=7.0)
    records = [NewRecord(values[i % len(values)], f"id-{i}".encode()) for i in range(total)]
    try:
        log.append({"raw-events": records[:1]}, ("ingest", {"n": 1}))  # topics, producer warm-up
        started = time.perf_counter()
        for start in range(0, total, BATCH):
            log.append({"raw-events": records[start : start + BATCH]}, ("ingest", {"n": start}))
        append_s = time.perf_counter() - started
        singles = []
        for i in range(30):
            began = time.perf_counter()
            log.append({"raw-events": [records[i]]}, ("ingest", {"single": i}))
            singles.append(time.perf_counter() - began)
        position: dict[int, int] = {}
        read = 0
        started = time.perf_counter()
        while page := log.read("raw-events", position, 500):
            read += len(page)
            for rec in page:
                position[rec.partition] = rec.offset
        read_s = time.perf_counter() - started
    finally:
        log.close()
    megabytes = sum(len(r.value) for r in records) / 1e6
    return [
        Result(NAME, f"{mode}: append records/s (batches of {BATCH})", total / append_s, "rec/s",
               note=f"{megabytes / append_s:.1f} MB/s"),
        Result(NAME, f"{mode}: one-record append p50", statistics.median(singles) * 1000, "ms",
               higher_is_better=False),
        Result(NAME, f"{mode}: read records/s (pages of 500)", read / read_s, "rec/s",
               note=f"{read} records"),
    ]  # fmt: skip


def run(ctx: BenchContext) -> list[Result]:
    """Both append modes against one fresh tansu broker."""
    sys.path.insert(0, str(REPO))
    from tests.kafka_broker import TansuBroker

    total = ctx.size(20_000, 2_000)
    values = load_values()
    results = []
    with TansuBroker() as broker:
        for mode in ("transactional", "idempotent"):
            results += measure_mode(broker.bootstrap, mode, total, values)
    return results
