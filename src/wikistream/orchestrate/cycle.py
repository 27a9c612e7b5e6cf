"""Cycle mode: the seed's batch sequence (SEED-FACTS §6.2), with what its Step Functions lacked.

Each cycle runs bronze gate → silver → silver gate → gold → gold gate, then waits the interval.
Unlike the seed, every step has a timeout (it runs in its own process, killed when it overruns)
and retries with exponential backoff; a lock keeps two cycles from overlapping (also across
processes); a failed cycle raises an alert and the next cycle still runs. Ingest and bronze keep
running continuously beside the cycles, as in the seed.
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from wikistream.clock import utc_now
from wikistream.errors import LockHeldError, StepTimeoutError, WikiStreamError
from wikistream.observe.metrics import PipelineMetrics
from wikistream.orchestrate.feed import observe_gate_record
from wikistream.orchestrate.pipeline import RunOptions
from wikistream.orchestrate.supervisor import child_log_flags
from wikistream.orchestrate.worker import stage_lock
from wikistream.settings import Settings

log = logging.getLogger(__name__)

# (step name, layer, seed state name)
SEED_SEQUENCE: tuple[tuple[str, str, str], ...] = (
    ("bronze_gate", "bronze", "BronzeDQGate"),
    ("silver", "silver", "StartSilverJob"),
    ("silver_gate", "silver", "SilverDQGate"),
    ("gold", "gold", "StartGoldJob"),
    ("gold_gate", "gold", "GoldDQGate"),
)
STEP_FUNCTIONS = "wikistream.orchestrate.cycle_steps"


@dataclass
class StepRecord:
    """One step of one cycle: attempts, outcome and its JSON output."""

    name: str
    layer: str
    ok: bool = False
    attempts: int = 0
    duration_s: float = 0.0
    error: str | None = None
    output: dict[str, Any] = field(default_factory=dict)


@dataclass
class CycleRecord:
    """One cycle: its steps and whether it completed."""

    number: int
    started_at: str
    ok: bool = False
    steps: list[StepRecord] = field(default_factory=list)
    failed_step: str | None = None


class CycleRunner:
    """Runs cycles of steps, each step a subprocess with a timeout, retries and backoff."""

    def __init__(
        self,
        settings: Settings,
        *,
        metrics: PipelineMetrics | None = None,
        steps: tuple[tuple[str, str, str], ...] = SEED_SEQUENCE,
        step_module: str = STEP_FUNCTIONS,
        on_cycle: Callable[[CycleRecord], None] | None = None,
    ) -> None:
        self.settings = settings
        self.metrics = metrics or PipelineMetrics(process_metrics=False)
        self.steps = steps
        self.step_module = step_module
        self.on_cycle = on_cycle or (lambda record: None)
        self.cycles: list[CycleRecord] = []

    def _run_step(self, name: str, payload: dict[str, Any]) -> dict[str, Any]:
        """Run one attempt of a step in a child process; raise on failure or timeout."""
        cfg = self.settings.orchestrate
        cmd = [
            sys.executable,
            "-m",
            "wikistream",
            "--data-dir",
            str(self.settings.data_dir),
            *child_log_flags(),
            "step",
            f"{self.step_module}:{name}",
            "--input",
            json.dumps(payload),
        ]
        try:
            done = subprocess.run(
                cmd, capture_output=True, text=True, timeout=cfg.step_timeout_s, check=False
            )
        except subprocess.TimeoutExpired:
            raise StepTimeoutError(
                f"step {name} exceeded its timeout of {cfg.step_timeout_s:.0f} s and was killed; "
                "raise orchestrate.step_timeout_s if the data volume needs it"
            ) from None
        if done.returncode != 0:
            tail = (done.stderr or "").strip().splitlines()[-3:]
            raise WikiStreamError(
                f"step {name} failed (exit {done.returncode}): {' | '.join(tail) or 'no output'}"
            )
        lines = [line for line in done.stdout.splitlines() if line.strip()]
        result: dict[str, Any] = json.loads(lines[-1]) if lines else {}
        return result

    def run_step(self, name: str, layer: str, payload: dict[str, Any]) -> StepRecord:
        """Run a step with retries (exponential backoff); never raises."""
        cfg = self.settings.orchestrate
        record = StepRecord(name, layer)
        started = time.monotonic()
        delay = 1.0
        for attempt in range(cfg.step_retries + 1):
            record.attempts = attempt + 1
            try:
                record.output = self._run_step(name, payload)
                record.ok = True
                break
            except (WikiStreamError, ValueError) as exc:
                record.error = str(exc)
                log.warning("cycle step %s attempt %d failed: %s", name, attempt + 1, exc)
                if attempt < cfg.step_retries:
                    time.sleep(min(delay, 30.0))
                    delay *= 2
        record.duration_s = time.monotonic() - started
        self.metrics.observe_step(layer, name, record.ok, record.duration_s)
        return record

    def run_cycle(self, number: int) -> CycleRecord:
        """One cycle under the cycle lock; a failed step ends the cycle (the next one runs)."""
        record = CycleRecord(number, utc_now().isoformat())
        try:
            with stage_lock(self.settings.data_dir, "cycle", wait_s=0.0):
                self.metrics.cycle_started()
                started = time.monotonic()
                payload: dict[str, Any] = {}
                for name, layer, _state in self.steps:
                    step = self.run_step(name, layer, payload)
                    record.steps.append(step)
                    gate = step.output.pop("gate", None)
                    if isinstance(gate, dict):  # metrics and the gate-failure alert
                        observe_gate_record(self.metrics, gate)
                    if not step.ok or step.output.get("passed") is False:
                        record.failed_step = name
                        if step.ok:
                            step.error = step.output.get("summary", "gate failed")
                        break
                    payload = {**payload, **step.output}
                record.ok = record.failed_step is None
                failed = next((s for s in record.steps if s.name == record.failed_step), None)
                self.metrics.cycle_finished(
                    record.ok,
                    time.monotonic() - started,
                    run_id=f"cycle-{number}",
                    failed_layer=failed.layer if failed else None,
                    failed_step=record.failed_step,
                    error=failed.error if failed else None,
                )
        except LockHeldError:
            log.warning("cycle %d skipped: the previous cycle still holds the lock", number)
            record.failed_step = "lock"
        self.cycles.append(record)
        self.on_cycle(record)
        return record

    def run_forever(self, stop: threading.Event, interval_s: float, max_cycles: int = 0) -> None:
        """Run cycles, waiting ``interval_s`` after each, until ``stop`` (or ``max_cycles``)."""
        number = 0
        while not stop.is_set():
            number += 1
            self.run_cycle(number)
            if max_cycles and number >= max_cycles:
                return
            stop.wait(interval_s)


def run_cycles(settings: Settings, options: RunOptions) -> None:
    """`wikistream run --mode cycle`: ingest + bronze continuously, refine in timed cycles."""
    from wikistream.orchestrate.continuous import ContinuousRun, worker_specs

    continuous_stages = tuple(s for s in options.stages if s in ("ingest", "bronze", "maintain"))
    specs = worker_specs(
        RunOptions(options.replay, options.speed, options.since, False, continuous_stages),
        settings,
    )
    runner = ContinuousRun(settings, options, specs=specs)
    runner.install_signals()
    cycles = CycleRunner(settings, metrics=runner.metrics)
    thread = threading.Thread(
        target=cycles.run_forever,
        args=(runner.stop, settings.orchestrate.cycle_interval_s),
        name="cycles",
        daemon=True,
    )
    thread.start()
    runner.run()
