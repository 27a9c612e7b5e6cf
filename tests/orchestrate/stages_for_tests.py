"""Small real stage functions for supervisor tests (run in real worker processes)."""

from __future__ import annotations

import os
import time
from pathlib import Path

from wikistream.orchestrate.worker import StageContext


def _marker(ctx: StageContext, name: str) -> Path:
    return ctx.settings.data_dir / f"{name}.marker"


def counting(ctx: StageContext) -> None:
    """Count to options['n'] (default 20) with progress, then finish."""
    n = int(ctx.options.get("n", 20))
    out = ctx.settings.data_dir / "counting.out"
    done = int(out.read_text()) if out.exists() else 0
    while done < n and not ctx.stop.is_set():
        done += 1
        out.write_text(str(done))
        ctx.report(progressed=True, pending=done < n, count=done)
        time.sleep(0.02)


def hang_once(ctx: StageContext) -> None:
    """First run: claims pending input and hangs, ignoring stop. Later runs: finish at once."""
    marker = _marker(ctx, "hang")
    if not marker.exists():
        marker.write_text(str(os.getpid()))
        ctx.report(pending=True, force=True)
        while True:  # a hung stage: heartbeats stop, SIGTERM is ignored by the stop flag
            time.sleep(3600)
    ctx.report(progressed=True, pending=False, force=True)


def crash_once(ctx: StageContext) -> None:
    """First run raises; the restarted run finishes."""
    marker = _marker(ctx, "crash")
    if not marker.exists():
        marker.write_text("x")
        raise RuntimeError("planted crash")
    ctx.report(progressed=True, force=True)


def forever(ctx: StageContext) -> None:
    """Heartbeat until stopped."""
    (ctx.settings.data_dir / f"forever.{os.getpid()}.pid").write_text(str(os.getpid()))
    while not ctx.wait(0.1):
        ctx.report(progressed=True)


def long_step(ctx: StageContext) -> None:
    """One step much longer than the stall timeout, without reporting (busy, not hung)."""
    ctx.report(progressed=True, pending=False, force=True)
    time.sleep(float(ctx.options.get("seconds", 3.0)))
    ctx.report(progressed=True, force=True)


def periodic(ctx: StageContext) -> None:
    """One run of a periodic stage: record this process, then exit in state ``scheduled``."""
    runs = ctx.settings.data_dir / "periodic.runs"
    with runs.open("a", encoding="utf-8") as handle:
        handle.write(f"{os.getpid()} {time.monotonic():.3f}\n")
    ctx.report(progressed=True, force=True)
    ctx.final_state = "scheduled"


def crash_after_peer_started(ctx: StageContext) -> None:
    """First run: raise once the peer stage (``counting``) wrote its status; later: finish."""
    marker = _marker(ctx, "peer-crash")
    if not marker.exists():
        status = ctx.settings.data_dir / "run" / "counting.status.json"
        deadline = time.monotonic() + 30
        while not status.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        marker.write_text(str(os.getpid()))
        raise RuntimeError("planted crash beside a peer")
    ctx.report(progressed=True, force=True)


def pending_hang(ctx: StageContext) -> None:
    """First run: claims pending input, then never progresses (its thread keeps beating)."""
    marker = _marker(ctx, "pending-hang")
    if not marker.exists():
        marker.write_text(str(os.getpid()))
        ctx.report(pending=True, force=True)
        while not ctx.wait(0.1):
            ctx.report()
        return
    ctx.report(progressed=True, pending=False, force=True)
