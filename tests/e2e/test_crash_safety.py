"""Issue 3, acceptance 2: SIGKILL `wikistream run` at ≥ 20 random moments during a replay.

The replay runs in continuous mode (supervisor + the shared worker process running every stage)
and with ``--once`` (one process), each started on the same data dir after the previous one was
killed. Kill moments are drawn over the pipeline's progress (events appended + bronze rows +
silver rows), so they land during start-up, ingest, bronze commits, gates, silver/gold commits
and table maintenance (small commit triggers, maintenance every 2 s and a low snapshot limit make
all of them frequent). After the last kill one ``run --replay F --once`` finishes the job. Then:

* bronze holds each valid target event of the file exactly once (expected ids from the file);
* every table (bronze, silver, gold, DQ audit) reads without error;
* silver equals a fresh rebuild of silver from bronze, and gold a fresh rebuild from silver;
* no worker outlived a killed supervisor (``PR_SET_PDEATHSIG``).
"""

from __future__ import annotations

import random
import signal
import subprocess
import time
from collections import Counter
from pathlib import Path

import psutil
import pytest

from tests.e2e.runs import (
    cli_command,
    cli_env,
    expected_ids,
    generate,
    lake_settings,
    read_table,
    wikistream,
    without,
)
from wikistream.eventlog.registry import open_event_log
from wikistream.lake.catalog import open_catalog
from wikistream.lake.gold import GOLD_TABLES
from wikistream.lake.refresh import rebuild
from wikistream.lake.schemas import ALL_TABLES, BRONZE, SILVER
from wikistream.orchestrate.status import read_all_status
from wikistream.settings import Settings

EVENTS = 24_000
PIPELINE = {"ingest", "bronze", "refine", "maintain"}  # stages of the continuous run
CONTINUOUS_KILLS = 12
ONCE_KILLS = 9
KILL_ENV = {
    "WIKISTREAM_LAKE__COMMIT_ROWS": "1500",
    "WIKISTREAM_LAKE__COMMIT_INTERVAL_S": "0.5",
    "WIKISTREAM_INGEST__FLUSH_EVENTS": "500",
    "WIKISTREAM_LAKE__TRANSFORM_BATCH_ROWS": "3000",
    "WIKISTREAM_LAKE__MAINTENANCE_INTERVAL_S": "2",
    "WIKISTREAM_LAKE__SNAPSHOT_MAX_COUNT": "10",
}


def _total_records(settings: Settings, identifier: str) -> int:
    try:
        snapshot = open_catalog(settings).load_table(identifier).current_snapshot()
    except Exception:  # not created yet, or the catalog is mid-creation
        return 0
    if snapshot is None or snapshot.summary is None:
        return 0
    return int(snapshot.summary.get("total-records", 0) or 0)


def progress(settings: Settings) -> int:
    """Events appended to the log + bronze rows + silver rows (0 … 3 × target events)."""
    appended = 0
    if (settings.data_dir / "eventlog.db").exists():
        try:
            log = open_event_log(settings)
            try:
                appended = sum(o + 1 for o in log.head("raw-events").values())
            finally:
                log.close()
        except Exception:  # schema not created yet by the first run
            appended = 0
    return (
        appended
        + _total_records(settings, BRONZE.identifier)
        + _total_records(settings, SILVER.identifier)
    )


def kill_tree(proc: subprocess.Popen[bytes]) -> list[int]:
    """SIGKILL the run (only the top process); return the pids of its workers at that moment."""
    try:
        workers = [c.pid for c in psutil.Process(proc.pid).children(recursive=True)]
    except psutil.NoSuchProcess:
        workers = []
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    return workers


def assert_gone(pids: list[int], within_s: float = 10.0) -> None:
    """Every worker of a killed supervisor dies with it (the kernel's PR_SET_PDEATHSIG)."""
    deadline = time.monotonic() + within_s
    alive = pids
    while alive and time.monotonic() < deadline:
        alive = [p for p in alive if psutil.pid_exists(p) and not _zombie(p)]
        time.sleep(0.05)
    assert not alive, f"workers {alive} outlived their killed supervisor"


def _zombie(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def workers_up(settings: Settings, proc: subprocess.Popen[bytes]) -> bool:
    """True once every worker of this run wrote its first status (start-up is over)."""
    try:
        children = {c.pid for c in psutil.Process(proc.pid).children()}
    except psutil.NoSuchProcess:
        return False
    statuses = read_all_status(settings.data_dir).values()
    started = {s.stage for s in statuses if s.pid in children}
    return bool(children) and children <= {s.pid for s in statuses} and started >= PIPELINE


def kill_at_random_moment(
    cmd: list[str],
    env: dict[str, str],
    settings: Settings,
    rng: random.Random,
    step: int | None,
    full: int,
    log: Path,
) -> str:
    """Start ``cmd`` and SIGKILL it at a random moment; return killed|finished.

    ``step`` None: during start-up. Otherwise once the run is working (continuous: every worker
    is up) and the pipeline progressed by ``step``, or progressed at all and a random 0.2-4 s
    passed, whichever is first: each run moves the replay on. When everything is processed
    already, the run is killed while idle after 0.2-4 s.
    """
    continuous = "--once" not in cmd
    with log.open("ab") as stderr:
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=stderr)
    try:
        if step is None:
            time.sleep(rng.uniform(0.05, 1.5))
        else:
            deadline = time.monotonic() + 90
            while continuous and proc.poll() is None and time.monotonic() < deadline:
                if workers_up(settings, proc):
                    break
                time.sleep(0.05)
            start = progress(settings)
            patience = time.monotonic() + rng.uniform(0.2, 4.0)
            while proc.poll() is None and time.monotonic() < deadline:
                now = progress(settings)
                if now >= start + step:
                    break
                if (now > start or now >= full) and time.monotonic() > patience:
                    break
                time.sleep(0.05)
            time.sleep(rng.uniform(0.0, 0.3))  # anywhere between two commits
        if proc.poll() is not None:  # a --once run finished before its kill moment
            assert proc.returncode == 0, log.read_text()[-3000:]
            return "finished"
        assert_gone(kill_tree(proc))
        return "killed"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


@pytest.mark.slow
def test_sigkill_at_random_moments_keeps_every_table_exact(tmp_path: Path) -> None:
    rng = random.Random(20260303)
    replay = tmp_path / "events.jsonl.gz"
    manifest = generate(replay, EVENTS, seed=11, vandals=2)
    expected = expected_ids([replay])
    assert len(expected) == manifest["target_events"]
    data_dir = tmp_path / "data"
    settings = lake_settings(data_dir)
    env = cli_env(**KILL_ENV)
    full = 3 * len(expected)

    continuous = cli_command(data_dir, "run", "--replay", str(replay), "--speed", "max")
    once = cli_command(data_dir, "run", "--replay", str(replay), "--speed", "max", "--once")
    mean_step = full // (CONTINUOUS_KILLS + ONCE_KILLS)
    plan: list[tuple[list[str], int | None]] = [(continuous, None), (once, None)] * 2
    plan += [(continuous, rng.randint(1, 2 * mean_step)) for _ in range(CONTINUOUS_KILLS - 2)]
    plan += [(once, rng.randint(1, 2 * mean_step)) for _ in range(ONCE_KILLS - 2)]
    rng.shuffle(plan)

    outcomes: Counter[str] = Counter()
    seen_progress: list[int] = []
    seen_bronze: list[int] = []
    log = tmp_path / "stderr.log"

    def kill(cmd: list[str], step: int | None) -> None:
        outcomes[kill_at_random_moment(cmd, env, settings, rng, step, full, log)] += 1
        seen_progress.append(progress(settings))
        seen_bronze.append(_total_records(settings, BRONZE.identifier))

    for cmd, step in plan:
        kill(cmd, step)
    # a fast machine lets a --once run finish before its kill moment; top up with continuous
    # runs (they never finish on their own) so there are always ≥ 20 real kills
    while outcomes["killed"] < 20:
        kill(continuous, rng.randint(1, 2 * mean_step))
    assert outcomes["killed"] >= 20, outcomes
    # the kills really spread over the replay: before bronze held every event (ingest alone may
    # have appended them all by the first kill), and after silver had rows
    assert min(seen_bronze) < len(expected), seen_bronze
    assert max(seen_progress) > 2 * len(expected), seen_progress
    # no stage crashed on what a killed predecessor left behind (restarts hide such crashes)
    errors = [
        line for line in log.read_text().splitlines() if "Traceback" in line or "rror:" in line
    ]
    assert not errors, "\n".join(errors[:20])

    wikistream(data_dir, "run", "--replay", str(replay), "--speed", "max", "--once", env=env)

    bronze_ids = read_table(settings, BRONZE).column("event_id").to_pylist()
    duplicates = [i for i, n in Counter(bronze_ids).items() if n > 1]
    assert not duplicates, f"{len(duplicates)} events twice in bronze, e.g. {duplicates[:3]}"
    assert sorted(bronze_ids) == sorted(expected)

    tables = {t.identifier: read_table(settings, t) for t in ALL_TABLES}
    assert sorted(tables[SILVER.identifier].column("event_id").to_pylist()) == sorted(expected)
    assert tables["dq_audit.quality_results"].num_rows > 0
    assert tables["dq_audit.profile_metrics"].num_rows > 0
    for table_def in GOLD_TABLES:
        assert tables[table_def.identifier].num_rows > 0, table_def.identifier

    catalog = open_catalog(settings)
    rebuild(settings, "silver", catalog=catalog)
    rebuilt_silver = read_table(settings, SILVER)
    stamp = ("silver_processed_at",)
    assert without(rebuilt_silver, *stamp).equals(without(tables[SILVER.identifier], *stamp))
    rebuild(settings, "gold", catalog=catalog)
    for table_def in GOLD_TABLES:
        before = without(tables[table_def.identifier], "gold_processed_at")
        after = without(read_table(settings, table_def), "gold_processed_at")
        assert after.equals(before), f"{table_def.identifier} differs from a fresh rebuild"
