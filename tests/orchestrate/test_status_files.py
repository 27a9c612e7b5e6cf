"""Stage staleness and the alarms file, as `wikistream status` and the dashboard read them."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from wikistream.observe.alerts import Alert, AlertStatus, Severity
from wikistream.orchestrate.feed import read_alerts, write_alerts
from wikistream.orchestrate.status import STALE_AFTER_S, StageStatus, is_stale, status_dir

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def _status(state: str, heartbeat_age_s: float) -> StageStatus:
    return StageStatus("bronze", state=state, heartbeat_at=NOW - timedelta(seconds=heartbeat_age_s))


def test_only_an_unfinished_stage_without_a_recent_heartbeat_is_stale() -> None:
    assert is_stale(_status("running", STALE_AFTER_S + 1), NOW)
    assert is_stale(_status("idle", STALE_AFTER_S + 1), NOW)
    assert not is_stale(_status("running", STALE_AFTER_S - 1), NOW)
    for final in ("done", "stopped", "failed"):
        assert not is_stale(_status(final, 3600), NOW)
    unreadable_time = StageStatus.from_json(json.dumps({"stage": "x", "heartbeat_at": None}))
    assert not is_stale(unreadable_time, NOW)


def test_alarms_written_by_the_runner_read_back(tmp_path: Path) -> None:
    alert = Alert(
        name="dlq-high-rate",
        key="dlq",
        severity=Severity.CRITICAL,
        status=AlertStatus.FIRING,
        title="DLQ rate high",
        summary="12/min",
        details={},
        started_at=NOW,
        at=NOW,
    )
    write_alerts(tmp_path, [alert])
    (read,) = read_alerts(tmp_path)
    assert (read["name"], read["severity"], read["since"]) == (
        "dlq-high-rate",
        "CRITICAL",
        NOW.isoformat(),
    )


def test_a_bad_or_wrapped_alarms_file_reads_defensively(tmp_path: Path) -> None:
    path = status_dir(tmp_path) / "alerts.json"
    assert read_alerts(tmp_path) == []
    path.write_text("{half")
    assert read_alerts(tmp_path) == []
    path.write_text(json.dumps({"alarms": [{"name": "a"}, "junk"]}))
    assert read_alerts(tmp_path) == [{"name": "a"}]
    path.write_text(json.dumps({"alerts": 5}))
    assert read_alerts(tmp_path) == []
