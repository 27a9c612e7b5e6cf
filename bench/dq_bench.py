"""DQ benchmark: the 17 bronze checks on 1M rows (target well under 1 s), and a full bronze gate.

``python -m bench dq [--quick]`` prints the metrics and writes ``bench/results/dq.json``. Rows are
built vectorized with pyarrow (no event generator needed).
"""

from __future__ import annotations

import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from bench.harness import BenchContext, Result
from wikistream.lake.catalog import ensure_lake, open_catalog
from wikistream.lake.schemas import BRONZE, PROFILE_METRICS
from wikistream.quality.baseline import read_baseline
from wikistream.quality.catalogue import BRONZE_CHECKS, SEED_REGION_MAP
from wikistream.quality.engine import evaluate
from wikistream.quality.gate import run_gate
from wikistream.settings import load_settings

NAME = "dq"
RESULTS = Path(__file__).resolve().parent / "results"
DAY_US = 86_400_000_000
START_US = int(datetime(2026, 2, 26, tzinfo=UTC).timestamp() * 1_000_000)


def _mod(values: pa.Array, m: int) -> pa.Array:
    return pc.subtract(values, pc.multiply(pc.divide(values, m), m))


def _prefixed(prefix: str, values: pa.Array) -> pa.Array:
    return pc.binary_join_element_wise(prefix, pc.cast(values, pa.string()), "")


def bronze_rows(n: int) -> pa.Table:
    """``n`` realistic-enough valid bronze rows over one UTC day, built without Python loops."""
    idx = pa.array(range(n), pa.int64())
    domains = pa.array(sorted(SEED_REGION_MAP))
    wikis = pa.array([d.split(".")[0] + "wiki" for d in sorted(SEED_REGION_MAP)])
    domain_idx = _mod(idx, len(SEED_REGION_MAP))
    micros = pc.add(pc.divide(pc.multiply(idx, DAY_US), n), START_US)
    ts = pc.cast(micros, pa.timestamp("us", tz="UTC"))
    old = _mod(idx, 1000)
    columns: dict[str, Any] = {
        "event_id": _prefixed("ev-", idx),
        "event_type": pc.take(pa.array(["categorize", "edit", "log", "new"]), _mod(idx, 4)),
        "domain": pc.take(domains, domain_idx),
        "wiki": pc.take(wikis, domain_idx),
        "title": _prefixed("Page ", _mod(idx, 50_000)),
        "user": _prefixed("User", _mod(idx, 5_000)),
        "namespace": pc.cast(_mod(idx, 15), pa.int32()),
        "event_timestamp": ts,
        "bronze_processed_at": pc.cast(pc.add(micros, 30_000_000), pa.timestamp("us", tz="UTC")),
        "event_date": pc.strftime(ts, format="%Y-%m-%d"),
        "event_hour": pc.cast(pc.hour(ts), pa.int32()),
        "length_old": pc.cast(old, pa.int32()),
        "length_new": pc.cast(pc.add(old, 50), pa.int32()),
        "length_delta": pa.array([50] * n, pa.int32()),
    }
    schema = pa.schema([f.with_nullable(True) for f in BRONZE.schema().as_arrow()])
    arrays = [
        pc.cast(columns[f.name], f.type) if f.name in columns else pa.nulls(n, f.type)
        for f in schema
    ]
    return pa.Table.from_arrays(arrays, schema=schema)


def _best_of(repeats: int, fn: Any) -> tuple[float, float, Any]:
    """Best wall time, best CPU time (all threads of this process) and the last value."""
    wall, cpu, value = float("inf"), float("inf"), None
    for _ in range(repeats):
        started, cpu_started = time.perf_counter(), time.process_time()
        value = fn()
        wall = min(wall, time.perf_counter() - started)
        cpu = min(cpu, time.process_time() - cpu_started)
    return wall, cpu, value


def measure(rows: int = 1_000_000, repeats: int = 3) -> list[Result]:
    """Time the 17 bronze checks alone and a full bronze gate (checks + profile + drift)."""
    data = bronze_rows(rows)
    evaluate(BRONZE_CHECKS, data.slice(0, 1000), table_name="warmup")
    checks_s, checks_cpu, results = _best_of(
        repeats, lambda: evaluate(BRONZE_CHECKS, data, table_name=BRONZE.identifier)
    )
    failed = sorted(r.check_name for r in results if r.status.value != "PASSED")
    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings(overrides={"data_dir": Path(tmp)})
        catalog = open_catalog(settings)
        ensure_lake(catalog)
        gate_s, _, gate = _best_of(
            repeats, lambda: run_gate(settings, catalog, "bronze", data=data, write=False)
        )
    label = f"{rows:,} rows"
    return [
        Result(NAME, f"17 bronze checks, {label}, wall", checks_s, "s", 1.0, False),
        Result(NAME, f"17 bronze checks, {label}, CPU", checks_cpu, "s", 1.0, False),
        # valid rows must pass every check: a timing of failing checks would mean nothing
        Result(
            NAME,
            "checks not passed on valid rows",
            len(failed),
            "checks",
            0,
            False,
            ", ".join(failed),
        ),
        Result(NAME, f"bronze gate incl. profiling, {label}, wall", gate_s, "s", 3.0, False),
        Result(NAME, "bronze gate passed", float(gate.passed), "bool", 1.0),
    ]


def profile_history(runs: int, columns: int, now: datetime) -> pa.Table:
    """``runs`` gate runs × ``columns`` profile rows, spread over the 7 days before ``now``."""
    n = runs * columns
    run = pc.divide(pa.array(range(n), pa.int64()), columns)
    # run r ran r × (7 days / runs) before now: its date and timestamp
    step_us = 7 * DAY_US // runs
    ts_us = pc.subtract(int(now.timestamp() * 1_000_000), pc.multiply(run, step_us))
    ts = pc.cast(ts_us, pa.timestamp("us", tz="UTC"))
    values = {
        "run_id": _prefixed("dq-", run),
        "layer": pa.array(["bronze"] * n),
        "table_name": pa.array(["bronze.raw_events"] * n),
        "column_name": _prefixed("c", _mod(pa.array(range(n), pa.int64()), columns)),
        "null_rate": pc.divide(pc.cast(_mod(run, 100), pa.float64()), 100.0),
        "run_timestamp": ts,
        "run_date": pc.strftime(ts, format="%Y-%m-%d"),
    }
    schema = PROFILE_METRICS.schema().as_arrow()
    arrays = [
        pc.cast(values[f.name], f.type) if f.name in values else pa.nulls(n, f.type) for f in schema
    ]
    return pa.Table.from_arrays(arrays, schema=schema)


def measure_baseline(runs: int, columns: int = 25) -> list[Result]:
    """Drift baseline over a week of 5-second gates: the first read, then each gate's read."""
    now = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings(overrides={"data_dir": Path(tmp)})
        catalog = open_catalog(settings)
        ensure_lake(catalog)
        catalog.load_table(PROFILE_METRICS.identifier).append(profile_history(runs, columns, now))
        _, first_cpu, stats = _best_of(
            1, lambda: read_baseline(catalog, "bronze", now, 7, exclude_run_id="x")
        )
        _, next_cpu, _ = _best_of(
            3, lambda: read_baseline(catalog, "bronze", now, 7, exclude_run_id="x")
        )
    label = f"{runs:,} runs × {columns} columns"
    seen = max(s.runs for s in stats.values())
    return [
        Result(NAME, f"drift baseline, first read ({label}), CPU", first_cpu, "s"),
        Result(NAME, f"drift baseline, each later gate ({label}), CPU", next_cpu, "s", 1.0, False),
        Result(NAME, "drift baseline runs seen", seen, "runs", note=f"of {runs:,}"),
    ]


def run(ctx: BenchContext) -> list[Result]:
    """Harness entry point (``python -m bench dq``): 1M rows, 100k with ``--quick``."""
    return measure(100_000 if ctx.quick else 1_000_000) + measure_baseline(
        4_000 if ctx.quick else 40_000
    )
