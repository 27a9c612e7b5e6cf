"""Acceptance (issue 5, item 5): cycle mode with a step timeout, a retried failure, an alert.

As `wikistream run --mode cycle` wires it: the supervisor process (``ContinuousRun``, here without
workers) evaluates the alert rules on the metrics the ``CycleRunner`` thread records. Each step
runs in its own `wikistream step` process. Then one real cycle over the real sample data with the
real steps of :mod:`wikistream.orchestrate.cycle_steps`.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.orchestrate.conftest import WebhookReceiver, wait_for
from wikistream.lake.catalog import open_catalog
from wikistream.lake.schemas import BRONZE, HOURLY_STATS, RISK_SCORES, SILVER
from wikistream.observe.alerts import AlertEvaluator
from wikistream.observe.metrics import PipelineMetrics
from wikistream.observe.rules import build_rules
from wikistream.orchestrate.continuous import ContinuousRun
from wikistream.orchestrate.cycle import CycleRecord, CycleRunner
from wikistream.orchestrate.pipeline import RunOptions, run_once
from wikistream.quality.audit import list_runs
from wikistream.settings import Settings

STEPS = (
    ("prepare", "bronze", "Prepare"),
    ("flaky", "silver", "Flaky"),
    ("hang", "gold", "Hang"),
)
# Each attempt is a fresh `python -m wikistream step` process: its start-up counts against the
# timeout, and takes seconds on a loaded 2-core machine.
TIMEOUT_S = 10.0


def _attempts(settings: Settings) -> list[tuple[str, int]]:
    lines = (settings.data_dir / "attempts").read_text().splitlines()
    return [(line.split()[0], int(line.split()[1])) for line in lines]


@pytest.mark.slow
def test_timeout_retry_alert_and_the_next_cycle(
    child_env: Callable[..., Settings], webhook: WebhookReceiver, tmp_path: Path
) -> None:
    settings = child_env(
        tmp_path / "data",
        orchestrate__step_timeout_s=TIMEOUT_S,
        orchestrate__step_retries=1,
        observe__metrics_port=0,
        observe__webhook_url=webhook.url,
        serve__enabled="false",
    )
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    runner = ContinuousRun(settings, RunOptions(stages=("silver", "gold", "dq")), specs=[])
    cycles: list[CycleRecord] = []

    def on_cycle(record: CycleRecord) -> None:
        cycles.append(record)
        if record.number == 1:  # the alert must be out before the hang is lifted
            wait_for(lambda: webhook.payloads("PIPELINE_FAILURE"), 20, "the failure alert")
            (settings.data_dir / "stop-hanging").touch()

    cycler = CycleRunner(
        settings,
        metrics=runner.metrics,
        steps=STEPS,
        step_module="tests.orchestrate.cycle_test_steps",
        on_cycle=on_cycle,
    )
    supervisor = threading.Thread(target=runner.run, kwargs={"live": False}, daemon=True)
    supervisor.start()
    try:
        cycler.run_forever(runner.stop, interval_s=0.2, max_cycles=2)
        wait_for(
            lambda: any(p["status"] == "resolved" for p in webhook.payloads("PIPELINE_FAILURE")),
            20,
            "the resolved message after the good cycle",
        )
        metrics = runner.metrics.render().decode()
    finally:
        runner.stop.set()
        supervisor.join(30)

    first, second = cycles
    assert not first.ok
    assert first.failed_step == "hang"
    prepare, flaky, hang = first.steps
    assert (prepare.ok, prepare.attempts) == (True, 1)
    # failed once, retried after the 1 s backoff, then passed its output on
    assert (flaky.ok, flaky.attempts) == (True, 2)
    assert flaky.duration_s >= 1.0
    assert flaky.output == {"flaky_saw_prepared": True}
    # timed out twice: timeout + 1 s backoff + timeout, then the cycle stopped
    assert (hang.ok, hang.attempts) == (False, 2)
    assert 2 * TIMEOUT_S + 1.0 <= hang.duration_s < 2 * TIMEOUT_S + 1.0 + 5.0
    assert f"exceeded its timeout of {TIMEOUT_S:.0f} s" in (hang.error or "")
    # each timed-out attempt's process was killed
    hung_pids = [pid for name, pid in _attempts(settings) if name == "hang"][:2]
    for pid in hung_pids:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)

    assert second.ok
    assert [s.attempts for s in second.steps] == [1, 1, 1]
    assert second.steps[2].output == {"hung": False}

    firing = [p for p in webhook.payloads("PIPELINE_FAILURE") if p["status"] == "firing"]
    assert len(firing) == 1
    assert firing[0]["severity"] == "CRITICAL"
    assert (firing[0]["layer"], firing[0]["step"]) == ("gold", "hang")
    assert firing[0]["run_id"] == "cycle-1"
    assert "timeout" in firing[0]["error"]
    assert "wikistream_pipeline_cycles_started_total 2.0" in metrics
    assert "wikistream_pipeline_cycles_completed_total 1.0" in metrics
    assert "wikistream_pipeline_cycles_failed_total 1.0" in metrics
    assert "wikistream_pipeline_last_cycle_success 1.0" in metrics
    hang_steps = 'wikistream_pipeline_steps_total{layer="gold",outcome="%s",step="hang"} 1.0'
    assert hang_steps % "failure" in metrics
    assert hang_steps % "success" in metrics


def test_failed_gate_step_alerts_once_with_the_gate_detail(
    child_env: Callable[..., Settings], tmp_path: Path
) -> None:
    """A failed gate in a cycle sends DATA_QUALITY_GATE_FAILURE, not a second PIPELINE_FAILURE."""
    settings = child_env(tmp_path / "data")
    settings.data_dir.mkdir(parents=True)
    metrics = PipelineMetrics(process_metrics=False, cpu_seconds=None)
    runner = CycleRunner(
        settings,
        metrics=metrics,
        steps=(("failing_gate", "bronze", "BronzeDQGate"), ("prepare", "silver", "Next")),
        step_module="tests.orchestrate.cycle_test_steps",
    )
    record = runner.run_cycle(1)
    assert not record.ok
    assert record.failed_step == "failing_gate"
    assert [s.name for s in record.steps] == ["failing_gate"]  # the cycle stopped there
    alerts = AlertEvaluator(build_rules(settings), []).evaluate(metrics.snapshot())
    assert [a.name for a in alerts] == ["dq_gate_failure"]
    assert alerts[0].details["run_id"] == "dq-20260226-120000-0badc0de"


@pytest.mark.slow
def test_one_real_cycle_over_real_data(
    child_env: Callable[..., Settings], shared_data: Path, tmp_path: Path
) -> None:
    """The real steps in real child processes: gates pass, silver and gold hold every event."""
    settings = child_env(tmp_path / "data")
    for name in ("recentchange-2026-02-26.jsonl", "recentchange-enwiki-2023-07-29.jsonl"):
        options = RunOptions(replay=shared_data / name, speed="max", stages=("ingest", "bronze"))
        run_once(settings, options)
    catalog = open_catalog(settings)
    bronze = catalog.load_table(BRONZE.identifier).scan().to_arrow()
    assert bronze.num_rows > 100
    dates = set(bronze["event_date"].to_pylist())
    assert len(dates) == 2  # two real days, 2023 and 2026

    runner = CycleRunner(settings)
    record = runner.run_cycle(1)
    assert record.ok, [(s.name, s.error) for s in record.steps]
    assert [s.name for s in record.steps] == [
        "bronze_gate",
        "silver",
        "silver_gate",
        "gold",
        "gold_gate",
    ]
    outputs: dict[str, Any] = {s.name: s.output for s in record.steps}
    assert outputs["silver"]["silver_rows"] == bronze.num_rows
    assert sorted(outputs["gold"]["gold_dates"]) == sorted(dates)
    silver = catalog.load_table(SILVER.identifier).scan().to_arrow()
    assert sorted(silver["event_id"].to_pylist()) == sorted(bronze["event_id"].to_pylist())
    hourly = catalog.load_table(HOURLY_STATS.identifier).scan().to_arrow()
    assert sum(hourly["total_events"].to_pylist()) == bronze.num_rows
    assert catalog.load_table(RISK_SCORES.identifier).scan().to_arrow().num_rows > 0
    for layer in ("bronze", "silver", "gold"):
        runs = list_runs(catalog, layer)
        assert runs, layer
        assert runs[-1].passed, (layer, runs[-1].failed_checks)
    # the gate steps handed their runs to the metrics (what the gate-failure alert reads)
    gates = runner.metrics.snapshot().gates
    assert {key[0] for key in gates} == {"bronze", "silver", "gold"}
    assert all(g.passed for g in gates.values())

    again = runner.run_cycle(2)  # nothing new: every step is a cheap no-op, the cycle is ok
    assert again.ok
    assert again.steps[0].output["summary"] == "no new data"
