"""Cost of observability on the hot paths: metric updates, a scrape, one alert evaluation.

Run: PYTHONPATH=src:. python bench/bench_observe.py   (writes bench/results/observe.json)
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from wikistream.clock import utc_now
from wikistream.observe.alerts import AlertEvaluator
from wikistream.observe.metrics import PipelineMetrics
from wikistream.observe.rules import build_rules
from wikistream.settings import load_settings

RESULTS = Path(__file__).parent / "results" / "observe.json"


def timed(repeat: int, action: Callable[[], object]) -> float:
    """Best-of-3 mean seconds per call."""
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        for _ in range(repeat):
            action()
        best = min(best, (time.perf_counter() - start) / repeat)
    return best


def main() -> None:
    metrics = PipelineMetrics()
    now = utc_now()
    batch_times = [now - timedelta(seconds=i % 300) for i in range(5000)]
    for layer, table in (("bronze", "bronze.raw_events"), ("silver", "silver.cleaned_events")):
        metrics.observe_gate(layer, table, True, [], run_id="bench")
    evaluator = AlertEvaluator(build_rules(load_settings()), [], cooldown_s=900)
    results = {
        "observe_ingest_us": timed(
            20000, lambda: metrics.observe_ingest({"received": 5, "appended": 4})
        )
        * 1e6,
        "observe_bronze_batch_5000_rows_ms": timed(
            20, lambda: metrics.observe_bronze_batch(5000, 0.1, batch_times)
        )
        * 1e3,
        "render_scrape_ms": timed(200, metrics.render) * 1e3,
        "scrape_bytes": len(metrics.render()),
        "evaluate_all_rules_us": timed(2000, lambda: evaluator.evaluate(metrics.snapshot())) * 1e6,
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    width = max(map(len, results))
    for name, value in results.items():
        print(f"{name:<{width}}  {value:>12,.1f}")


if __name__ == "__main__":
    main()
