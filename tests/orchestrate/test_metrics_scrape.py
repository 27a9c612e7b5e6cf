"""Acceptance (issue 5, item 6): /metrics after a replay carries the named series, correct values.

`wikistream run` in continuous mode (real worker processes) on a generated replay, with
``observe.metrics_port = 0``; the test learns the bound address from ``runner.metrics_url`` and
scrapes it over HTTP like Prometheus would.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.orchestrate.conftest import wait_for
from wikistream.lake.catalog import ensure_lake, open_catalog
from wikistream.lake.schemas import HOURLY_STATS, SILVER
from wikistream.orchestrate.continuous import ContinuousRun
from wikistream.orchestrate.pipeline import RunOptions
from wikistream.settings import Settings

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def scrape(url: str) -> Samples:
    """Every sample of a scrape: (name, sorted labels) → value."""
    response = httpx.get(url, timeout=10)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    samples: Samples = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples: Samples, name: str, **labels: str) -> float:
    key = (name, tuple(sorted(labels.items())))
    assert key in samples, f"no series {name}{labels}"
    return samples[key]


def _count(settings: Settings, table: str, column: str) -> int:
    arrow = open_catalog(settings).load_table(table).scan(selected_fields=(column,)).to_arrow()
    return sum(arrow[column].to_pylist()) if column == "total_events" else arrow.num_rows


@pytest.mark.slow
def test_metrics_after_a_replay(
    child_env: Callable[..., Settings], replay: tuple[Path, dict[str, Any]], tmp_path: Path
) -> None:
    path, manifest = replay
    target = manifest["target_events"]
    settings = child_env(
        tmp_path / "data",
        observe__metrics_port=0,
        serve__enabled="false",
        lake__commit_interval_s=1,
    )
    ensure_lake(open_catalog(settings))
    options = RunOptions(
        replay=path, speed="max", stages=("ingest", "bronze", "silver", "gold", "dq")
    )
    runner = ContinuousRun(settings, options)
    thread = threading.Thread(target=runner.run, kwargs={"live": False}, daemon=True)
    thread.start()
    try:
        wait_for(lambda: runner.metrics_url is not None, 30, "the metrics server")
        url = str(runner.metrics_url)
        assert url.startswith("http://127.0.0.1:")
        assert not url.endswith(":0/metrics")

        def settled() -> bool:
            if _count(settings, SILVER.identifier, "event_id") != target:
                return False
            if _count(settings, HOURLY_STATS.identifier, "total_events") != target:
                return False
            s = scrape(url)
            gates = [k for k in s if k[0] == "wikistream_dq_gate_status"]
            silver = s.get(("wikistream_layer_rows_written_total", (("layer", "silver"),)))
            ingest_done = (
                "wikistream_stage_state",
                (("stage", "ingest"), ("wikistream_stage_state", "done")),
            )
            gold_latency = s.get(
                ("wikistream_end_to_end_latency_seconds_count", (("layer", "gold"),))
            )
            return (
                silver == target
                and len(gates) == 4
                and s.get(ingest_done) == 1
                and bool(gold_latency)
            )

        wait_for(settled, 240, "the replay to reach gold and the metrics", step=1.0)
        samples = scrape(url)
    finally:
        runner.stop.set()
        thread.join(60)

    # ingest: every line of the replay is accounted for
    received = value(samples, "wikistream_ingest_events_received_total")
    assert received == manifest["lines"]
    assert value(samples, "wikistream_ingest_events_appended_total") == target
    assert value(samples, "wikistream_ingest_events_canary_total") == manifest["canaries"]
    assert value(samples, "wikistream_ingest_events_filtered_total") == received - target - (
        manifest["canaries"] + manifest["duplicates"]
    )
    assert value(samples, "wikistream_ingest_events_duplicates_total") == manifest["duplicates"]
    assert value(samples, "wikistream_ingest_last_canary_timestamp_seconds") > 0
    # bronze: every appended record processed and written, nothing left to read
    assert value(samples, "wikistream_bronze_records_processed_total") == target
    assert value(samples, "wikistream_layer_rows_written_total", layer="bronze") == target
    batches = value(samples, "wikistream_bronze_batches_total")
    assert batches >= 1
    assert value(samples, "wikistream_consumer_lag_records", consumer="bronze") == 0
    assert value(samples, "wikistream_bronze_batch_duration_seconds_count") >= 1
    assert value(samples, "wikistream_bronze_batch_duration_seconds_sum") > 0
    # event time → visible in bronze: every sampled event observed, none negative
    latency_count = value(samples, "wikistream_end_to_end_latency_seconds_count", layer="bronze")
    assert latency_count > 0
    assert value(samples, "wikistream_end_to_end_latency_seconds_sum", layer="bronze") > 0
    assert value(samples, "wikistream_layer_rows_written_total", layer="silver") == target
    # … and into silver and gold, measured in the refine worker and fed through its status file
    for layer in ("silver", "gold"):
        count = value(samples, "wikistream_end_to_end_latency_seconds_count", layer=layer)
        assert 0 < count <= target, layer
        assert value(samples, "wikistream_end_to_end_latency_seconds_sum", layer=layer) > 0
    assert value(samples, "wikistream_layer_rows_written_total", layer="gold") > 0
    for layer in ("bronze", "silver", "gold"):
        assert value(samples, "wikistream_last_commit_timestamp_seconds", layer=layer) > 0
    # the gates passed, and each table's latest run is the one counted
    for layer, table in (
        ("bronze", "bronze.raw_events"),
        ("silver", "silver.cleaned_events"),
        ("gold", "gold.hourly_stats"),
        ("gold", "gold.risk_scores"),
    ):
        assert value(samples, "wikistream_dq_gate_status", layer=layer, table=table) == 1
        runs = value(
            samples, "wikistream_dq_gate_runs_total", layer=layer, table=table, result="passed"
        )
        assert runs >= 1
        assert (
            "wikistream_dq_gate_runs_total",
            (("layer", layer), ("result", "failed"), ("table", table)),
        ) not in samples
    assert (
        value(
            samples,
            "wikistream_dq_check_status",
            layer="bronze",
            table="bronze.raw_events",
            check="uniqueness_event_id",
            check_type="uniqueness",
        )
        == 1
    )
    # nothing restarted, no alert firing
    assert not [k for k in samples if k[0] == "wikistream_stage_restarts_total"]
    firing = [v for k, v in samples.items() if k[0] == "wikistream_alert_active" and v]
    assert not firing
