"""The status feed gives the watchdog rules what they need (seed §6.6, small thresholds).

"No bronze rows for N minutes while events arrive" is an alarm; canary heartbeats tell "the source
is silent" from "we are stalled". Status files are written and read back exactly as the workers
and the supervisor do; only the clock is the test's.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from tests.observe.conftest import FakeClock
from wikistream.observe.metrics import PipelineMetrics
from wikistream.observe.rules import BronzeHealthRule, DriftRule, StaleSourceRule
from wikistream.orchestrate.feed import StatusFeed
from wikistream.orchestrate.status import StageStatus, read_status, write_status

SILENCE_S = 60.0


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


class Pipeline:
    """Ingest and bronze status files, the supervisor's feed, and the two rules."""

    def __init__(self, data_dir: Path, clock: FakeClock) -> None:
        self.data_dir = data_dir
        self.clock = clock
        self.metrics = PipelineMetrics(clock=clock, process_metrics=False, cpu_seconds=None)
        self.feed = StatusFeed(self.metrics)
        self.bronze_rule = BronzeHealthRule(SILENCE_S)
        self.source_rule = StaleSourceRule(SILENCE_S)
        self.appended = 0
        self.bronze_rows = 0
        self.last_event_at: datetime | None = None
        self.last_canary_at: datetime | None = None

    def tick(self, seconds: float, *, events: int = 0, written: int = 0, canary: bool = False):
        """Advance time; ingest appends ``events``, bronze writes ``written``; evaluate rules."""
        now = self.clock.advance(seconds)
        self.appended += events
        self.bronze_rows += written
        if events:
            self.last_event_at = now
        if canary:
            self.last_canary_at = now
        ingest = StageStatus(stage="ingest", state="running")
        ingest.counters = {"received": self.appended, "appended": self.appended}
        ingest.details = {
            "source": {"last_event_at": self.last_event_at and self.last_event_at.isoformat()},
            "canary": {"last_received_at": self.last_canary_at and self.last_canary_at.isoformat()},
        }
        bronze = StageStatus(stage="bronze", state="running")
        bronze.counters = {
            "records": self.bronze_rows,
            "rows": self.bronze_rows,
            "batches": self.bronze_rows // 10,
            "lag": self.appended - self.bronze_rows,
        }
        for status in (ingest, bronze):
            write_status(self.data_dir, status)
        self.feed.update({s: read_status(self.data_dir, s) for s in ("ingest", "bronze")})
        state = self.metrics.snapshot()
        bronze_findings = self.bronze_rule.evaluate(state)
        source_findings = self.source_rule.evaluate(state)
        return [f.rule for f in bronze_findings + source_findings]


def test_bronze_silent_while_events_arrive_is_an_alarm(tmp_path: Path, clock: FakeClock) -> None:
    p = Pipeline(tmp_path, clock)
    assert p.tick(0, events=100, written=100) == []
    for _ in range(5):  # events keep arriving, bronze writes nothing, lag grows
        assert p.tick(10, events=20) == []
    fired = p.tick(15, events=20)  # 65 s without a bronze row
    assert fired == ["bronze_stalled"]
    finding = p.bronze_rule.evaluate(p.metrics.snapshot())[0]
    assert finding.details["consumer_lag"] == 120
    assert finding.details["events_appended_in_window"] >= 100
    # bronze catches up: the alarm clears at once
    assert p.tick(5, events=5, written=125) == []


def test_a_silent_source_with_canaries_is_no_alarm(tmp_path: Path, clock: FakeClock) -> None:
    p = Pipeline(tmp_path, clock)
    p.tick(0, events=50, written=50, canary=True)
    for _ in range(10):  # no edits for 100 s, but the heartbeat canary keeps coming
        assert p.tick(10, canary=True) == []
    # canaries stop too: the source (not bronze) is reported, once the threshold has passed
    assert p.tick(30) == []
    assert p.tick(31) == ["source_stale"]
    assert "bronze_stalled" not in p.tick(120)


def test_bronze_lag_without_new_events_is_still_an_alarm(tmp_path: Path, clock: FakeClock) -> None:
    """A backlog left in the log (bronze down while ingest wrote) counts as data waiting."""
    p = Pipeline(tmp_path, clock)
    p.tick(0, events=500, written=100, canary=True)
    assert p.tick(30, canary=True) == []
    assert p.tick(31, canary=True) == ["bronze_stalled"]


def test_refine_status_feeds_drift_alarms_and_layer_latency(
    tmp_path: Path, clock: FakeClock
) -> None:
    """The refine worker's gate drift reaches the data_drift rule, its event times the latency."""
    metrics = PipelineMetrics(clock=clock, process_metrics=False, cpu_seconds=None)
    feed = StatusFeed(metrics)
    now = clock.advance(0)
    refine = StageStatus(stage="refine", state="running")
    refine.details = {
        "last_silver": {
            "at": now.isoformat(),
            "rows_out": 3,
            "duration_s": 0.5,
            "event_times": [now.timestamp() - 4.0, now.timestamp() - 2.0],
        },
        "gates": {
            "silver": {
                "run_id": "run-1",
                "layer": "silver",
                "at": now.isoformat(),
                "results": [],
                "drift": [
                    {
                        "table": "silver.cleaned_events",
                        "column": "user_type",
                        "current": 0.55,
                        "baseline": 0.20,
                        "level": "warning",
                    }
                ],
            }
        },
    }
    write_status(tmp_path, refine)
    feed.update({"refine": read_status(tmp_path, "refine")})
    feed.update({"refine": read_status(tmp_path, "refine")})  # the same status counts once

    findings = DriftRule(0.20).evaluate(metrics.snapshot())
    assert [f.key for f in findings] == ["data_drift:silver:user_type"]
    histogram = metrics.series.e2e_latency.labels("silver")
    samples = {s.name: s.value for s in histogram.collect()[0].samples if not s.labels.get("le")}
    assert samples["wikistream_end_to_end_latency_seconds_count"] == 2
    assert samples["wikistream_end_to_end_latency_seconds_sum"] == pytest.approx(6.0)


def test_every_bronze_batch_time_is_observed_once(tmp_path: Path, clock: FakeClock) -> None:
    """Several commits between two supervisor reads each count; a restarted worker too."""
    metrics = PipelineMetrics(clock=clock, process_metrics=False, cpu_seconds=None)
    feed = StatusFeed(metrics)

    def report(batches: int, recent_ms: list[float]) -> None:
        bronze = StageStatus(stage="bronze", state="running")
        bronze.counters = {"records": batches, "rows": batches, "batches": batches, "lag": 0}
        bronze.details = {
            "last_batch": {
                "at": clock.advance(1).isoformat(),
                "processing_ms": recent_ms[-1],
                "recent_processing_ms": recent_ms,
            }
        }
        write_status(tmp_path, bronze)
        feed.update({"bronze": read_status(tmp_path, "bronze")})

    def observed() -> tuple[float, float]:
        (family,) = metrics.series.bronze_batch_seconds.collect()
        values = {s.name: s.value for s in family.samples if "le" not in s.labels}
        return values["wikistream_bronze_batch_duration_seconds_count"], values[
            "wikistream_bronze_batch_duration_seconds_sum"
        ]

    report(3, [100.0, 200.0, 300.0])
    assert observed() == (3, pytest.approx(0.6))
    report(3, [100.0, 200.0, 300.0])  # read again, nothing new
    assert observed() == (3, pytest.approx(0.6))
    report(5, [100.0, 200.0, 300.0, 400.0, 500.0])
    assert observed() == (5, pytest.approx(1.5))
    report(1, [50.0])  # the worker restarted: its counters start again
    assert observed() == (6, pytest.approx(1.55))
