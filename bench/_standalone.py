"""A minimal stand-in for ``bench/harness.py`` so a benchmark can run before the harness exists."""

from __future__ import annotations

import multiprocessing
import resource
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SCRATCH = Path(__file__).resolve().parent / ".cache" / "scratch"


@dataclass
class Result:
    """One measured metric; ``ok`` is None when there is no target."""

    benchmark: str
    metric: str
    value: float
    unit: str
    target: float | None = None
    higher_is_better: bool = True
    note: str = ""

    @property
    def ok(self) -> bool | None:
        """Whether the value meets its target."""
        if self.target is None:
            return None
        return self.value >= self.target if self.higher_is_better else self.value <= self.target

    def as_json(self) -> dict[str, Any]:
        """JSON form of the metric."""
        return {"metric": self.metric, "value": self.value, "unit": self.unit,
                "target": self.target, "ok": self.ok, "note": self.note}  # fmt: skip


@dataclass
class BenchContext:
    """Quick mode and scratch space."""

    quick: bool = False
    scratch_dir: Path = field(default_factory=lambda: SCRATCH)

    def size(self, full: int, quick: int) -> int:
        """``quick`` in quick mode, else ``full``."""
        return quick if self.quick else full

    def scratch(self, name: str) -> Path:
        """A fresh scratch path."""
        import shutil

        path = self.scratch_dir / name
        shutil.rmtree(path, ignore_errors=True)
        path.parent.mkdir(parents=True, exist_ok=True)
        return path


@dataclass
class ProcessRun:
    """Outcome of a function run in a fresh interpreter."""

    value: Any
    seconds: float
    peak_rss_bytes: int
    cpu_seconds: float


def _child(conn: Any, fn: Callable[..., Any], args: tuple[Any, ...]) -> None:
    try:
        began, cpu = time.perf_counter(), time.process_time()
        value = fn(*args)
        seconds, cpu = time.perf_counter() - began, time.process_time() - cpu
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        conn.send(("ok", value, seconds, peak, cpu))
    except BaseException:
        conn.send(("error", traceback.format_exc(), 0.0, 0, 0.0))


def run_in_subprocess(fn: Callable[..., Any], *args: Any) -> ProcessRun:
    """Run ``fn(*args)`` in a spawned interpreter; wall/CPU seconds and peak RSS of the child."""
    ctx = multiprocessing.get_context("spawn")
    parent, child = ctx.Pipe(duplex=False)
    process = ctx.Process(target=_child, args=(child, fn, args))
    process.start()
    child.close()
    status, value, seconds, peak, cpu = parent.recv()
    process.join()
    if status != "ok":
        raise RuntimeError(f"{fn.__qualname__} failed in its subprocess:\n{value}")
    return ProcessRun(value, seconds, int(peak), cpu)
