"""The supervisor with real worker processes: restart on crash and stall, done, clean stop."""

from __future__ import annotations

import itertools
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.orchestrate.conftest import run_until
from wikistream.orchestrate.status import read_status
from wikistream.orchestrate.supervisor import Supervisor, SupervisorEvent, WorkerSpec
from wikistream.settings import Settings

STAGES = "tests.orchestrate.stages_for_tests"
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _pythonpath(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        "PYTHONPATH",
        os.pathsep.join([str(REPO / "src"), str(REPO), os.environ.get("PYTHONPATH", "")]),
    )


def test_finished_stage_is_not_restarted(settings: Settings) -> None:
    events: list[SupervisorEvent] = []
    sup = Supervisor(
        settings, [WorkerSpec(f"{STAGES}:counting", {"n": 10})], on_event=events.append
    )
    sup.start()
    try:
        run_until(sup, sup.all_done, 30)
    finally:
        sup.stop()
    assert (settings.data_dir / "counting.out").read_text() == "10"
    assert [e.kind for e in events] == ["started", "done"]


def test_crashed_stage_is_restarted(settings: Settings) -> None:
    events: list[SupervisorEvent] = []
    sup = Supervisor(settings, [WorkerSpec(f"{STAGES}:crash_once")], on_event=events.append)
    sup.start()
    try:
        run_until(sup, sup.all_done, 30)
    finally:
        sup.stop()
    kinds = [e.kind for e in events]
    assert kinds == ["started", "exited", "restarted", "done"]
    assert events[1].restarts == 1


def test_hung_stage_is_restarted_within_stall_timeout(settings: Settings) -> None:
    events: list[SupervisorEvent] = []
    sup = Supervisor(
        settings, [WorkerSpec(f"{STAGES}:hang_once")], stall_timeout_s=2.0, on_event=events.append
    )
    marker = settings.data_dir / "hang.marker"
    sup.start()
    try:
        run_until(sup, marker.exists, 60)
        hung_at = time.monotonic()
        run_until(sup, lambda: any(e.kind == "stalled" for e in events), 30)
        stalled_after = time.monotonic() - hung_at
        run_until(sup, sup.all_done, 60)
    finally:
        sup.stop()
    # stall timeout 2 s; generous slack for a loaded 2-core CI machine
    assert 1.5 <= stalled_after < 12.0
    stalled = next(e for e in events if e.kind == "stalled")
    assert "no progress" in stalled.reason or "no heartbeat" in stalled.reason
    hung_pid = int(marker.read_text())
    with pytest.raises(ProcessLookupError):
        os.kill(hung_pid, 0)


def test_long_step_is_busy_not_stalled(settings: Settings) -> None:
    """Workers beat from a thread: a step longer than the stall timeout is not a hang."""
    events: list[SupervisorEvent] = []
    sup = Supervisor(
        settings,
        [WorkerSpec(f"{STAGES}:long_step", {"seconds": 4.0})],
        stall_timeout_s=1.0,
        on_event=events.append,
    )
    sup.start()
    try:
        run_until(sup, sup.all_done, 60)
    finally:
        sup.stop()
    assert [e.kind for e in events] == ["started", "done"]


def test_sigkill_of_supervisor_takes_workers_down(settings: Settings, tmp_path: Path) -> None:
    script = (
        "import sys, time\n"
        "from wikistream.settings import load_settings\n"
        "from wikistream.orchestrate.supervisor import Supervisor, WorkerSpec\n"
        f"s = load_settings(overrides={{'data_dir': {str(settings.data_dir)!r}}})\n"
        f"sup = Supervisor(s, [WorkerSpec('{STAGES}:forever')])\n"
        "sup.start()\n"
        "while True:\n    sup.tick(); time.sleep(0.1)\n"
    )
    parent = subprocess.Popen([sys.executable, "-c", script])
    deadline = time.monotonic() + 20
    pids: list[int] = []
    while time.monotonic() < deadline and not pids:
        pids = [int(p.read_text()) for p in settings.data_dir.glob("forever.*.pid")]
        time.sleep(0.1)
    assert pids, "worker never started"
    parent.send_signal(signal.SIGKILL)
    parent.wait()
    deadline = time.monotonic() + 5
    alive = True
    while time.monotonic() < deadline and alive:
        try:
            os.kill(pids[0], 0)
            time.sleep(0.1)
        except ProcessLookupError:
            alive = False
    assert not alive, "orphaned worker kept running after the supervisor was killed"


def test_periodic_stage_runs_once_per_process_at_its_interval(settings: Settings) -> None:
    """A periodic worker (table maintenance) exits between runs and is started again when due."""
    events: list[SupervisorEvent] = []
    every_s = 1.5
    sup = Supervisor(
        settings,
        [WorkerSpec(f"{STAGES}:periodic", every_s=every_s)],
        stall_timeout_s=0.5,  # no heartbeat between runs is not a stall
        on_event=events.append,
    )
    runs = settings.data_dir / "periodic.runs"

    def lines() -> list[list[str]]:
        return [line.split() for line in runs.read_text().splitlines()] if runs.exists() else []

    sup.start()
    try:
        run_until(sup, lambda: len(lines()) >= 3, 60)
        status = read_status(settings.data_dir, "periodic")
        assert status is not None
        assert status.state in ("scheduled", "running", "starting")
    finally:
        sup.stop()
    pids = [int(pid) for pid, _ in lines()]
    assert len(set(pids)) == len(pids)  # a fresh process per run
    starts = [float(at) for _, at in lines()]
    assert all(b - a >= every_s - 0.2 for a, b in itertools.pairwise(starts))
    assert {e.kind for e in events} == {"started"}  # scheduled runs are not restarts
    assert sup.workers["periodic"].restarts == 0
    final = read_status(settings.data_dir, "periodic")
    assert final is not None
    assert final.state == "stopped"
