"""Several stages as threads of one worker process (``orchestrate.workers = "shared"``).

Real worker processes: the supervisor must still see, restart and report each stage inside the
shared worker, and `wikistream run` must find the dashboard the worker serves.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from tests.orchestrate.conftest import run_until, wait_for
from wikistream.orchestrate.continuous import ContinuousRun, worker_specs
from wikistream.orchestrate.pipeline import RunOptions
from wikistream.orchestrate.status import read_status
from wikistream.orchestrate.supervisor import Supervisor, SupervisorEvent, WorkerSpec
from wikistream.settings import Settings, load_settings

STAGES = "tests.orchestrate.stages_for_tests"


def test_default_run_is_one_shared_worker(tmp_path: Path) -> None:
    settings = load_settings(overrides={"data_dir": tmp_path})
    specs = worker_specs(RunOptions(), settings)
    assert [s.stage for s in specs] == ["ingest+bronze+refine+maintain+serve"]
    assert specs[0].labels == ("ingest", "bronze", "refine", "maintain", "serve")
    assert specs[0].every_s is None

    headless = load_settings(overrides={"data_dir": tmp_path, "serve": {"enabled": False}})
    only_lake = RunOptions(stages=("bronze", "silver"))
    assert [s.stage for s in worker_specs(only_lake, headless)] == ["bronze+refine"]


def test_per_stage_workers_keep_one_process_per_stage(tmp_path: Path) -> None:
    settings = load_settings(
        overrides={"data_dir": tmp_path, "orchestrate": {"workers": "per_stage"}}
    )
    specs = worker_specs(RunOptions(), settings)
    assert [s.stage for s in specs] == ["ingest", "bronze", "refine", "maintain"]
    maintain = specs[-1]
    assert maintain.options["periodic"] is True
    assert maintain.every_s == settings.lake.maintenance_interval_s


def test_stages_of_a_shared_worker_run_in_one_process(
    child_env: Callable[..., Settings], tmp_path: Path
) -> None:
    settings = child_env(tmp_path / "data")
    events: list[SupervisorEvent] = []
    spec = WorkerSpec(f"{STAGES}:counting+{STAGES}:long_step", {"n": 10, "seconds": 0.5})
    sup = Supervisor(settings, [spec], on_event=events.append)
    sup.start()
    try:
        run_until(sup, sup.all_done, 60)
    finally:
        sup.stop()
    assert list(sup.workers) == ["counting+long_step"]
    counting = read_status(settings.data_dir, "counting")
    long_step = read_status(settings.data_dir, "long_step")
    assert counting is not None
    assert long_step is not None
    assert counting.pid == long_step.pid  # threads of one process
    assert counting.state == long_step.state == "done"
    assert (settings.data_dir / "counting.out").read_text() == "10"
    assert sorted((e.kind, e.stage) for e in events) == [
        ("done", "counting"),
        ("done", "long_step"),
        ("started", "counting"),
        ("started", "long_step"),
    ]
    assert set(sup.stage_views()) == {"counting", "long_step"}


def test_a_finished_stage_beside_running_ones_is_not_a_stall(
    child_env: Callable[..., Settings], tmp_path: Path
) -> None:
    """Ingest ends with its replay while bronze runs on: its silent status is not a hang."""
    settings = child_env(tmp_path / "data")
    events: list[SupervisorEvent] = []
    spec = WorkerSpec(f"{STAGES}:counting+{STAGES}:forever", {"n": 3})
    sup = Supervisor(settings, [spec], stall_timeout_s=1.0, on_event=events.append)
    sup.start()
    try:
        run_until(sup, lambda: _state(settings, "counting") == "done", 30)
        finished = time.monotonic()
        run_until(sup, lambda: time.monotonic() - finished > 3.0, 10)
    finally:
        sup.stop()
    assert [e.kind for e in events] == ["started", "started"]
    assert sup.workers[spec.label].restarts == 0


def _progress(settings: Settings, stage: str) -> object:
    status = read_status(settings.data_dir, stage)
    return status.progress_at if status is not None else None


def _state(settings: Settings, stage: str) -> str | None:
    status = read_status(settings.data_dir, stage)
    return status.state if status is not None else None


def test_a_failing_stage_restarts_its_shared_worker(
    child_env: Callable[..., Settings], tmp_path: Path
) -> None:
    """The crash stops the peer (which keeps its progress) and the whole worker restarts."""
    settings = child_env(tmp_path / "data")
    events: list[SupervisorEvent] = []
    spec = WorkerSpec(f"{STAGES}:crash_after_peer_started+{STAGES}:counting", {"n": 150})
    sup = Supervisor(settings, [spec], on_event=events.append)
    sup.start()
    try:
        run_until(sup, sup.all_done, 90)
    finally:
        sup.stop()
    exited = sorted(e.stage for e in events if e.kind == "exited")
    assert exited == ["counting", "crash_after_peer_started"]
    assert all(e.restarts == 1 for e in events if e.kind in ("exited", "restarted"))
    crashed_pid = int((settings.data_dir / "peer-crash.marker").read_text())
    counting = read_status(settings.data_dir, "counting")
    assert counting is not None
    assert counting.state == "done"
    assert counting.pid != crashed_pid  # finished by the restarted worker
    assert (settings.data_dir / "counting.out").read_text() == "150"
    views = sup.stage_views()
    assert views["counting"].restarts == views["crash_after_peer_started"].restarts == 1


def test_a_stalled_stage_restarts_its_shared_worker(
    child_env: Callable[..., Settings], tmp_path: Path
) -> None:
    """Pending input and no progress in one stage: the watchdog names it and restarts the worker."""
    settings = child_env(tmp_path / "data")
    events: list[SupervisorEvent] = []
    spec = WorkerSpec(f"{STAGES}:counting+{STAGES}:pending_hang", {"n": 5})
    sup = Supervisor(settings, [spec], stall_timeout_s=2.0, on_event=events.append)
    sup.start()
    try:
        run_until(sup, sup.all_done, 90)
    finally:
        sup.stop()
    stalled = [e for e in events if e.kind == "stalled"]
    assert {e.stage for e in stalled} == {"counting", "pending_hang"}
    assert all("stage pending_hang: input pending but no progress" in e.reason for e in stalled)
    hung_pid = int((settings.data_dir / "pending-hang.marker").read_text())
    final = read_status(settings.data_dir, "pending_hang")
    assert final is not None
    assert final.state == "done"
    assert final.pid != hung_pid


def test_run_finds_the_dashboard_the_shared_worker_serves(
    child_env: Callable[..., Settings], tmp_path: Path
) -> None:
    settings = child_env(
        tmp_path / "data", observe__metrics_enabled="false", serve__port=0, serve__enabled="true"
    )
    runner = ContinuousRun(
        settings, RunOptions(stages=("ingest",)), specs=[WorkerSpec(f"{STAGES}:forever+serve")]
    )
    thread = threading.Thread(target=runner.run, kwargs={"live": False}, daemon=True)
    thread.start()
    try:
        wait_for(lambda: runner.dashboard_url is not None, 60, "the dashboard URL")
        url = str(runner.dashboard_url)
        assert url.startswith("http://127.0.0.1:")
        assert not url.endswith(":0/")
        response = httpx.get(url, timeout=30)
        assert response.status_code == 200
        assert "text/html" in response.headers["content-type"]
        serve = read_status(settings.data_dir, "serve")
        forever = read_status(settings.data_dir, "forever")
        assert serve is not None
        assert forever is not None
        assert serve.pid == forever.pid
    finally:
        runner.stop.set()
        thread.join(timeout=30)
    assert not thread.is_alive()
    with pytest.raises(httpx.TransportError):
        httpx.get(url, timeout=5)


def test_a_taken_dashboard_port_fails_serve_only(
    child_env: Callable[..., Settings], tmp_path: Path
) -> None:
    """The dashboard cannot bind: serve says why and idles; the stages beside it keep running."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        settings = child_env(tmp_path / "data", serve__port=port)
        events: list[SupervisorEvent] = []
        sup = Supervisor(settings, [WorkerSpec(f"{STAGES}:forever+serve")], on_event=events.append)
        sup.start()
        try:
            run_until(sup, lambda: _state(settings, "serve") == "failed", 60)
            run_until(sup, lambda: _progress(settings, "forever") is not None, 30)
            before = read_status(settings.data_dir, "forever")
            time.sleep(1.5)
            sup.tick()
            after = read_status(settings.data_dir, "forever")
        finally:
            sup.stop()
    serve = read_status(settings.data_dir, "serve")
    assert serve is not None
    assert str(port) in str(serve.last_error)
    assert before is not None
    assert after is not None
    assert after.progress_at is not None
    assert before.progress_at is not None
    assert after.progress_at > before.progress_at  # forever still runs
    assert after.pid == serve.pid
    assert [e.kind for e in events] == ["started", "started"]  # no restart for a taken port
