"""One pipeline stage running in its own process, as started by the supervisor.

A worker holds ``run/<stage>.lock`` (an exclusive ``flock``) for its whole life, so two copies of a
stage can never write at once — also when an old copy outlives a killed supervisor. On Linux it
asks the kernel to kill it when its parent dies (``PR_SET_PDEATHSIG``), so SIGKILL of
`wikistream run` takes the whole process tree down.
"""

from __future__ import annotations

import contextlib
import ctypes
import fcntl
import logging
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from wikistream.clock import utc_now
from wikistream.errors import LockHeldError, WikiStreamError
from wikistream.orchestrate.status import StageStatus, status_dir, write_status
from wikistream.settings import Settings

log = logging.getLogger(__name__)

_STATUS_EVERY_S = 0.5
_PR_SET_PDEATHSIG = 1
# After one stage of a shared worker failed, how long the others get to flush and stop.
_GROUP_GRACE_S = 30.0


@dataclass
class StageContext:
    """What a stage function gets: settings, a stop flag, its options and a status reporter."""

    settings: Settings
    stop: threading.Event
    status: StageStatus
    options: dict[str, Any] = field(default_factory=dict)
    # the state written when the function returns (a scheduled stage sets "scheduled")
    final_state: str = "done"
    _last_write: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def report(
        self,
        *,
        progressed: bool = False,
        pending: bool | None = None,
        state: str | None = None,
        message: str | None = None,
        force: bool = False,
        counters: Mapping[str, float] | None = None,
        **more: float,
    ) -> None:
        """Update the status (progress, pending input, counters) and write it at most 2×/s."""
        status = self.status
        with self._lock:
            if progressed:
                status.progress_at = utc_now()
            if pending is not None:
                status.pending = pending
            if state is not None:
                status.state = state
            if message is not None:
                status.message = message
            if counters:
                status.counters.update(counters)
            status.counters.update(more)
            now = time.monotonic()
            if force or now - self._last_write >= _STATUS_EVERY_S:
                self._last_write = now
                write_status(self.settings.data_dir, status)

    def beat(self) -> None:
        """Rewrite the status with a fresh ``heartbeat_at`` (from the heartbeat thread)."""
        with self._lock:
            try:
                write_status(self.settings.data_dir, self.status)
            except RuntimeError:  # the stage mutated its details mid-write: next beat
                return
            self._last_write = time.monotonic()

    def wait(self, seconds: float) -> bool:
        """Sleep up to ``seconds`` (waking on stop); return True when asked to stop."""
        return self.stop.wait(seconds)


StageFunction = Callable[[StageContext], None]


@contextlib.contextmanager
def stage_lock(data_dir: Path, stage: str, *, wait_s: float = 30.0) -> Iterator[None]:
    """Hold the stage's exclusive lock; wait up to ``wait_s`` for a previous holder to exit."""
    path = status_dir(data_dir) / f"{stage}.lock"
    handle = path.open("a+")
    deadline = time.monotonic() + wait_s
    try:
        while True:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise LockHeldError(
                        f"stage {stage!r} is already running (lock {path} is held); stop the other "
                        "`wikistream run` first or wait for it to exit"
                    ) from None
                time.sleep(0.1)
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        yield
    finally:
        handle.close()


def die_with_parent(parent_pid: int | None) -> None:
    """Make the kernel SIGKILL this process when its parent exits (Linux; no-op elsewhere)."""
    if parent_pid is None:
        return
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent_pid:  # the parent died before prctl took effect
        os._exit(1)


def install_stop_signals(stop: threading.Event) -> None:
    """SIGINT/SIGTERM set ``stop``; a second signal exits at once."""

    def handler(signum: int, _frame: object) -> None:
        if stop.is_set():
            os._exit(128 + signum)
        stop.set()

    signal.signal(signal.SIGINT, handler)
    signal.signal(signal.SIGTERM, handler)


def run_stage(
    settings: Settings,
    stage: str,
    function: StageFunction,
    *,
    options: dict[str, Any] | None = None,
    stop: threading.Event | None = None,
) -> StageStatus:
    """Run one stage function under its lock until it returns or is stopped; return its status."""
    stop = stop or threading.Event()
    status = StageStatus(stage=stage)
    ctx = StageContext(settings=settings, stop=stop, status=status, options=dict(options or {}))
    with stage_lock(settings.data_dir, stage):
        ctx.report(state="running", force=True)
        with _heartbeat(ctx):
            try:
                function(ctx)
            except WikiStreamError as exc:
                status.last_error = f"{type(exc).__name__}: {exc}"
                ctx.report(state="failed", force=True)
                raise
            except Exception as exc:
                status.last_error = f"{type(exc).__name__}: {exc}"
                log.exception("stage %s crashed", stage)
                ctx.report(state="failed", force=True)
                raise
        final = "stopped" if stop.is_set() else ctx.final_state
        ctx.report(state=final, pending=False, force=True)
    return status


def run_stages(
    settings: Settings,
    stages: Sequence[tuple[str, StageFunction]],
    *,
    options: dict[str, Any] | None = None,
    stop: threading.Event | None = None,
) -> list[StageStatus]:
    """Run several stages as threads of this process (a shared worker), each like :func:`run_stage`.

    Each stage keeps its own lock, status file and heartbeat. The first stage that fails stops
    the others (they flush what they hold, up to ``_GROUP_GRACE_S``) and its error is raised, so
    the process exits non-zero and the supervisor restarts the whole worker.
    """
    stop = stop or threading.Event()
    if len(stages) == 1:
        label, function = stages[0]
        return [run_stage(settings, label, function, options=options, stop=stop)]
    results: dict[str, StageStatus] = {}
    failures: list[BaseException] = []

    def member(label: str, function: StageFunction) -> None:
        try:
            results[label] = run_stage(settings, label, function, options=options, stop=stop)
        except BaseException as exc:  # reported in the stage's status; re-raised below
            failures.append(exc)
            stop.set()

    threads = [
        threading.Thread(target=member, args=stage, name=f"stage-{stage[0]}", daemon=True)
        for stage in stages
    ]
    for thread in threads:
        thread.start()
    deadline: float | None = None
    while any(thread.is_alive() for thread in threads):
        if failures and deadline is None:
            deadline = time.monotonic() + _GROUP_GRACE_S
        if deadline is not None and time.monotonic() >= deadline:
            log.error("stages %s did not stop after a failure; exiting", _alive(threads))
            break
        for thread in threads:
            thread.join(timeout=0.2)
    if failures:
        raise failures[0]
    return [results[label] for label, _ in stages if label in results]


def _alive(threads: Sequence[threading.Thread]) -> str:
    return ", ".join(t.name.removeprefix("stage-") for t in threads if t.is_alive())


@contextlib.contextmanager
def _heartbeat(ctx: StageContext) -> Iterator[None]:
    """Beat from a thread while the stage runs: a long step is busy, not dead.

    The watchdog then restarts a stage for "no heartbeat" only when the whole process is frozen
    (stopped, deadlocked holding the GIL); a stage stuck while it has input waiting is caught by
    the "pending but no progress" rule instead, which a long step that reports progress avoids.
    """
    done = threading.Event()

    def loop() -> None:
        while not done.wait(_STATUS_EVERY_S):
            ctx.beat()

    thread = threading.Thread(target=loop, name=f"heartbeat-{ctx.status.stage}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        done.set()
        thread.join(timeout=5)
