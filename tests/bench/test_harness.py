"""The benchmark harness: quick run of the generate bench, JSON output, measuring helpers."""

from __future__ import annotations

import math
import os
import subprocess
import sys
from pathlib import Path

import pytest
from bench.harness import (
    BenchContext,
    Result,
    discover,
    measure_wall,
    run_command,
    run_in_subprocess,
    timed,
)

from tests.bench.quick import run_quick_bench
from wikistream.ingest.generate import read_manifest

REPO = Path(__file__).resolve().parents[2]


def allocate_mib(mib: int) -> int:
    """Hold ``mib`` MiB of touched memory, return its size (runs in a child)."""
    block = bytearray(mib * 2**20)
    for i in range(0, len(block), 4096):
        block[i] = 1
    return len(block)


def fail_loudly() -> None:
    raise ValueError("boom from the child")


def test_quick_run_of_the_generate_bench_writes_json_with_its_metrics(tmp_path: Path) -> None:
    stdout, payload = run_quick_bench("generate", tmp_path, timeout=300)
    assert "WikiStream benchmarks" in stdout
    assert "events/s (20,000, plain)" in stdout
    assert payload["benchmark"] == "generate"
    assert payload["quick"] is True
    assert payload["error"] is None
    assert payload["timestamp"].endswith("Z")
    assert {"python", "cpu_count", "platform", "load_average_1m"} <= set(payload["machine"])
    metrics = {m["metric"]: m for m in payload["metrics"]}
    rate = metrics["events/s (20,000, plain)"]
    assert rate["value"] > 500
    assert rate["unit"] == "events/s"
    assert rate["target"] == 50_000
    assert rate["ok"] is (rate["value"] >= 50_000)
    assert metrics["peak RSS (20,000)"]["value"] > 10
    assert 0.5 < metrics["peak RSS growth 5,000→20,000"]["value"] < 3
    assert 500 < metrics["bytes/event (plain)"]["value"] < 2000
    assert not list((tmp_path / "cache" / "scratch").glob("generate-*"))


def test_unknown_benchmark_names_are_refused() -> None:
    env = dict(os.environ, PYTHONPATH=f"{REPO / 'src'}{os.pathsep}{REPO}")
    result = subprocess.run(
        [sys.executable, "-m", "bench", "nosuch"], capture_output=True, text=True, env=env,
        cwd=REPO, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 2
    assert "unknown benchmark(s) nosuch" in result.stderr
    assert "generate" in discover()


def test_result_ok_follows_the_target_direction() -> None:
    assert Result("b", "rate", 10, "x", target=5).ok is True
    assert Result("b", "rate", 1, "x", target=5).ok is False
    assert Result("b", "latency", 1, "s", target=5, higher_is_better=False).ok is True
    assert Result("b", "latency", 9, "s", target=5, higher_is_better=False).ok is False
    assert Result("b", "info", 9, "s").ok is None
    assert Result("b", "broken", math.nan, "s", target=1).ok is False
    assert Result("b", "broken", math.nan, "s").as_json()["value"] is None


def test_run_in_subprocess_reports_the_childs_own_peak_memory() -> None:
    small = run_in_subprocess(allocate_mib, 1)
    big = run_in_subprocess(allocate_mib, 200)
    assert big.value == 200 * 2**20
    assert big.peak_rss_bytes - small.peak_rss_bytes > 150 * 2**20
    assert small.peak_rss_bytes < 100 * 2**20  # not the size of the parent it was started from
    assert big.seconds >= 0
    assert big.cpu_seconds >= 0


def test_run_in_subprocess_raises_with_the_childs_traceback() -> None:
    with pytest.raises(RuntimeError, match="boom from the child"):
        run_in_subprocess(fail_loudly)


def test_run_command_measures_peak_rss_exit_code_and_output() -> None:
    # the child lingers after allocating so the /proc poller sees its high-water mark
    code = (
        "import time; b = bytearray(150 * 2**20); b[::4096] = b'x' * len(b[::4096]); "
        "time.sleep(0.5); print('done')"
    )
    run = run_command([sys.executable, "-c", code])
    assert run.returncode == 0
    assert run.stdout.strip() == "done"
    assert run.peak_rss_bytes > 150 * 2**20
    busy = run_command([sys.executable, "-c", "import time\nt = time.process_time()\n"
                        "while time.process_time() - t < 0.5: pass"])  # fmt: skip
    assert 0.4 < busy.cpu_seconds < busy.seconds + 0.5
    failing = run_command([sys.executable, "-c", "import time, sys; time.sleep(0.3); sys.exit(3)"])
    assert failing.returncode == 3
    # The parent (this test process) may be large; a small child must not inherit its size.
    assert failing.peak_rss_bytes < 100 * 2**20
    with pytest.raises(TimeoutError):
        run_command([sys.executable, "-c", "import time; time.sleep(30)"], timeout=1)


def test_timers_measure_wall_time() -> None:
    with timed() as watch:
        value, seconds = measure_wall(sum, range(1000))
    assert value == 499500
    assert 0 <= seconds <= watch.seconds


def test_cached_events_are_built_once_and_reused(tmp_path: Path) -> None:
    ctx = BenchContext(quick=True, cache_dir=tmp_path, scratch_dir=tmp_path / "scratch")
    path = ctx.cached_events(800, seed=4, gz=False)
    stamp = path.stat().st_mtime_ns
    assert ctx.cached_events(800, seed=4, gz=False) == path
    assert path.stat().st_mtime_ns == stamp
    assert read_manifest(path)["lines"] == 800
    assert len(path.read_bytes().splitlines()) == 800
    other = ctx.cached_events(800, seed=4, gz=True, late_fraction=0.1)
    assert other != path
    assert other.name.endswith(".jsonl.gz")


def test_quick_run_of_the_dq_bench_writes_its_metrics(tmp_path: Path) -> None:
    _, payload = run_quick_bench("dq", tmp_path, timeout=300)
    assert payload["error"] is None
    metrics = {m["metric"]: m for m in payload["metrics"]}
    assert metrics["checks not passed on valid rows"]["value"] == 0
    assert metrics["bronze gate passed"]["value"] == 1
    checks = metrics["17 bronze checks, 100,000 rows, CPU"]
    assert 0 < checks["value"] < 60
    assert checks["ok"] is (checks["value"] <= 1.0)
    baseline = metrics["drift baseline runs seen"]
    assert baseline["value"] == 4_000  # every run of the week is in the baseline
    assert metrics["drift baseline, each later gate (4,000 runs × 25 columns), CPU"]["value"] > 0
