"""Dashboard and query sandbox: latency and memory over a large bronze table.

Run from the repo root:  PYTHONPATH=src:. python bench/serve_bench.py [--rows 500000]
Writes ``--rows`` bronze rows (in batches of 100k, i.e. several data files) plus the planted
gold/silver tables, then times sandbox queries and page JSON (cold = first call, warm = cached
snapshot reads). Prints a table; writes bench/results/serve.json. Peak RSS shows that a query
touching two bronze columns does not load the whole table.
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psutil
import pyarrow as pa
from tests.serve.lake_rows import arrow, plant_lake

from wikistream.lake.catalog import ensure_lake, open_catalog
from wikistream.lake.schemas import BRONZE
from wikistream.serve.dashboard import Dashboard
from wikistream.settings import load_settings

DOMAINS = ["en.wikipedia.org", "de.wikipedia.org", "ja.wikipedia.org", "fr.wikipedia.org"]
QUERIES = {
    "count(*) bronze": "SELECT count(*) FROM bronze.raw_events",
    "group by domain": "SELECT domain, count(*) n FROM bronze.raw_events GROUP BY 1 ORDER BY 2",
    "p95 delay": (
        "SELECT quantile_cont(epoch(bronze_processed_at) - epoch(event_timestamp), 0.95) "
        "FROM bronze.raw_events"
    ),
    "select * limit 10": "SELECT * FROM bronze.raw_events LIMIT 10",
    "filter one user": "SELECT count(*) FROM bronze.raw_events WHERE \"user\" = 'user-42'",
}


def bronze_batch(start: int, count: int, now: datetime) -> pa.Table:
    rows = [
        {
            "event_id": f"e{i}",
            "domain": DOMAINS[i % len(DOMAINS)],
            "user": f"user-{i % 5000}",
            "title": f"Page {i % 20000}",
            "event_type": "edit",
            "comment": "x" * 80,
            "raw_event": '{"meta": {}}' + "y" * 400,
            "event_timestamp": now - timedelta(seconds=i % 3600 + 5),
            "bronze_processed_at": now - timedelta(seconds=i % 3600),
            "event_date": now.strftime("%Y-%m-%d"),
            "length_delta": (i % 200) - 100,
        }
        for i in range(start, start + count)
    ]
    return arrow(BRONZE, rows)


class PeakRss:
    """Samples this process's RSS every 10 ms while active."""

    def __init__(self) -> None:
        self.proc = psutil.Process()
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self.proc.memory_info().rss)
            time.sleep(0.01)

    def __enter__(self) -> PeakRss:
        self.start = self.peak = self.proc.memory_info().rss
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def timed(fn: Any) -> float:
    started = time.perf_counter()
    fn()
    return (time.perf_counter() - started) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=500_000)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="serve-bench-"))
    try:
        settings = load_settings(overrides={"data_dir": root / "data"})
        plant_lake(settings)
        now = datetime.now(UTC)
        bronze = ensure_lake(open_catalog(settings))[BRONZE.identifier]
        started = time.perf_counter()
        for start in range(0, args.rows, 100_000):
            bronze.append(bronze_batch(start, min(100_000, args.rows - start), now))
        write_s = time.perf_counter() - started
        dashboard = Dashboard(settings)
        results: dict[str, Any] = {"rows": args.rows + 100, "write_s": round(write_s, 1)}
        for name, sql in QUERIES.items():
            times = []
            with PeakRss() as rss:
                for _ in range(3):
                    times.append(timed(lambda sql=sql: dashboard.sandbox.run(sql)))
            results[f"query {name}"] = {
                "best_ms": round(min(times), 1),
                "peak_rss_growth_mb": round((rss.peak - rss.start) / 1e6, 1),
            }
        for page in ("pipeline", "activity", "risk", "daily"):
            fn = getattr(dashboard, page)
            cold = timed(fn)
            time.sleep(settings.serve.refresh_s)  # let the page cache expire: warm = reads cached
            warm = timed(fn)
            results[f"page {page}"] = {"cold_ms": round(cold, 1), "warm_ms": round(warm, 1)}
        dashboard.close()
    finally:
        shutil.rmtree(root, ignore_errors=True)
    width = max(len(k) for k in results)
    for key, value in results.items():
        print(f"{key:<{width}}  {value}")
    out = Path("bench/results/serve.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
