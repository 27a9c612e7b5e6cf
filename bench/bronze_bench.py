"""Bronze writer benchmarks: throughput log → bronze, files/snapshots per day, latency, memory.

* **throughput**: 1 M generated-like events (real 2026 events as templates, ~1.2 KB each) in the
  SQLite log, drained into an empty bronze table with default triggers; rows/s (target ≥ 150 k),
  rows per CPU-second, peak RSS of a fresh process.
* **day shape**: a slice of a day at the live target-wiki rate with default triggers (5 s or 50 k
  rows): ms per commit, data files and snapshots per commit, extrapolated to a day, and files per
  closed day after maintenance.
* **latency** (hook for `wikistream run`): event age at commit while a feeder appends 50 events/s.

Runs under the shared harness (``python -m bench bronze``) or alone:
``PYTHONPATH=src:. python -m bench.bronze_bench [--quick]`` prints a table and writes
``bench/results/bronze.json``.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import asdict
from pathlib import Path
from typing import Any

from bench.harness import BenchContext, Result

NAME = "bronze"
TARGET_ROWS_PER_S = 150_000.0
LIVE_TARGET_RATE = 10.0  # target-wiki events/s (whole stream ≈ 30/s; SEED-FACTS §1.2 wikis)
SAMPLE = Path(__file__).resolve().parents[2] / "shared" / "data" / "recentchange-2026-02-26.jsonl"
DAY_START = 1772064000  # 2026-02-26T00:00:00Z
ROOT = Path(__file__).resolve().parents[1]


def _sample_path() -> Path:
    """The real 2026 sample: $SHARED_DATA_DIR, else ../shared/data beside the repo or worktree."""
    candidates = [
        os.environ.get("BRONZE_BENCH_SHARED_DATA", ""),
        os.environ.get("SHARED_DATA_DIR", ""),
        str(ROOT.parent / "shared" / "data"),
        str(ROOT.parents[1] / "shared" / "data"),  # git worktrees under /work/wt/<name>
    ]
    for folder in candidates:
        if folder and (Path(folder) / SAMPLE.name).is_file():
            return Path(folder) / SAMPLE.name
    return SAMPLE


def _templates() -> list[str]:
    """Real events with markers where the id and the time go."""
    out = []
    for line in _sample_path().read_text(encoding="utf-8").splitlines():
        event = json.loads(line)
        event["meta"]["id"] = "@@ID@@"
        event["timestamp"] = 999999999
        event["meta"]["dt"] = "@@DT@@"
        out.append(json.dumps(event))
    return out


def build_log(data_dir: str, n: int, seconds: float) -> None:
    """Append ``n`` generated-like envelopes, event times spread over ``seconds``."""
    from wikistream.eventlog.sqlite import SqliteEventLog
    from wikistream.ingest.envelope import raw_record

    templates = _templates()
    log = SqliteEventLog(Path(data_dir) / "eventlog.db", retention_s=None, synchronous="NORMAL")
    batch = []
    for i in range(n):
        ts = DAY_START + int(i * seconds / n)
        eid = str(uuid.uuid4())
        dt = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(ts))
        line = (
            templates[i % len(templates)]
            .replace("@@ID@@", eid)
            .replace("999999999", str(ts))
            .replace("@@DT@@", dt)
        )
        batch.append(
            raw_record(
                eid,
                line,
                ingested_at=dt,
                environment="bench",
                sse_id=None,
                topic=None,
                partition=None,
                offset=None,
            )
        )
        if len(batch) == 20_000:
            log.append({"raw-events": batch})
            batch = []
    if batch:
        log.append({"raw-events": batch})
    log.close()


def _settings(data_dir: Path, **lake: Any) -> Any:
    from wikistream.settings import load_settings

    return load_settings(overrides={"data_dir": data_dir, "lake": lake})


def _peak_rss() -> int:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def child_drain(data_dir: str) -> dict[str, float]:
    """Drain the whole log into a fresh bronze table (runs in a fresh process)."""
    from wikistream.eventlog.registry import open_event_log
    from wikistream.lake.bronze import BronzeWriter
    from wikistream.lake.catalog import open_catalog

    settings = _settings(Path(data_dir))
    log = open_event_log(settings)
    cpu0, wall0 = time.process_time(), time.perf_counter()
    writer = BronzeWriter(settings, log, open_catalog(settings))
    result = writer.drain()
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    return {
        "rows": float(result.rows_written),
        "commits": float(result.commits),
        "seconds": wall,
        "cpu_seconds": cpu,
        "peak_rss": float(_peak_rss()),
    }


def child_day_shape(data_dir: str, commits: int) -> dict[str, float]:
    """Commit ``commits`` batches of one trigger's worth of rows; then maintain."""
    from datetime import UTC, datetime

    from wikistream.eventlog.registry import open_event_log
    from wikistream.lake.bronze import BronzeWriter
    from wikistream.lake.catalog import open_catalog
    from wikistream.lake.maintenance import maintain_table
    from wikistream.lake.schemas import BRONZE

    settings = _settings(Path(data_dir))
    per_commit = int(LIVE_TARGET_RATE * settings.lake.commit_interval_s)
    settings.lake.commit_rows = per_commit  # the time trigger, without waiting for it
    log = open_event_log(settings)
    catalog = open_catalog(settings)
    writer = BronzeWriter(settings, log, catalog)
    wall0 = time.perf_counter()
    result = writer.drain()
    wall = time.perf_counter() - wall0
    table = catalog.load_table(BRONZE.identifier)
    files = sum(1 for _ in table.scan().plan_files())
    snapshots = len(table.snapshots())
    report = maintain_table(catalog, BRONZE.identifier, settings.lake, now=datetime.now(UTC))
    return {
        "commits": float(result.commits),
        "rows_per_commit": float(per_commit),
        "ms_per_commit": wall / max(1, result.commits) * 1000,
        "files_before": float(files),
        "snapshots": float(snapshots),
        "files_after": float(report.data_files_after),
        "maintain_ms": report.duration_ms,
    }


def child_latency(data_dir: str, rate: float, seconds: float) -> dict[str, float]:
    """Feed ``rate`` events/s and step the writer; event age at commit (hook for `run`)."""
    from wikistream.eventlog.registry import open_event_log
    from wikistream.lake.bronze import BronzeWriter
    from wikistream.lake.catalog import open_catalog

    settings = _settings(Path(data_dir))
    log = open_event_log(settings)
    writer = BronzeWriter(settings, log, open_catalog(settings))
    templates = _templates()
    stop = threading.Event()

    def feed() -> None:
        from wikistream.eventlog.registry import open_event_log as reopen
        from wikistream.ingest.envelope import raw_record

        feeder = reopen(settings)
        i = 0
        while not stop.is_set():
            batch = []
            for _ in range(int(rate / 10)):
                eid = str(uuid.uuid4())
                ts = int(time.time())
                line = templates[i % len(templates)].replace("@@ID@@", eid)
                line = line.replace("999999999", str(ts)).replace("@@DT@@", "x")
                record = raw_record(
                    eid, line, ingested_at="x", environment="b", sse_id=None,
                    topic=None, partition=None, offset=None,
                )  # fmt: skip
                batch.append(record)
                i += 1
            feeder.append({"raw-events": batch})
            stop.wait(0.1)
        feeder.close()

    thread = threading.Thread(target=feed, daemon=True)
    thread.start()
    ages: list[float] = []
    processing: list[float] = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        step = writer.step()
        if step.commits and writer.stats.last_event_age_s is not None:
            ages.append(writer.stats.last_event_age_s)
            processing.append(step.processing_ms)
    stop.set()
    thread.join()
    ages.sort()
    return {
        "commits": float(len(ages)),
        "age_p50_s": ages[len(ages) // 2] if ages else float("nan"),
        "age_max_s": ages[-1] if ages else float("nan"),
        "processing_ms_avg": sum(processing) / len(processing) if processing else float("nan"),
        "peak_rss": float(_peak_rss()),
    }


def _in_child(func: str, *args: Any) -> dict[str, float]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "src"), str(ROOT), env.get("PYTHONPATH", "")])
    env["BRONZE_BENCH_SHARED_DATA"] = str(_sample_path().parent)
    for name in [k for k in env if k.startswith("WIKISTREAM_")]:
        env.pop(name)  # settings refuse unknown WIKISTREAM_* names
    code = (
        "import json, sys; from bench import bronze_bench as b; "
        f"print(json.dumps(b.{func}(*json.loads(sys.argv[1]))))"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, json.dumps(list(args))],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"{func} failed:\n{proc.stderr[-3000:]}")
    return dict(json.loads(proc.stdout.strip().splitlines()[-1]) or {})


def _fresh_lake(log_dir: Path, name: str) -> Path:
    """A data dir holding a copy of the cached log and no tables."""
    target = Path(tempfile.mkdtemp(prefix=f"bronze-bench-{name}-"))
    shutil.copy(log_dir / "eventlog.db", target / "eventlog.db")
    return target


def _cached_log(ctx: Any, n: int, seconds: float) -> Path:
    # cache_dir, not scratch(): the harness empties a scratch path on every call
    from wikistream.eventlog.sqlite_batches import FORMAT_VERSION

    # The log's layout is in the name: a log of an older layout would be converted, and timed.
    path = Path(ctx.cache_dir) / f"bronze-log-v{FORMAT_VERSION}-{n}-{int(seconds)}"
    if not (path / "complete").exists():
        shutil.rmtree(path, ignore_errors=True)
        path.mkdir(parents=True)
        _in_child("build_log", str(path), n, seconds)
        (path / "complete").touch()
    return path


def run(ctx: Any) -> list[Any]:
    """Throughput, day shape and latency of the bronze writer."""
    results: list[Any] = []
    n = ctx.size(1_000_000, 50_000)
    work = _fresh_lake(_cached_log(ctx, n, 86400.0), "throughput")
    try:
        drain = _in_child("child_drain", str(work))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    rate = drain["rows"] / drain["seconds"]
    results += [
        Result(NAME, f"rows/s log→bronze ({n:,})", rate, "rows/s", TARGET_ROWS_PER_S),
        Result(
            NAME,
            f"rows/CPU-s ({n:,})",
            drain["rows"] / drain["cpu_seconds"],
            "rows/s",
            note="less sensitive to a busy machine",
        ),
        Result(NAME, f"commits ({n:,}, 50k trigger)", drain["commits"], "commits"),
        Result(NAME, f"peak RSS drain ({n:,})", drain["peak_rss"] / 2**20, "MiB"),
    ]

    commits = ctx.size(400, 60)
    per_commit = int(LIVE_TARGET_RATE * 5)
    work = _fresh_lake(_cached_log(ctx, commits * per_commit, commits * 5.0), "day")
    try:
        shape = _in_child("child_day_shape", str(work), commits)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    per_day = 86400 / 5
    results += [
        Result(
            NAME,
            f"ms/commit ({per_commit} rows, {commits} commits)",
            shape["ms_per_commit"],
            "ms",
            5000.0,
            higher_is_better=False,
        ),
        Result(NAME, "commits/day (default triggers, 10 ev/s)", per_day, "commits"),
        Result(
            NAME,
            "data files/day before maintenance",
            per_day * shape["files_before"] / shape["commits"],
            "files",
        ),
        Result(NAME, "snapshots kept (writer's cap)", shape["snapshots"], "snapshots"),
        Result(
            NAME,
            "data files per closed day after maintenance",
            shape["files_after"],
            "files",
            4.0,
            higher_is_better=False,
        ),
        Result(NAME, f"maintenance of {commits} small files", shape["maintain_ms"], "ms"),
    ]

    seconds = ctx.size(60, 15)
    work = Path(tempfile.mkdtemp(prefix="bronze-bench-latency-"))
    try:
        latency = _in_child("child_latency", str(work), 50.0, float(seconds))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    results += [
        Result(
            NAME,
            "event age at commit p50 (50 ev/s)",
            latency["age_p50_s"],
            "s",
            10.0,
            higher_is_better=False,
        ),
        Result(NAME, "event age at commit max (50 ev/s)", latency["age_max_s"], "s"),
        Result(NAME, "processing ms/commit (50 ev/s)", latency["processing_ms_avg"], "ms"),
        Result(NAME, "peak RSS steady (50 ev/s)", latency["peak_rss"] / 2**20, "MiB"),
    ]
    return results


def main(argv: list[str]) -> int:
    """Standalone run: print a table, write bench/results/bronze.json."""
    ctx = BenchContext(quick="--quick" in argv)
    started = time.perf_counter()
    results = run(ctx)
    out = ROOT / "bench" / "results" / "bronze.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    rows = [{**asdict(r), "ok": r.ok} for r in results]
    body = {"benchmark": NAME, "quick": ctx.quick, "seconds": time.perf_counter() - started}
    out.write_text(json.dumps({**body, "results": rows}, indent=2) + "\n", encoding="utf-8")
    for r in results:
        mark = {True: "ok", False: "MISS", None: ""}[r.ok]
        target = f"(target {r.target:,.0f})" if r.target is not None else ""
        print(f"{r.metric:<52} {r.value:>14,.1f} {r.unit:<9} {target:<20} {mark}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
