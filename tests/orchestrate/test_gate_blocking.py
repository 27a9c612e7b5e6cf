"""Acceptance (issue 5, item 2): a planted bronze defect fails the bronze gate and blocks silver.

After a good replay, a foreign writer appends to bronze through pyiceberg a batch in which every
new event id occurs twice, plus copies of rows already stored. `wikistream run --once` (as cron
would run it, a real process) must fail the bronze gate on exactly that slice, keep the slice out
of silver and gold, and send the gate-failure alert to a webhook on loopback. Then both ways out:
an operator override, or `wikistream maintain --dedup-bronze`; either way silver and gold catch up
with every event exactly once.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from tests.orchestrate.conftest import WebhookReceiver
from wikistream.clock import utc_now
from wikistream.lake.catalog import open_catalog
from wikistream.lake.dedup import deduplicate_bronze
from wikistream.lake.maintenance import MaintenanceReport, expire_snapshots
from wikistream.lake.schemas import BRONZE, HOURLY_STATS, SILVER
from wikistream.orchestrate.pipeline import RunOptions, run_once
from wikistream.quality.audit import list_runs, record_override
from wikistream.settings import Settings

REPO = Path(__file__).resolve().parents[2]
PYTHONPATH = os.pathsep.join([str(REPO / "src"), str(REPO), os.environ.get("PYTHONPATH", "")])
REFINE = ("bronze", "silver", "gold", "dq")
NEW_IDS = 20
COPIES = 5


def _cli(settings: Settings, *args: str, env: dict[str, str] | None = None, code: int = 0) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "wikistream", "--data-dir", str(settings.data_dir), *args],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": PYTHONPATH, **(env or {})},
        timeout=120,
        check=False,
    )
    assert done.returncode == code, done.stderr
    return done.stdout


def _column(settings: Settings, table: str, column: str) -> list[Any]:
    rows = open_catalog(settings).load_table(table).scan(selected_fields=(column,)).to_arrow()
    return rows.column(column).to_pylist()


def _gold_events(settings: Settings) -> int:
    return sum(_column(settings, HOURLY_STATS.identifier, "total_events"))


@dataclass
class Planted:
    """What the defect added: fresh ids (each twice) and copies of stored rows."""

    new_ids: set[str]
    copied_ids: set[str]
    rows: int
    first_offsets: set[int]  # log positions of the first copy of each new id


def plant_duplicates(settings: Settings) -> Planted:
    """Append one batch to bronze behind the writer's back: duplicated ids, one Iceberg commit."""
    table = open_catalog(settings).load_table(BRONZE.identifier)
    stored = table.scan().to_arrow()
    offsets = stored.column("log_offset")
    top = pc.max(offsets).as_py()
    base = stored.slice(0, NEW_IDS)
    ids = pa.array([f"planted-{i:03d}" for i in range(NEW_IDS)], stored.schema.field(0).type)
    fresh = base.set_column(0, stored.schema.field(0), ids)
    copies = stored.slice(100, COPIES)
    batch = pa.concat_tables([fresh, fresh, copies])
    # later log positions than anything stored: dedup must keep the first copy of each id
    positions = pa.array(range(top + 1, top + 1 + batch.num_rows), pa.int64())
    batch = batch.set_column(batch.schema.get_field_index("log_offset"), "log_offset", positions)
    table.append(batch.cast(table.schema().as_arrow()))
    return Planted(
        set(ids.to_pylist()),
        set(copies.column("event_id").to_pylist()),
        batch.num_rows,
        set(range(top + 1, top + 1 + NEW_IDS)),
    )


def _blocked_lake(
    settings: Settings, replay: tuple[Path, dict[str, Any]], webhook: WebhookReceiver
) -> tuple[set[str], Planted, str]:
    """Good replay, planted defect, a blocked `run --once` (CLI, webhook configured)."""
    path, manifest = replay
    first = run_once(settings, RunOptions(replay=path, speed="max", once=True))
    assert not first.blocked
    assert not first.alerts
    good_ids = set(_column(settings, SILVER.identifier, "event_id"))
    assert len(good_ids) == manifest["target_events"]
    assert _gold_events(settings) == len(good_ids)
    planted = plant_duplicates(settings)

    out = _cli(
        settings,
        "run",
        "--once",
        "--stages",
        ",".join(REFINE),
        "--output",
        "json",
        env={"WIKISTREAM_OBSERVE__WEBHOOK_URL": webhook.url},
        code=3,  # finished, but a layer is blocked: schedulers must see it
    )
    summary = json.loads(out)
    run_id = summary["blocked"]["silver"]
    (gate,) = summary["gates"]
    assert gate["layer"] == "bronze"
    assert not gate["passed"]
    assert gate["run_id"] == run_id
    # the bad slice reached neither silver nor gold
    silver_ids = _column(settings, SILVER.identifier, "event_id")
    assert set(silver_ids) == good_ids
    assert len(silver_ids) == len(good_ids)
    assert _gold_events(settings) == len(good_ids)
    # the audit row names exactly the planted slice: the rows of one append
    (failed,) = [r for r in list_runs(open_catalog(settings), "bronze") if r.run_id == run_id]
    assert failed.slices[0].rows == planted.rows
    assert "uniqueness_event_id" in failed.failed_checks
    # the alert reached the webhook: the seed's gate-failure payload (SEED-FACTS §5.10)
    (alert,) = summary["alerts"]
    assert "webhook" in alert["delivered"]
    assert not alert["failed"]
    (payload,) = webhook.payloads("DATA_QUALITY_GATE_FAILURE")
    assert payload["layer"] == "bronze"
    assert payload["run_id"] == run_id
    assert payload["severity"] == "CRITICAL"
    assert payload["status"] == "firing"
    assert "uniqueness_event_id" in [c["name"] for c in payload["failed_checks"]]
    assert run_id in payload["query_hint"]
    return good_ids, planted, run_id


def _assert_caught_up(settings: Settings, good_ids: set[str], planted: Planted) -> None:
    silver_ids = _column(settings, SILVER.identifier, "event_id")
    counts = Counter(silver_ids)
    assert set(counts) == good_ids | planted.new_ids  # nothing lost
    assert max(counts.values()) == 1  # nothing twice
    assert _gold_events(settings) == len(silver_ids)


@pytest.mark.slow
def test_override_lets_the_accepted_slice_through(
    settings: Settings, replay: tuple[Path, dict[str, Any]], webhook: WebhookReceiver
) -> None:
    good_ids, planted, run_id = _blocked_lake(settings, replay, webhook)
    # still blocked on a second run: the same slice fails again, nothing moves
    again = run_once(settings, RunOptions(stages=REFINE, once=True))
    assert "silver" in again.blocked
    assert set(_column(settings, SILVER.identifier, "event_id")) == good_ids

    _cli(settings, "dq", "override", "--run-id", run_id, "--reason", "planted test duplicates")
    after = run_once(settings, RunOptions(stages=REFINE, once=True))
    assert not after.blocked
    assert not after.alerts
    _assert_caught_up(settings, good_ids, planted)
    # the override accepted the data as it is: bronze still holds the copies
    assert len(_column(settings, BRONZE.identifier, "event_id")) == len(good_ids) + planted.rows
    # and the chain is idle afterwards
    idle = run_once(settings, RunOptions(stages=REFINE, once=True))
    assert not idle.gates
    assert not any(s["rows_out"] for s in idle.silver)


@pytest.mark.slow
def test_dedup_bronze_fixes_the_slice_and_silver_catches_up(
    settings: Settings, replay: tuple[Path, dict[str, Any]], webhook: WebhookReceiver
) -> None:
    good_ids, planted, _ = _blocked_lake(settings, replay, webhook)
    dry = deduplicate_bronze(open_catalog(settings), dry_run=True)
    assert dry.surplus_rows == NEW_IDS + COPIES
    assert dry.snapshot_id is None
    report = json.loads(_cli(settings, "maintain", "--dedup-bronze", "-o", "json"))
    assert report["duplicate_ids"] == NEW_IDS + COPIES
    assert report["surplus_rows"] == NEW_IDS + COPIES
    assert report["rows_after"] == report["distinct_after"] == len(good_ids) + NEW_IDS
    bronze = open_catalog(settings).load_table(BRONZE.identifier).scan().to_arrow()
    # the earliest log position of each id survived: the originals, and the first planted copy
    kept = dict(zip(bronze["event_id"].to_pylist(), bronze["log_offset"].to_pylist(), strict=True))
    assert len(kept) == bronze.num_rows
    assert {kept[i] for i in planted.new_ids} == planted.first_offsets
    assert max(kept[i] for i in planted.copied_ids) < min(planted.first_offsets)

    fixed = run_once(settings, RunOptions(stages=REFINE, once=True))
    assert not fixed.blocked
    assert not fixed.alerts
    bronze_gate = [g for g in fixed.gates if g["layer"] == "bronze"]
    assert bronze_gate
    assert all(g["passed"] for g in bronze_gate)
    _assert_caught_up(settings, good_ids, planted)
    # nothing left to do: dedup finds nothing and the chain is idle
    clean = deduplicate_bronze(open_catalog(settings))
    assert clean.duplicate_ids == 0
    assert clean.rows_after == len(good_ids) + NEW_IDS
    idle = run_once(settings, RunOptions(stages=REFINE, once=True))
    assert not idle.gates


@pytest.mark.slow
def test_override_of_an_expired_slice_does_not_wedge_the_chain(
    settings: Settings, replay: tuple[Path, dict[str, Any]]
) -> None:
    """Bronze expires old snapshots while silver waits; an old override must not crash refine."""
    path, _ = replay
    run_once(settings, RunOptions(replay=path, speed="max", once=True))
    good_ids = set(_column(settings, SILVER.identifier, "event_id"))
    planted = plant_duplicates(settings)
    first = run_once(settings, RunOptions(stages=REFINE, once=True))
    old_run = first.blocked["silver"]
    # more bronze data arrives while blocked, and expiry drops every snapshot but the newest
    catalog = open_catalog(settings)
    bronze = catalog.load_table(BRONZE.identifier)
    extra = bronze.scan().to_arrow().slice(0, 7)
    extra_ids = pa.array([f"later-{i}" for i in range(7)], extra.schema.field(0).type)
    bronze.append(extra.set_column(0, extra.schema.field(0), extra_ids))
    expire_snapshots(
        lambda: catalog.load_table(BRONZE.identifier),
        max_age_h=48,
        min_keep=1,
        max_count=1,
        now=utc_now(),
        report=MaintenanceReport(BRONZE.identifier),
    )
    assert len(catalog.load_table(BRONZE.identifier).snapshots()) == 1
    record_override(catalog, old_run, "accepted too late")

    second = run_once(settings, RunOptions(stages=REFINE, once=True))  # must not raise
    new_run = second.blocked["silver"]  # the current slice was re-checked, and fails
    assert new_run != old_run
    assert set(_column(settings, SILVER.identifier, "event_id")) == good_ids
    record_override(catalog, new_run, "accepted")
    third = run_once(settings, RunOptions(stages=REFINE, once=True))
    assert not third.blocked
    _assert_caught_up(settings, good_ids | set(extra_ids.to_pylist()), planted)
