"""DQ benchmark: the 17 bronze checks on 1M rows (target well under 1 s), and a full bronze gate.

Runs under the shared harness (``python -m bench dq``: module exposing ``run(ctx)``) or alone:
``PYTHONPATH=src:. python -m bench.dq_bench [--rows N]`` prints the metrics and writes
``bench/results/dq.json``. Rows are built vectorized with pyarrow (no event generator needed).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from wikistream.lake.catalog import ensure_lake, open_catalog
from wikistream.lake.schemas import BRONZE
from wikistream.quality.catalogue import BRONZE_CHECKS, SEED_REGION_MAP
from wikistream.quality.engine import evaluate
from wikistream.quality.gate import run_gate
from wikistream.settings import load_settings

NAME = "dq"
RESULTS = Path(__file__).resolve().parent / "results"
DAY_US = 86_400_000_000
START_US = int(datetime(2026, 2, 26, tzinfo=UTC).timestamp() * 1_000_000)


@dataclass(frozen=True)
class Metric:
    """One measured number with its unit and target."""

    benchmark: str
    metric: str
    value: float
    unit: str
    target: str
    ok: bool


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


def measure(rows: int = 1_000_000, repeats: int = 3) -> list[Metric]:
    """Time the 17 bronze checks alone and a full bronze gate (checks + profile + drift)."""
    data = bronze_rows(rows)
    evaluate(BRONZE_CHECKS, data.slice(0, 1000), table_name="warmup")
    checks_s, checks_cpu, results = _best_of(
        repeats, lambda: evaluate(BRONZE_CHECKS, data, table_name=BRONZE.identifier)
    )
    statuses = {r.status.value for r in results}
    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings(overrides={"data_dir": Path(tmp)})
        catalog = open_catalog(settings)
        ensure_lake(catalog)
        gate_s, _, gate = _best_of(
            repeats, lambda: run_gate(settings, catalog, "bronze", data=data, write=False)
        )
    label = f"{rows:,} rows"
    clean = statuses == {"PASSED"}
    return [
        Metric(
            NAME,
            f"17 bronze checks, {label}, wall",
            round(checks_s, 3),
            "s",
            "< 1.0",
            checks_s < 1.0 and clean,
        ),
        Metric(
            NAME,
            f"17 bronze checks, {label}, CPU",
            round(checks_cpu, 3),
            "s",
            "< 1.0",
            checks_cpu < 1.0 and clean,
        ),
        Metric(
            NAME,
            f"bronze gate incl. profiling, {label}, wall",
            round(gate_s, 3),
            "s",
            "< 3.0",
            gate_s < 3.0 and gate.passed,
        ),
    ]


def run(ctx: Any = None) -> list[Any]:
    """Harness entry point: ``ctx.quick`` (if present) shrinks the input to 100k rows."""
    quick = bool(getattr(ctx, "quick", False))
    metrics = measure(100_000 if quick else 1_000_000)
    try:  # the shared harness's Result type, when it is merged
        from bench.harness import Result  # type: ignore[import-not-found]

        return [Result(**asdict(m)) for m in metrics]
    except (ImportError, TypeError):
        return metrics


def main() -> None:
    """Run alone: print the metrics and write bench/results/dq.json."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    metrics = measure(args.rows, args.repeats)
    for m in metrics:
        flag = "ok" if m.ok else "MISS"
        print(f"{m.metric:<50} {m.value:>8,} {m.unit:<3} target {m.target:<6} {flag}")
    print(f"load average (1 min): {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    RESULTS.mkdir(parents=True, exist_ok=True)
    report = {
        "benchmark": NAME,
        "timestamp": datetime.now(UTC).isoformat(),
        "machine": {
            "python": platform.python_version(),
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "load_average_1m": os.getloadavg()[0],
        },
        "metrics": [asdict(m) for m in metrics],
    }
    (RESULTS / f"{NAME}.json").write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
