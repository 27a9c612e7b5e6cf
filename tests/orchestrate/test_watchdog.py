"""Acceptance (issue 5, item 4): hung stages are restarted by the watchdog; the replay completes.

The continuous supervisor runs real worker processes: the built-in ingest stage, and bronze and
refine wrappers that hang on their first run (no heartbeat, SIGTERM ignored) and then run the real
stages. With ``orchestrate.stall_timeout_s = 2`` each hung stage must be killed and restarted
within that time (plus the supervisor's SIGTERM grace), the restart must show in the metrics and
reach the webhook as an alert, and the tables must end up complete and correct.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.orchestrate.conftest import WebhookReceiver, wait_for
from wikistream.lake.catalog import ensure_lake, open_catalog
from wikistream.lake.schemas import BRONZE, HOURLY_STATS, SILVER
from wikistream.orchestrate.continuous import ContinuousRun
from wikistream.orchestrate.pipeline import RunOptions
from wikistream.orchestrate.supervisor import SupervisorEvent, WorkerSpec
from wikistream.settings import Settings

HANG = "tests.orchestrate.hanging_stages"
STALL_S = 2.0
# ticks (0.5 s), the first status write and a loaded 2-core machine
SLACK_S = 6.0


def _ids(settings: Settings, table: str) -> list[str]:
    arrow = open_catalog(settings).load_table(table).scan(selected_fields=("event_id",)).to_arrow()
    return arrow.column("event_id").to_pylist()


def _gold_events(settings: Settings) -> int:
    table = open_catalog(settings).load_table(HOURLY_STATS.identifier)
    return sum(table.scan(selected_fields=("total_events",)).to_arrow()["total_events"].to_pylist())


@pytest.mark.slow
def test_hung_stages_are_restarted_and_the_replay_finishes(
    child_env: Callable[..., Settings],
    replay: tuple[Path, dict[str, Any]],
    webhook: WebhookReceiver,
    tmp_path: Path,
) -> None:
    path, manifest = replay
    target = manifest["target_events"]
    settings = child_env(
        tmp_path / "data",
        orchestrate__stall_timeout_s=STALL_S,
        observe__metrics_port=0,
        observe__webhook_url=webhook.url,
        serve__enabled="false",
        lake__commit_interval_s=1,
    )
    options = RunOptions(replay=path, speed="max")
    body = options.to_dict()
    specs = [
        WorkerSpec("ingest", body),
        WorkerSpec(f"{HANG}:bronze", body),
        WorkerSpec(f"{HANG}:refine", body),
    ]
    ensure_lake(open_catalog(settings))  # so the test can poll tables before bronze exists
    runner = ContinuousRun(settings, options, specs=specs)
    events: list[SupervisorEvent] = []
    record = runner.supervisor.on_event

    def on_event(event: SupervisorEvent) -> None:
        events.append(event)
        record(event)

    runner.supervisor.on_event = on_event
    thread = threading.Thread(target=runner.run, kwargs={"live": False}, daemon=True)
    thread.start()
    try:

        def complete() -> bool:
            if len(_ids(settings, SILVER.identifier)) != target:
                return False
            return _gold_events(settings) == target

        wait_for(complete, 240, "silver and gold to hold every replayed event", step=1.0)
        wait_for(
            lambda: (
                {p.get("stage") for p in webhook.payloads("STAGE_RESTART")} >= {"bronze", "refine"}
            ),
            30,
            "the restart alerts at the webhook",
        )
        metrics = runner.metrics.render().decode()
    finally:
        runner.stop.set()
        thread.join(60)
    assert not thread.is_alive()

    for stage in ("bronze", "refine"):
        pid, hung_at = (settings.data_dir / f"{stage}.hung").read_text().split()
        stalled = [e for e in events if e.kind == "stalled" and e.stage == stage]
        assert len(stalled) == 1, [(e.kind, e.stage, e.reason) for e in events]
        after = (stalled[0].at - datetime.fromtimestamp(float(hung_at), UTC)).total_seconds()
        assert STALL_S - 0.5 <= after <= STALL_S + SLACK_S, f"{stage} stalled after {after:.1f} s"
        # the heartbeat thread proves the process alive; the claimed input did not move
        assert "pending but no progress" in stalled[0].reason
        # SIGTERM is ignored: SIGKILL after the 5 s grace, then the 1 s backoff
        (restarted,) = [e for e in events if e.kind == "restarted" and e.stage == stage]
        took = (restarted.at - stalled[0].at).total_seconds()
        assert 5.0 <= took <= 6.0 + SLACK_S, f"{stage} restarted {took:.1f} s after the stall"
        with pytest.raises(ProcessLookupError):
            os.kill(int(pid), 0)  # the hung process is gone (SIGKILL after the grace)
        assert runner.supervisor.workers[stage].restarts == 1
        assert f'wikistream_stage_restarts_total{{outcome="ok",stage="{stage}"}} 1.0' in metrics
    assert [e.stage for e in events if e.kind == "done"] == ["ingest"]
    restart_alert = next(p for p in webhook.payloads("STAGE_RESTART") if p["stage"] == "bronze")
    assert restart_alert["severity"] == "INFO"
    assert "no progress" in restart_alert["reason"]

    bronze_ids = _ids(settings, BRONZE.identifier)
    assert len(bronze_ids) == len(set(bronze_ids)) == target
    silver_ids = _ids(settings, SILVER.identifier)
    assert sorted(silver_ids) == sorted(bronze_ids)
    assert _gold_events(settings) == target
