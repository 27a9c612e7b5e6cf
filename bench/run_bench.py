"""`wikistream run` end to end: arrival → visible-in-bronze latency, files per day, memory.

A generated file whose ``meta.dt`` gaps make 50 events/s (``generate --rate 50``) is replayed at
its original pace (``run --replay F --speed 1``, continuous mode, default triggers: bronze commits
every 5 s or 50 k rows), so the pipeline sees a live-like 50 events/s (about half of them on
target wikis). Measured:

* **latency** per bronze row: ``commit time of the snapshot that added it − producer_ingested_at``
  (the moment ingest received the event), p50/p95 (target p95 ≤ 6 s). Rows that arrived before
  bronze's first commit include the workers' start-up; the target applies to the rows after it
  (steady state); the figure over all rows is reported too. ``bronze_processed_at −
  producer_ingested_at`` (stamped just before the commit) is reported as well;
* **files and snapshots per simulated day** of bronze, silver and gold, extrapolated from the
  replayed span (files before maintenance compacts closed days);
* **peak memory of the whole process tree** (supervisor + the shared worker running every stage;
  with ``orchestrate.workers = "per_stage"`` a worker per stage), polled: the sum of RSS
  (target ≤ 300 MB) and the sum of PSS (shared library pages counted once, what the tree really
  costs the machine); measured again with the same events served by an SSE server on loopback,
  i.e. `wikistream run` in live mode as `make run` starts it (the SSE client and httpx loaded).

``python -m bench run [--quick]`` (about 90 s; quick about 30 s).
"""

from __future__ import annotations

import os
import signal
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import psutil

from bench.harness import REPO, BenchContext, Result

NAME = "run"
RATE = 50.0
TARGET_P95_S = 6.0
TARGET_TREE_RSS_MB = 300.0
DAY_S = 86_400.0


@dataclass
class TreeMemory:
    """Peaks of the process tree's memory, sampled while the run lasts."""

    rss: int = 0
    pss: int = 0
    by_stage: dict[str, int] = field(default_factory=dict)
    headless: tuple[int, int] = (0, 0)  # peak RSS, PSS before anyone opened the dashboard


def _stage(proc: psutil.Process) -> str:
    argv = proc.cmdline()
    if "worker" in argv:
        return argv[argv.index("worker") + 1]
    return "supervisor" if "run" in argv else "other"


def _sample(root: psutil.Process, peaks: TreeMemory) -> None:
    rss = pss = 0
    for proc in [root, *root.children(recursive=True)]:
        try:
            info = proc.memory_full_info()
            stage = _stage(proc)
        except psutil.Error:
            continue
        rss += info.rss
        pss += info.pss
        peaks.by_stage[stage] = max(peaks.by_stage.get(stage, 0), info.rss)
    peaks.rss = max(peaks.rss, rss)
    peaks.pss = max(peaks.pss, pss)


@contextmanager
def watch_memory(pid: int, every_s: float = 0.25) -> Iterator[TreeMemory]:
    """Sample the RSS/PSS of ``pid`` and its descendants until the block ends."""
    peaks = TreeMemory()
    stop = threading.Event()
    root = psutil.Process(pid)

    def loop() -> None:
        while not stop.is_set():
            try:
                _sample(root, peaks)
            except psutil.Error:
                return
            stop.wait(every_s)

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    try:
        yield peaks
    finally:
        stop.set()
        thread.join()


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WIKISTREAM_")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO / "src"), env.get("PYTHONPATH")]))
    env["WIKISTREAM_OBSERVE__METRICS_PORT"] = "0"
    env["WIKISTREAM_SERVE__PORT"] = "0"
    return env


def _settled(data_dir: Path, target_rows: int, *, stream: bool = False) -> bool:
    """Ingest finished the file (a stream never does), bronze and silver hold every row, refine
    idles for 3 s."""
    from wikistream.clock import utc_now
    from wikistream.orchestrate.status import read_all_status

    status = read_all_status(data_dir)
    ingest, bronze, refine = (status.get(s) for s in ("ingest", "bronze", "refine"))
    if ingest is None or bronze is None or refine is None:
        return False
    if not stream and ingest.state != "done":
        return False
    if bronze.counters.get("rows", 0) < target_rows:
        return False
    if refine.counters.get("silver_rows", 0) < target_rows or refine.progress_at is None:
        return False
    return (utc_now() - refine.progress_at).total_seconds() > 3


def replay_live(data_dir: Path, replay: Path, target_rows: int, limit_s: float) -> TreeMemory:
    """Run continuous `wikistream run` on ``replay`` at its pace until settled; SIGINT it."""
    args = ["--replay", str(replay), "--speed", "1"]
    return _measured_run(data_dir, args, _env(), target_rows, limit_s, stream=False)


def stream_live(data_dir: Path, replay: Path, target_rows: int, limit_s: float) -> TreeMemory:
    """The same events from an SSE server on loopback: `wikistream run` as `make run` starts it
    (live mode, the SSE client and httpx loaded), the events arriving in one burst."""
    import gzip
    import tempfile

    from tests.ingest.sse_server import SseTestServer, load_events

    with tempfile.TemporaryDirectory() as tmp:
        plain = Path(tmp) / "events.jsonl"
        plain.write_bytes(gzip.decompress(replay.read_bytes()))
        events = load_events(plain)
    with SseTestServer(events) as server:
        env = {**_env(), "WIKISTREAM_INGEST__STREAM_URL": server.url}
        return _measured_run(data_dir, [], env, target_rows, limit_s, stream=True)


def _measured_run(
    data_dir: Path,
    args: list[str],
    env: dict[str, str],
    target_rows: int,
    limit_s: float,
    *,
    stream: bool,
) -> TreeMemory:
    """Run `wikistream run ARGS` until settled, open the dashboard, SIGINT it; its memory."""
    cmd = [sys.executable, "-m", "wikistream", "--data-dir", str(data_dir), "run", *args]
    log = data_dir.parent / f"{data_dir.name}.stderr"
    with log.open("wb") as stderr:
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=stderr)
    try:
        with watch_memory(proc.pid) as peaks:
            deadline = time.monotonic() + limit_s
            while time.monotonic() < deadline and proc.poll() is None:
                if _settled(data_dir, target_rows, stream=stream):
                    break
                time.sleep(0.5)
            if proc.poll() is not None:
                raise RuntimeError(f"wikistream run exited early:\n{log.read_text()[-3000:]}")
            if time.monotonic() >= deadline:
                raise RuntimeError(f"the run did not settle in {limit_s:.0f} s; see {log}")
            peaks.headless = (peaks.rss, peaks.pss)
            _open_dashboard(log)
            time.sleep(3.0)  # a few more samples with the dashboard's lake readers loaded
            proc.send_signal(signal.SIGINT)
            code = proc.wait(timeout=60)
        if code != 0:
            raise RuntimeError(f"wikistream run exited {code}:\n{log.read_text()[-3000:]}")
        return peaks
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def _open_dashboard(log: Path) -> None:
    """Request the dashboard's pages once (it loads the lake libraries on first use)."""
    import re

    import httpx

    found = re.search(r"dashboard listening on (http://\S+)", log.read_text(errors="replace"))
    if found is None:
        raise RuntimeError(f"no dashboard URL in {log}")
    url = found.group(1).rstrip("/")
    for page in ("/api/meta", "/api/pipeline", "/api/activity", "/api/risk"):
        httpx.get(url + page, timeout=60)


@dataclass
class Latency:
    """Per-row latencies in seconds."""

    visible: list[float]  # snapshot commit − arrival
    visible_steady: list[float]  # the same, rows that arrived after the first commit
    stamped: list[float]  # bronze_processed_at − arrival


def bronze_latency(data_dir: Path) -> tuple[Latency, int, int]:
    """Latencies of every bronze row, and the data files / snapshots bronze committed."""
    from wikistream.lake.catalog import open_catalog
    from wikistream.lake.schemas import BRONZE
    from wikistream.settings import load_settings

    table = open_catalog(load_settings(overrides={"data_dir": data_dir})).load_table(
        BRONZE.identifier
    )
    seen: set[str] = set()
    result = Latency([], [], [])
    first_commit: float | None = None
    files = commits = 0
    columns = ("event_id", "producer_ingested_at", "bronze_processed_at")
    for snapshot in sorted(table.snapshots(), key=lambda s: s.sequence_number or 0):
        summary = snapshot.summary
        added = int(summary.get("added-records", 0) or 0) if summary else 0
        if not added:
            continue
        commits += 1
        files += int(summary.get("added-data-files", 0) or 0) if summary else 0
        committed = snapshot.timestamp_ms / 1000
        first_commit = committed if first_commit is None else first_commit
        rows = (
            table.scan(selected_fields=columns, snapshot_id=snapshot.snapshot_id)
            .to_arrow()
            .to_pylist()
        )
        for row in rows:
            if row["event_id"] in seen:
                continue
            seen.add(row["event_id"])
            arrived = _seconds(row["producer_ingested_at"])
            result.visible.append(committed - arrived)
            result.stamped.append(_seconds(row["bronze_processed_at"]) - arrived)
            if arrived > first_commit:
                result.visible_steady.append(committed - arrived)
    return result, files, commits


def _seconds(value: datetime) -> float:
    return value.timestamp()


def layer_shape(data_dir: Path) -> dict[str, tuple[int, int]]:
    """Data files and snapshots of silver and the gold tables (all of them, no expiry yet)."""
    from wikistream.lake.catalog import open_catalog
    from wikistream.lake.schemas import DAILY_SUMMARY, HOURLY_STATS, RISK_SCORES, SILVER
    from wikistream.settings import load_settings

    catalog = open_catalog(load_settings(overrides={"data_dir": data_dir}))
    shape = {}
    for table_def in (SILVER, HOURLY_STATS, RISK_SCORES, DAILY_SUMMARY):
        table = catalog.load_table(table_def.identifier)
        files = len(table.inspect.files())
        shape[table_def.identifier] = (files, len(table.snapshots()))
    return shape


def percentile(values: list[float], q: float) -> float:
    """The ``q`` quantile (0-1) by linear interpolation; NaN for no values."""
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[round(q * 100) - 1]


def run(ctx: BenchContext) -> list[Result]:
    """Replay at 50 events/s through `wikistream run`; latency, files per day, memory."""
    from wikistream.ingest.generate import read_manifest

    events = ctx.size(4_500, 1_200)
    replay = ctx.cached_events(events, seed=21, rate=RATE)
    manifest = read_manifest(replay)
    target_rows = int(manifest["target_events"])
    span_s = events / RATE
    data_dir = ctx.scratch("run-bench") / "data"
    data_dir.parent.mkdir(parents=True, exist_ok=True)
    began = time.monotonic()
    peaks = replay_live(data_dir, replay, target_rows, limit_s=span_s * 3 + 120)
    wall = time.monotonic() - began
    latency, files, commits = bronze_latency(data_dir)
    stream_dir = ctx.scratch("run-bench-stream") / "data"
    stream_dir.parent.mkdir(parents=True, exist_ok=True)
    streamed = stream_live(stream_dir, replay, target_rows, limit_s=120)
    if len(latency.visible) != target_rows:
        raise RuntimeError(f"bronze holds {len(latency.visible)} rows, expected {target_rows}")
    per_day = DAY_S / span_s
    results = [
        Result(
            NAME,
            "arrival→visible p95, steady (s)",
            percentile(latency.visible_steady, 0.95),
            "s",
            TARGET_P95_S,
            higher_is_better=False,
            note=f"{len(latency.visible_steady)} rows after bronze's first commit",
        ),
        Result(
            NAME, "arrival→visible p50, steady (s)", percentile(latency.visible_steady, 0.5), "s"
        ),
        Result(
            NAME,
            "arrival→visible p95, all rows (s)",
            percentile(latency.visible, 0.95),
            "s",
            note="includes rows that waited for the workers to start",
        ),
        Result(NAME, "arrival→visible max (s)", max(latency.visible), "s"),
        Result(
            NAME,
            "bronze_processed_at−arrival p95 (s)",
            percentile(latency.stamped, 0.95),
            "s",
            note="stamped just before the commit",
        ),
        Result(NAME, "bronze commits / simulated day", commits * per_day, "commits"),
        Result(NAME, "bronze data files / simulated day", files * per_day, "files"),
    ]
    for identifier, (layer_files, snapshots) in layer_shape(data_dir).items():
        results.append(
            Result(
                NAME,
                f"{identifier} snapshots / simulated day",
                snapshots * per_day,
                "snaps",
                note=f"{layer_files} files now",
            )
        )
    results += [
        Result(
            NAME,
            "peak RSS, whole process tree, dashboard opened (MB)",
            peaks.rss / 2**20,
            "MB",
            TARGET_TREE_RSS_MB,
            higher_is_better=False,
            note=", ".join(f"{k} {v / 2**20:.0f}" for k, v in sorted(peaks.by_stage.items())),
        ),
        Result(
            NAME,
            "peak PSS, whole process tree (MB)",
            peaks.pss / 2**20,
            "MB",
            note="shared library pages counted once",
        ),
        Result(
            NAME,
            "peak RSS, whole tree, dashboard never opened (MB)",
            peaks.headless[0] / 2**20,
            "MB",
            note=f"PSS {peaks.headless[1] / 2**20:.0f} MB; the dashboard's first requests "
            "load its readers in the shared worker",
        ),
        Result(
            NAME,
            "peak RSS, whole tree, live SSE stream on loopback (MB)",
            streamed.rss / 2**20,
            "MB",
            TARGET_TREE_RSS_MB,
            higher_is_better=False,
            note=f"PSS {streamed.pss / 2**20:.0f} MB; dashboard opened; "
            + ", ".join(f"{k} {v / 2**20:.0f}" for k, v in sorted(streamed.by_stage.items())),
        ),
        Result(
            NAME,
            "replayed events / wall s",
            events / wall,
            "ev/s",
            note=f"{target_rows} target events, {wall:.0f} s incl. start-up and settling",
        ),
    ]
    return results


if __name__ == "__main__":
    from bench.harness import render_table

    render_table(run(BenchContext(quick="--quick" in sys.argv)))
