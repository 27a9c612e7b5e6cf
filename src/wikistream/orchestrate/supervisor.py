"""The supervisor: runs each stage as a worker process and restarts it when it dies or stalls.

Watchdog rules (checked every tick):
- a worker that exited non-zero (or was killed) is restarted after an exponential backoff
  (1 s doubling to 60 s, reset after it ran healthily for a minute);
- a worker that exited 0 with state ``done`` (a finished replay) is left alone;
- a periodic worker (``WorkerSpec.every_s``, e.g. table maintenance) runs once and exits 0 with
  state ``scheduled``; it is started again ``every_s`` after its last start, so it holds no
  memory between runs (not a restart: no backoff, no restart count, no alert);
- a worker whose heartbeat is older than the stall timeout (its process is frozen: workers beat
  from a thread, so a long step is not a stall), or that has pending input but has not progressed
  for the stall timeout, is stopped (SIGTERM, then SIGKILL) and restarted.
Each restart is reported through ``on_event`` (restart count, reason) for metrics and alerts.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from wikistream.clock import utc_now
from wikistream.orchestrate.stages import stage_label
from wikistream.orchestrate.status import StageStatus, read_status, write_status
from wikistream.settings import Settings

log = logging.getLogger(__name__)

_BACKOFF_START_S = 1.0
_BACKOFF_MAX_S = 60.0
_HEALTHY_RESET_S = 60.0
_TERM_GRACE_S = 5.0
_FINISHED = frozenset({"done", "stopped", "scheduled"})  # a stage in these states beats no more


@dataclass(frozen=True)
class WorkerSpec:
    """One worker process: a stage, or several joined by ``+`` (threads of one process)."""

    stage: str
    options: dict[str, Any] = field(default_factory=dict)
    every_s: float | None = None  # periodic: one run per process, started this often

    @property
    def labels(self) -> tuple[str, ...]:
        """The names its stages use for their status and lock files."""
        return tuple(stage_label(name) for name in self.stage.split("+"))

    @property
    def label(self) -> str:
        """The worker's name: its stage's label, or the labels of its stages joined by ``+``."""
        return "+".join(self.labels)


@dataclass(frozen=True)
class StageView:
    """One stage as the console and the metrics feed see it: its status and restarts."""

    status: StageStatus | None
    restarts: int
    pid: int | None = None  # of the worker process running the stage now

    @property
    def current(self) -> StageStatus | None:
        """The status, if the running process wrote it (not one left by an earlier process)."""
        status = self.status
        return status if status is not None and status.pid == self.pid else None


@dataclass(frozen=True)
class SupervisorEvent:
    """Something the supervisor did or saw: ``kind`` is started|restarted|exited|stalled|done."""

    kind: str
    stage: str
    reason: str
    restarts: int
    at: datetime = field(default_factory=utc_now)


@dataclass
class WorkerState:
    """The supervisor's view of one worker."""

    spec: WorkerSpec
    process: subprocess.Popen[bytes] | None = None
    started_mono: float = 0.0
    restarts: int = 0
    backoff_s: float = _BACKOFF_START_S
    restart_at: float | None = None
    done: bool = False
    statuses: dict[str, StageStatus | None] = field(default_factory=dict)  # by stage label
    last_exit: int | None = None
    kill_at: float | None = None  # SIGTERM sent: SIGKILL if still alive at this monotonic time
    next_run: bool = False  # restart_at is the next run of a periodic worker, not a restart


def child_log_flags() -> list[str]:
    """``["-v"]`` when this process logs debug (`wikistream -v run`), so its children do too."""
    return ["-v"] if logging.getLogger().isEnabledFor(logging.DEBUG) else []


class Supervisor:
    """Runs worker processes for the given stages and keeps them alive."""

    def __init__(
        self,
        settings: Settings,
        specs: list[WorkerSpec],
        *,
        config_file: Path | None = None,
        stall_timeout_s: float | None = None,
        on_event: Callable[[SupervisorEvent], None] | None = None,
    ) -> None:
        self.settings = settings
        self.config_file = config_file
        self.stall_timeout_s = stall_timeout_s or settings.orchestrate.stall_timeout_s
        self.on_event = on_event or (lambda event: None)
        self.workers = {spec.label: WorkerState(spec) for spec in specs}
        self.stopping = False

    # -- process control -------------------------------------------------------------------
    def _command(self, spec: WorkerSpec) -> list[str]:
        cmd = [sys.executable, "-m", "wikistream", "--data-dir", str(self.settings.data_dir)]
        cmd += child_log_flags()
        if self.config_file is not None:
            cmd += ["--config", str(self.config_file)]
        cmd += [
            "worker",
            spec.stage,
            "--options",
            json.dumps(spec.options, default=str),
            "--parent-pid",
            str(os.getpid()),
        ]
        return cmd

    def _spawn(self, worker: WorkerState) -> None:
        worker.process = subprocess.Popen(self._command(worker.spec), stdin=subprocess.DEVNULL)
        worker.started_mono = time.monotonic()
        worker.restart_at = None
        log.info("started stage %s (pid %d)", worker.spec.label, worker.process.pid)

    def start(self) -> None:
        """Start every worker."""
        for worker in self.workers.values():
            self._spawn(worker)
            self._emit(worker, "started", "start", 0)

    def _terminate(self, worker: WorkerState) -> None:
        """Ask a stalled worker to stop (SIGTERM); :meth:`_reaped` kills it after the grace.

        Never waits here: one hung worker must not delay watching the others.
        """
        process = worker.process
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        worker.kill_at = time.monotonic() + _TERM_GRACE_S

    def _reaped(self, worker: WorkerState) -> bool:
        """True once the worker's old process is gone (SIGKILL after the SIGTERM grace)."""
        process = worker.process
        if process is None or process.poll() is not None:
            worker.kill_at = None
            return True
        if worker.kill_at is not None and time.monotonic() >= worker.kill_at:
            process.kill()
            process.wait(timeout=_TERM_GRACE_S)
            worker.kill_at = None
            return True
        return False

    def _schedule_restart(self, worker: WorkerState, kind: str, reason: str) -> None:
        if time.monotonic() - worker.started_mono > _HEALTHY_RESET_S:
            worker.backoff_s = _BACKOFF_START_S
        worker.restarts += 1
        worker.restart_at = time.monotonic() + worker.backoff_s
        log.warning(
            "stage %s %s (%s); restart #%d in %.0f s",
            worker.spec.label,
            kind,
            reason,
            worker.restarts,
            worker.backoff_s,
        )
        worker.backoff_s = min(_BACKOFF_MAX_S, worker.backoff_s * 2)
        self._emit(worker, kind, reason)

    def _emit(
        self, worker: WorkerState, kind: str, reason: str, restarts: int | None = None
    ) -> None:
        """One event per stage of the worker (a shared worker restarts all of its stages)."""
        count = worker.restarts if restarts is None else restarts
        for label in worker.spec.labels:
            self.on_event(SupervisorEvent(kind, label, reason, count))

    def _stalled(self, worker: WorkerState, now: datetime) -> str | None:
        if worker.process is None:
            return None
        shared = len(worker.statuses) > 1
        for label, status in worker.statuses.items():
            if status is None or status.pid != worker.process.pid:
                continue  # the new process has not written this stage's first status yet
            if status.state in _FINISHED:
                continue  # e.g. ingest at the end of a replay, beside stages still running
            where = f"stage {label}: " if shared else ""
            if (now - status.heartbeat_at).total_seconds() > self.stall_timeout_s:
                return f"{where}no heartbeat for {self.stall_timeout_s:.0f} s"
            if status.pending:
                since = status.progress_at or status.started_at
                if (now - since).total_seconds() > self.stall_timeout_s:
                    return f"{where}input pending but no progress for {self.stall_timeout_s:.0f} s"
        return None

    def stage_views(self) -> dict[str, StageView]:
        """Every stage (also each one inside a shared worker) with its status and restarts."""
        return {
            label: StageView(
                status, worker.restarts, worker.process.pid if worker.process else None
            )
            for worker in self.workers.values()
            for label, status in worker.statuses.items()
        }

    # -- the loop --------------------------------------------------------------------------
    def tick(self) -> dict[str, WorkerState]:
        """Poll every worker once: read status, restart the dead and the stalled."""
        now = utc_now()
        for worker in self.workers.values():
            worker.statuses = {
                label: read_status(self.settings.data_dir, label) for label in worker.spec.labels
            }
            if self.stopping or worker.done:
                continue
            process = worker.process
            if worker.restart_at is not None:
                if self._reaped(worker) and time.monotonic() >= worker.restart_at:
                    kind = "started" if worker.next_run else "restarted"
                    worker.next_run = False
                    self._spawn(worker)
                    pid = worker.process.pid if worker.process else 0
                    self._emit(worker, kind, f"pid {pid}")
                continue
            if process is None:
                continue
            code = process.poll()
            if code is not None:
                worker.last_exit = code
                states = {s.state if s else None for s in worker.statuses.values()}
                if code == 0 and states == {"scheduled"} and worker.spec.every_s is not None:
                    worker.restart_at = worker.started_mono + worker.spec.every_s
                    worker.next_run = True
                    continue
                if code == 0 and states <= _FINISHED:
                    worker.done = True
                    self._emit(worker, "done", "finished", 0)
                    continue
                self._schedule_restart(worker, "exited", f"exit code {code}")
                continue
            reason = self._stalled(worker, now)
            if reason is not None:
                self._terminate(worker)
                self._schedule_restart(worker, "stalled", reason)
        return self.workers

    def all_done(self) -> bool:
        """True when every worker finished by itself (e.g. a replay ran out)."""
        return all(worker.done for worker in self.workers.values())

    def stop(self) -> None:
        """Ask every worker to stop (SIGTERM), wait, and SIGKILL stragglers."""
        self.stopping = True
        for worker in self.workers.values():
            process = worker.process
            if process is not None and process.poll() is None:
                process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + _TERM_GRACE_S
        for worker in self.workers.values():
            process = worker.process
            if process is None:
                continue
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            self._mark_stopped(worker)

    def _mark_stopped(self, worker: WorkerState) -> None:
        """A periodic worker waiting for its next run stops with the run (its status says so)."""
        for label in worker.spec.labels:
            status = read_status(self.settings.data_dir, label)
            if status is not None and status.state == "scheduled":
                status.state = "stopped"
                status.details.pop("next_run_at", None)
                write_status(self.settings.data_dir, status)
