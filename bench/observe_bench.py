"""Cost of observability on the hot paths: metric updates, a scrape, one alert evaluation.

``python -m bench observe`` (writes ``bench/results/observe.json``). No targets: the numbers show
that metrics cost microseconds next to the milliseconds of a commit.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta

from bench.harness import BenchContext, Result
from wikistream.clock import utc_now
from wikistream.observe.alerts import AlertEvaluator
from wikistream.observe.metrics import PipelineMetrics
from wikistream.observe.rules import build_rules
from wikistream.settings import load_settings

NAME = "observe"


def timed(repeat: int, action: Callable[[], object]) -> float:
    """Best-of-3 mean seconds per call."""
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        for _ in range(repeat):
            action()
        best = min(best, (time.perf_counter() - start) / repeat)
    return best


def run(ctx: BenchContext) -> list[Result]:
    """Per-call costs of the metric updates, a scrape and an evaluation of every alert rule."""
    repeat = 10 if ctx.quick else 1
    metrics = PipelineMetrics()
    now = utc_now()
    batch_times = [now - timedelta(seconds=i % 300) for i in range(5000)]
    for layer, table in (("bronze", "bronze.raw_events"), ("silver", "silver.cleaned_events")):
        metrics.observe_gate(layer, table, True, [], run_id="bench")
    evaluator = AlertEvaluator(build_rules(load_settings()), [], cooldown_s=900)
    ingest_s = timed(
        20000 // repeat, lambda: metrics.observe_ingest({"received": 5, "appended": 4})
    )
    batch_s = timed(
        max(2, 20 // repeat), lambda: metrics.observe_bronze_batch(5000, 0.1, batch_times)
    )
    scrape_s = timed(max(2, 200 // repeat), metrics.render)
    rules_s = timed(2000 // repeat, lambda: evaluator.evaluate(metrics.snapshot()))
    return [
        Result(NAME, "observe_ingest per call", ingest_s * 1e6, "µs"),
        Result(NAME, "observe_bronze_batch, 5,000 event times", batch_s * 1e3, "ms"),
        Result(NAME, "render a /metrics scrape", scrape_s * 1e3, "ms"),
        Result(NAME, "scrape size", len(metrics.render()), "bytes"),
        Result(NAME, "evaluate every alert rule", rules_s * 1e6, "µs"),
    ]
