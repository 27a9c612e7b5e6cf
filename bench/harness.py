"""Benchmark harness: results, timing, peak memory of fresh processes, cached inputs, reports.

A benchmark is a module ``bench/<name>_bench.py`` with ``run(ctx: BenchContext) -> list[Result]``.
``python -m bench [names...] [--quick]`` runs them, prints one table and writes
``bench/results/<name>.json``. Helpers here let a benchmark measure what a user would feel:

* :func:`timed` / :func:`measure_wall` — wall-clock seconds of a block or call;
* :func:`run_in_subprocess` — call a module-level function in a fresh interpreter and get its
  return value, wall seconds and the peak RSS of that process (the parent's memory never counts);
* :func:`run_command` — run a command (e.g. ``python -m wikistream ...``) and get its peak RSS
  (the child's VmHWM and its process tree's RSS, polled);
* :meth:`BenchContext.cached_events` — a generated event file under ``bench/.cache`` that is
  built once per (size, seed, options, generator source) and reused afterwards.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import math
import multiprocessing
import os
import platform
import resource
import subprocess
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")
BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
CACHE_DIR = BENCH_DIR / ".cache"
RESULTS_DIR = BENCH_DIR / "results"
CACHE_START = datetime(2026, 2, 26, 0, 0, tzinfo=UTC)
"""Default start of cached event files: fixed, so cached inputs are reproducible."""


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
        """Whether the value meets its target (None: no target; NaN never meets one)."""
        if self.target is None:
            return None
        if math.isnan(self.value):
            return False
        return self.value >= self.target if self.higher_is_better else self.value <= self.target

    def as_json(self) -> dict[str, Any]:
        """Return the JSON form written to ``bench/results/<name>.json``."""
        return {
            "metric": self.metric,
            "value": None if math.isnan(self.value) else self.value,
            "unit": self.unit,
            "target": self.target,
            "direction": "higher" if self.higher_is_better else "lower",
            "ok": self.ok,
            "note": self.note,
        }


@dataclass
class BenchContext:
    """What a benchmark gets: quick mode, where to cache inputs and put scratch files."""

    quick: bool = False
    cache_dir: Path = CACHE_DIR
    scratch_dir: Path = field(default_factory=lambda: CACHE_DIR / "scratch")

    def size(self, full: int, quick: int) -> int:
        """Return ``quick`` in quick mode, else ``full``."""
        return quick if self.quick else full

    def scratch(self, name: str) -> Path:
        """Return a fresh scratch path (its old content removed) for one measurement."""
        self.scratch_dir.mkdir(parents=True, exist_ok=True)
        path = self.scratch_dir / name
        if path.is_dir():
            import shutil

            shutil.rmtree(path)
        else:
            path.unlink(missing_ok=True)
        return path

    def cached_events(
        self, n: int = 1_000_000, seed: int = 1, *, gz: bool = True, **options: Any
    ) -> Path:
        """Return a generated event file of ``n`` lines, building it on first use.

        ``options`` go to :class:`~wikistream.ingest.generate.GenerateOptions` (``vandals``,
        ``late_fraction``, ``start``…; ``start`` defaults to :data:`CACHE_START`). The cache key
        includes the generator's source code, so a changed generator rebuilds the file. The
        manifest sits beside it (``read_manifest(path)``).
        """
        from wikistream.ingest.generate import GenerateOptions, manifest_path, write_events

        options.setdefault("start", CACHE_START)
        key_text = json.dumps(
            {"n": n, "seed": seed, **options, "code": generator_fingerprint()},
            sort_keys=True,
            default=str,
        )
        key = hashlib.sha256(key_text.encode()).hexdigest()[:12]
        path = self.cache_dir / f"events-{n}-s{seed}-{key}.jsonl{'.gz' if gz else ''}"
        if path.exists() and manifest_path(path).exists():
            return path
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        write_events(GenerateOptions(events=n, seed=seed, **options), path, manifest=True)
        return path


def generator_fingerprint() -> str:
    """Return a hash of the generator's source files (cache key part)."""
    ingest = REPO / "src" / "wikistream" / "ingest"
    digest = hashlib.sha256()
    for source in sorted([ingest / "generate.py", ingest / "calibration.py",
                          *(ingest / "synth").glob("*.py")]):  # fmt: skip
        digest.update(source.read_bytes())
    return digest.hexdigest()[:16]


# -- timing -------------------------------------------------------------------------------------


@dataclass
class Stopwatch:
    """Seconds elapsed in a :func:`timed` block (set when the block ends)."""

    seconds: float = float("nan")


@contextmanager
def timed() -> Iterator[Stopwatch]:
    """Measure the wall-clock time of a ``with`` block."""
    watch = Stopwatch()
    began = time.perf_counter()
    try:
        yield watch
    finally:
        watch.seconds = time.perf_counter() - began


def measure_wall(fn: Callable[..., T], *args: Any, **kwargs: Any) -> tuple[T, float]:
    """Call ``fn`` and return its result with the wall-clock seconds it took."""
    began = time.perf_counter()
    value = fn(*args, **kwargs)
    return value, time.perf_counter() - began


# -- fresh processes ----------------------------------------------------------------------------


@dataclass
class ProcessRun:
    """Outcome of a function run in a fresh interpreter."""

    value: Any
    seconds: float
    peak_rss_bytes: int
    cpu_seconds: float


def _vm_hwm(pid: int | str) -> int:
    """Return VmHWM (peak RSS of the process's *current* memory image) in bytes, 0 if unknown."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0


def own_peak_rss() -> int:
    """Return this process's peak RSS in bytes.

    ``getrusage().ru_maxrss`` is not used on Linux: it survives ``execve``, so a child forked
    from a big parent reports the parent's size. VmHWM belongs to the current image only.
    """
    return _vm_hwm("self") or resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _child_main(
    conn: Any, fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]
) -> None:
    try:
        began, cpu_began = time.perf_counter(), time.process_time()
        value = fn(*args, **kwargs)
        seconds, cpu = time.perf_counter() - began, time.process_time() - cpu_began
        conn.send(("ok", value, seconds, own_peak_rss(), cpu))
    except BaseException:
        conn.send(("error", traceback.format_exc(), 0.0, 0, 0.0))
    finally:
        conn.close()


def run_in_subprocess(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> ProcessRun:
    """Run module-level ``fn(*args, **kwargs)`` in a fresh (spawned) interpreter.

    Returns its value, the wall and CPU seconds the call took inside the child and the child's
    peak RSS (which includes the interpreter and imports: report it, don't subtract guesses). CPU
    seconds matter on a shared machine, where wall time also measures the neighbours. A failure
    in the child raises ``RuntimeError`` with the child's traceback.
    """
    ctx = multiprocessing.get_context("spawn")
    parent, child = ctx.Pipe(duplex=False)
    process = ctx.Process(target=_child_main, args=(child, fn, args, kwargs))
    process.start()
    child.close()
    try:
        status, value, seconds, peak, cpu = parent.recv()
    except EOFError as exc:
        process.join()
        raise RuntimeError(
            f"{fn.__qualname__} died in its subprocess (exit code {process.exitcode})"
        ) from exc
    process.join()
    if status != "ok":
        raise RuntimeError(f"{fn.__qualname__} failed in its subprocess:\n{value}")
    return ProcessRun(value=value, seconds=seconds, peak_rss_bytes=int(peak), cpu_seconds=cpu)


@dataclass
class CommandRun:
    """Outcome of :func:`run_command`."""

    returncode: int
    seconds: float
    peak_rss_bytes: int
    stdout: str
    stderr: str
    cpu_seconds: float = float("nan")


def _tree_rss(pid: int, argv: list[str]) -> tuple[int, int]:
    """Return (VmHWM of ``pid``, current RSS summed over ``pid`` and its descendants).

    Nothing is read until ``pid`` runs ``argv``: between fork and exec the child still holds (a
    copy of) the parent's memory image, whose size is not the command's.
    """
    import psutil

    try:
        proc = psutil.Process(pid)
        if proc.cmdline() != argv:
            return 0, 0
        procs = [proc, *proc.children(recursive=True)]
    except psutil.Error:
        return 0, 0
    total = 0
    for p in procs:
        try:
            total += p.memory_info().rss
        except psutil.Error:
            continue
    return _vm_hwm(pid), total


def run_command(
    cmd: list[str], *, env: dict[str, str] | None = None, cwd: Path | None = None,
    timeout: float | None = None, poll_s: float = 0.05,
) -> CommandRun:  # fmt: skip
    """Run ``cmd`` and return its exit code, wall and CPU seconds, peak RSS and output.

    CPU seconds are user + system time of the command and of the descendants it waited for
    (``RUSAGE_CHILDREN`` before and after: run one command at a time per process).

    Peak RSS is the larger of the child's VmHWM (its own high-water mark, read every 5 ms, so
    only growth in its last milliseconds can be missed) and the largest RSS sum over its process
    tree seen while polling every ``poll_s`` (catches grandchildren). ``wait4``'s max-RSS is not
    used: on Linux it includes the parent image the child was forked from. On timeout the
    whole process group is killed and ``TimeoutError`` is raised.
    """
    out_path = CACHE_DIR / "scratch" / f"cmd-{os.getpid()}-{time.monotonic_ns()}"
    out_path.parent.mkdir(parents=True, exist_ok=True)
    with open(f"{out_path}.out", "w+") as out, open(f"{out_path}.err", "w+") as err:
        children_before = resource.getrusage(resource.RUSAGE_CHILDREN)
        began = time.perf_counter()
        argv = [str(part) for part in cmd]
        proc = subprocess.Popen(argv, env=env, cwd=cwd, stdout=out, stderr=err,
                                start_new_session=True)  # fmt: skip
        polled = 0
        stop = threading.Event()

        def poll() -> None:
            # The tree scan costs milliseconds: every poll_s. The command's own VmHWM is one
            # small read: every 5 ms once it runs argv, so a peak just before exit is seen.
            nonlocal polled
            started = False
            next_scan = 0.0
            while True:
                now = time.monotonic()
                if now >= next_scan or not started:
                    hwm, tree = _tree_rss(proc.pid, argv)
                    started = started or hwm > 0
                    polled = max(polled, hwm, tree)
                    next_scan = now + poll_s
                else:
                    polled = max(polled, _vm_hwm(proc.pid))
                if stop.wait(min(poll_s, 0.005)):
                    return

        watcher = threading.Thread(target=poll, daemon=True)
        watcher.start()
        timer = threading.Timer(timeout, os.killpg, (proc.pid, 9)) if timeout else None
        if timer:
            timer.start()
        try:
            status = proc.wait()
        finally:
            stop.set()
            if timer:
                timer.cancel()
        seconds = time.perf_counter() - began
        children_after = resource.getrusage(resource.RUSAGE_CHILDREN)
        watcher.join()
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    for suffix in (".out", ".err"):
        Path(f"{out_path}{suffix}").unlink(missing_ok=True)
    if timeout and status == -9 and seconds >= timeout:
        raise TimeoutError(f"{cmd[:3]}… exceeded {timeout} s")
    return CommandRun(
        returncode=proc.returncode,
        seconds=seconds,
        peak_rss_bytes=polled,
        stdout=stdout,
        stderr=stderr,
        cpu_seconds=(children_after.ru_utime - children_before.ru_utime)
        + (children_after.ru_stime - children_before.ru_stime),
    )


# -- discovery, running, reporting ----------------------------------------------------------


def discover() -> list[str]:
    """Return the names of all benchmarks (``bench/<name>_bench.py``), sorted."""
    return sorted(p.name[: -len("_bench.py")] for p in BENCH_DIR.glob("*_bench.py"))


def machine_info() -> dict[str, Any]:
    """Return what the numbers depend on: CPU, memory, Python, load at the start."""
    info: dict[str, Any] = {
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "cpu_count": os.cpu_count(),
        "load_average_1m": os.getloadavg()[0],
    }
    try:
        import psutil

        info["total_memory_bytes"] = psutil.virtual_memory().total
    except ImportError:  # pragma: no cover - psutil is in the dev extra
        pass
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                info["cpu_model"] = line.split(":", 1)[1].strip()
                break
    return info


def run_benchmark(name: str, ctx: BenchContext) -> tuple[list[Result], float, str | None]:
    """Run one benchmark; return its results, seconds and an error text (None if it ran)."""
    began = time.perf_counter()
    try:
        module = importlib.import_module(f"bench.{name}_bench")
        results = list(module.run(ctx))
        error = None
    except Exception:
        results = [Result(name, "error", float("nan"), "", note="see the JSON file")]
        error = traceback.format_exc()
    return results, time.perf_counter() - began, error


def write_results(
    name: str, results: list[Result], *, quick: bool, seconds: float, error: str | None,
    results_dir: Path = RESULTS_DIR,
) -> Path:  # fmt: skip
    """Write ``<results_dir>/<name>.json`` and return its path."""
    results_dir.mkdir(parents=True, exist_ok=True)
    payload = {
        "benchmark": name,
        "timestamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "quick": quick,
        "duration_s": round(seconds, 3),
        "machine": machine_info(),
        "ok": error is None and all(r.ok is not False for r in results),
        "error": error,
        "metrics": [r.as_json() for r in results],
    }
    path = results_dir / f"{name}.json"
    tmp = path.with_suffix(".json.partial")
    tmp.write_text(json.dumps(payload, indent=2) + "\n")
    os.replace(tmp, path)
    return path


def render_table(results: list[Result]) -> None:
    """Print every result as one rich table."""
    from rich.console import Console
    from rich.table import Table

    table = Table(title="WikiStream benchmarks")
    for col, justify in (("benchmark", "left"), ("metric", "left"), ("value", "right"),
                         ("unit", "left"), ("target", "right"), ("pass", "center")):  # fmt: skip
        table.add_column(col, justify=justify)  # type: ignore[arg-type]
    for r in results:
        mark = {True: "[green]pass[/]", False: "[red]FAIL[/]", None: "–"}[r.ok]
        target = (
            "" if r.target is None else f"{'≥' if r.higher_is_better else '≤'} {_num(r.target)}"
        )
        table.add_row(r.benchmark, r.metric, _num(r.value), r.unit, target, mark)
    Console(width=max(100, Console().width)).print(table)


def _num(value: float) -> str:
    if math.isnan(value):
        return "error"
    if value == int(value) and abs(value) >= 100:
        return f"{int(value):,}"
    return f"{value:,.3g}" if abs(value) < 100 else f"{value:,.1f}"
