"""PipelineMetrics driven with known inputs, then scraped over real HTTP on loopback."""

from __future__ import annotations

import socket
from datetime import timedelta

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.observe.conftest import CheckResult, FakeClock
from wikistream.errors import ConfigError
from wikistream.observe.metrics import PipelineMetrics
from wikistream.observe.server import serve_metrics


def scrape(url: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    response = httpx.get(url, timeout=5)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    samples = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return samples


def value(samples: dict, name: str, **labels: str) -> float:
    return samples[(name, frozenset(labels.items()))]


def drive(metrics: PipelineMetrics, clock: FakeClock) -> None:
    """Known inputs through every public method."""
    t0 = clock.now
    metrics.observe_ingest(
        {"received": 120, "appended": 90, "filtered": 25, "canary": 2, "dlq": 3, "duplicates": 1},
        last_event_at=t0 - timedelta(seconds=2),
        last_canary_at=t0 - timedelta(seconds=30),
    )
    metrics.observe_ingest({"received": 10, "appended": 10, "errors": 1, "reconnects": 1})
    metrics.observe_dlq("bronze", "unparseable_envelope", 2)
    metrics.set_consumer_lag("bronze", 42)
    # 3 events 10 s, 40 s and 400 s old when the batch commits.
    event_times = [t0 - timedelta(seconds=s) for s in (10, 40, 400)]
    metrics.observe_bronze_batch(3, 0.2, event_times, written=2)
    metrics.observe_bronze_batch(5, 0.7, [])
    metrics.observe_layer_commit("silver", 7, [t0.timestamp() - 900.0])
    metrics.observe_gate(
        "bronze",
        "bronze.raw_events",
        False,
        [
            CheckResult("completeness_event_id", "completeness", "PASSED", 1.0, 1.0, None, 120),
            CheckResult("uniqueness_event_id", "uniqueness", "FAILED", 0.9, 0.95, "dupes", 80),
            CheckResult("timeliness_95pct_within_1min", "timeliness", "WARNING", 200.0, 180.0),
            CheckResult("validity_event_type", "validity", "PASSED", 1.0, None, None, 0),
        ],
        run_id="dq-20260226-120000-abcdef12",
    )
    metrics.observe_drift("silver", "silver.cleaned_events", "length_delta", 0.35, 0.05)
    metrics.cycle_started()
    metrics.observe_step("silver", "process", True, 12.5)
    metrics.observe_step("silver", "gate", False, 3.0)
    metrics.cycle_finished(False, 42.0, run_id="cycle-1", failed_layer="silver", failed_step="gate")
    metrics.record_restart("bronze", reason="stalled")
    metrics.set_stage_state("bronze", "running")


def test_metrics_endpoint_serves_named_series_with_driven_values(
    metrics: PipelineMetrics, clock: FakeClock
) -> None:
    drive(metrics, clock)
    t0 = clock.now
    with serve_metrics(metrics, "127.0.0.1", 0) as server:
        assert server.port > 0
        s = scrape(server.url)
    assert value(s, "wikistream_ingest_events_received_total") == 130
    assert value(s, "wikistream_ingest_events_appended_total") == 100
    assert value(s, "wikistream_ingest_events_filtered_total") == 25
    assert value(s, "wikistream_ingest_events_canary_total") == 2
    assert value(s, "wikistream_ingest_events_duplicates_total") == 1
    assert value(s, "wikistream_ingest_events_errors_total") == 1
    assert value(s, "wikistream_ingest_events_reconnects_total") == 1
    assert value(s, "wikistream_dlq_records_total", stage="ingest", reason="unspecified") == 3
    assert (
        value(s, "wikistream_dlq_records_total", stage="bronze", reason="unparseable_envelope") == 2
    )
    assert value(s, "wikistream_ingest_last_event_timestamp_seconds") == t0.timestamp() - 2
    assert value(s, "wikistream_ingest_last_canary_timestamp_seconds") == t0.timestamp() - 30
    assert value(s, "wikistream_ingest_last_activity_timestamp_seconds") == t0.timestamp() - 2
    assert value(s, "wikistream_consumer_lag_records", consumer="bronze") == 42
    assert value(s, "wikistream_bronze_records_processed_total") == 8
    assert value(s, "wikistream_layer_rows_written_total", layer="bronze") == 7
    assert value(s, "wikistream_bronze_batches_total") == 2
    assert value(s, "wikistream_bronze_batch_duration_seconds_count") == 2
    assert value(s, "wikistream_bronze_batch_duration_seconds_sum") == pytest.approx(0.9)
    assert value(s, "wikistream_bronze_batch_duration_seconds_bucket", le="0.25") == 1
    # end-to-end latency: 10 s, 40 s, 400 s → buckets le=15: 1, le=60: 2, le=600: 3
    e2e = "wikistream_end_to_end_latency_seconds"
    assert value(s, f"{e2e}_bucket", layer="bronze", le="15.0") == 1
    assert value(s, f"{e2e}_bucket", layer="bronze", le="60.0") == 2
    assert value(s, f"{e2e}_bucket", layer="bronze", le="600.0") == 3
    assert value(s, f"{e2e}_sum", layer="bronze") == pytest.approx(450)
    assert value(s, f"{e2e}_sum", layer="silver") == pytest.approx(900)
    assert value(s, "wikistream_layer_rows_written_total", layer="silver") == 7
    assert value(s, "wikistream_last_commit_timestamp_seconds", layer="bronze") == t0.timestamp()
    gate = {"layer": "bronze", "table": "bronze.raw_events"}
    assert value(s, "wikistream_dq_gate_status", **gate) == 0
    assert value(s, "wikistream_dq_gate_runs_total", **gate, result="failed") == 1
    assert value(s, "wikistream_dq_pass_ratio", **gate) == 0.5
    assert (
        value(
            s,
            "wikistream_dq_check_status",
            **gate,
            check="uniqueness_event_id",
            check_type="uniqueness",
        )
        == 0
    )
    assert (
        value(
            s,
            "wikistream_dq_check_status",
            **gate,
            check="completeness_event_id",
            check_type="completeness",
        )
        == 1
    )
    duration = "wikistream_dq_check_duration_seconds"
    assert value(s, duration, **gate, check="completeness_event_id") == 0.12
    assert (duration, frozenset({**gate, "check": "validity_event_type"}.items())) not in s
    drift_labels = {"layer": "silver", "table": "silver.cleaned_events", "column": "length_delta"}
    assert value(
        s, "wikistream_dq_drift_difference", **drift_labels, metric="null_rate"
    ) == pytest.approx(0.30)
    assert value(s, "wikistream_pipeline_cycles_started_total") == 1
    assert value(s, "wikistream_pipeline_cycles_failed_total") == 1
    assert value(s, "wikistream_pipeline_cycles_completed_total") == 0
    assert value(s, "wikistream_pipeline_last_cycle_success") == 0
    assert value(s, "wikistream_pipeline_cycle_duration_seconds_sum") == 42
    steps = "wikistream_pipeline_steps_total"
    assert value(s, steps, layer="silver", step="process", outcome="success") == 1
    assert value(s, steps, layer="silver", step="gate", outcome="failure") == 1
    assert value(s, "wikistream_stage_restarts_total", stage="bronze", outcome="ok") == 1
    assert value(s, "wikistream_stage_state", stage="bronze", wikistream_stage_state="running") == 1
    assert value(s, "wikistream_stage_state", stage="bronze", wikistream_stage_state="stalled") == 0
    assert value(s, "wikistream_build_info", version="0.1.0") == 1
    assert value(s, "wikistream_process_cpu_seconds_total") >= 0


def test_server_close_frees_the_port(metrics: PipelineMetrics) -> None:
    server = serve_metrics(metrics, "127.0.0.1", 0)
    port = server.port
    server.close()
    server.close()  # idempotent
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=2)


def test_port_in_use_is_a_config_error_naming_the_key(metrics: PipelineMetrics) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(ConfigError, match=f"port {port}") as info:
            serve_metrics(metrics, "127.0.0.1", port)
    assert info.value.key == "observe.metrics_port"


def test_two_metrics_objects_do_not_share_series(clock: FakeClock) -> None:
    a, b = PipelineMetrics(clock=clock), PipelineMetrics(clock=clock)
    a.observe_ingest({"received": 5})
    assert b"wikistream_ingest_events_received_total 0.0" in b.render()
    assert b"wikistream_ingest_events_received_total 5.0" in a.render()


def test_unknown_or_negative_ingest_counters_are_refused(metrics: PipelineMetrics) -> None:
    with pytest.raises(ValueError, match="unknown ingest counter 'recieved'"):
        metrics.observe_ingest({"recieved": 1})
    with pytest.raises(ValueError, match="negative"):
        metrics.observe_ingest({"received": -1})
    with pytest.raises(ValueError, match="unknown stage state"):
        metrics.set_stage_state("bronze", "sleepy")
    assert metrics.snapshot().events_received == 0  # nothing half-applied


def test_totals_become_deltas_and_a_reset_counts_in_full(metrics: PipelineMetrics) -> None:
    metrics.observe_ingest_totals({"received": 100, "processed": 80})
    metrics.observe_ingest_totals({"received": 150, "processed": 120})
    metrics.observe_ingest_totals({"received": 30, "processed": 20})  # ingest restarted
    state = metrics.snapshot()
    assert state.events_received == 180
    assert state.events_appended == 140


def test_snapshot_carries_alert_signals(metrics: PipelineMetrics, clock: FakeClock) -> None:
    drive(metrics, clock)
    state = metrics.snapshot()
    assert state.at == clock.now
    assert state.dlq_records == 5
    assert state.bronze_records == 8
    assert state.consumer_lag == {"bronze": 42}
    gate = state.gates[("bronze", "bronze.raw_events")]
    assert (gate.passed, gate.total_checks, gate.passed_checks, gate.failed_checks) == (
        False,
        4,
        2,
        1,
    )
    assert gate.warnings == 1
    assert [f.name for f in gate.failures] == ["uniqueness_event_id"]
    assert state.last_cycle is not None
    assert state.last_cycle.failed_layer == "silver"
    assert state.restarts[0].stage == "bronze"
    assert state.stage_states == {"bronze": "running"}


def test_future_event_times_count_as_zero_latency(
    metrics: PipelineMetrics, clock: FakeClock
) -> None:
    metrics.observe_bronze_batch(1, 0.1, [clock.now + timedelta(seconds=30)])
    text = metrics.render().decode()
    assert 'wikistream_end_to_end_latency_seconds_bucket{layer="bronze",le="1.0"} 1.0' in text


def test_bronze_totals_from_another_process(metrics: PipelineMetrics, clock: FakeClock) -> None:
    metrics.observe_bronze_totals(100, 4, 90)
    metrics.observe_bronze_totals(100, 4, 90)  # no change: no commit
    clock.advance(60)
    metrics.observe_bronze_totals(130, 5, 115)
    metrics.observe_bronze_totals(20, 1, 20)  # worker restarted: counted in full
    state = metrics.snapshot()
    assert state.bronze_records == 150
    assert state.last_commit_at["bronze"] == clock.now
    text = metrics.render().decode()
    assert "wikistream_bronze_batches_total 6.0" in text
    assert 'wikistream_layer_rows_written_total{layer="bronze"} 135.0' in text
