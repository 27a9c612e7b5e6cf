"""Clean shutdown on SIGINT/SIGTERM within 2 s, also while idle, flushing what was read."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.ingest.events import EventFactory, base_event, dumps, sse
from wikistream.eventlog.registry import open_event_log
from wikistream.ingest.ingestor import Ingestor
from wikistream.ingest.signals import stop_on_signals
from wikistream.ingest.source import SourceStatus, SseEvent
from wikistream.settings import Settings

SRC = Path(__file__).resolve().parents[2] / "src"


class _IdleSource:
    """Yields one event, then only idle ticks (None) every 0.25 s, forever unless stopped."""

    def __init__(self, first: SseEvent) -> None:
        self.first, self.status = first, SourceStatus()

    def events(self, resume_id: str | None, stop: threading.Event) -> Iterator[SseEvent | None]:
        yield self.first
        while not stop.wait(0.25):
            yield None


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_signal_stops_an_idle_ingest_within_2_s_and_flushes(
    signum: int, tmp_path: Path, shared_data: Path
) -> None:
    settings = Settings(data_dir=tmp_path, ingest={"flush_interval_s": 3600})  # type: ignore[arg-type]
    log = open_event_log(settings)
    source = _IdleSource(sse(dumps(EventFactory(base_event(shared_data)).make()), 1))
    before = signal.getsignal(signum)
    sent_at: list[float] = []

    def send() -> None:
        sent_at.append(time.monotonic())
        os.kill(os.getpid(), signum)

    threading.Timer(0.5, send).start()
    with stop_on_signals(threading.Event()) as stop:
        summary = Ingestor(settings, log).run(source, stop)
    assert time.monotonic() - sent_at[0] < 2.0
    assert summary.reason == "stopped"
    assert len(log.read("raw-events", {}, 10)) == 1  # the buffered event was appended
    assert signal.getsignal(signum) is before  # handlers restored


def test_sigterm_stops_the_cli_within_2_s_while_idle(tmp_path: Path, shared_data: Path) -> None:
    feed = tmp_path / "feed.jsonl"  # followed (no --once): after its one line, only idle ticks
    feed.write_text(dumps(EventFactory(base_event(shared_data)).make()) + "\n", encoding="utf-8")
    data_dir = tmp_path / "data"
    env = {**os.environ, "PYTHONPATH": str(SRC), "WIKISTREAM_INGEST__FLUSH_INTERVAL_S": "3600"}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "wikistream",
            "--data-dir",
            str(data_dir),
            "ingest",
            "--replay",
            str(feed),
            "--speed",
            "max",
            "--output",
            "json",
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while not (data_dir / "eventlog.db").exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(1.0)  # well inside the idle loop by now
        assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
        sent = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=10)
        took = time.monotonic() - sent
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert took < 2.0
    summary = json.loads(out)
    assert summary["reason"] == "stopped"
    assert summary["total"]["appended"] == 1  # read before the signal, appended on the way out
