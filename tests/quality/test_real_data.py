"""The bronze gate on real recentchange events (SEED-FACTS §2.2 mapping, done minimally here)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from pyiceberg.catalog import Catalog

from tests.quality.rows import table
from wikistream.lake.schemas import BRONZE
from wikistream.quality.checks import Status
from wikistream.quality.gate import run_gate
from wikistream.settings import Settings


def _bronze_row(event: dict[str, Any], offset: int, processed: datetime) -> dict[str, Any]:
    ts = datetime.fromtimestamp(event["timestamp"], UTC)
    length = event.get("length") or {}
    old, new = length.get("old"), length.get("new")
    return {
        "event_id": event["meta"]["id"],
        "rc_id": event.get("id"),
        "event_type": event.get("type"),
        "namespace": event.get("namespace"),
        "domain": event["meta"]["domain"],
        "title": event.get("title"),
        "user": event.get("user"),
        "is_bot": bool(event.get("bot")),
        "wiki": event.get("wiki"),
        "length_old": old,
        "length_new": new,
        "length_delta": None if old is None or new is None else new - old,
        "event_timestamp": ts,
        "bronze_processed_at": processed,
        "event_date": ts.strftime("%Y-%m-%d"),
        "event_hour": ts.hour,
        "log_offset": offset,
    }


def _events(path: Path) -> list[dict[str, Any]]:
    events = []
    for line in path.read_text().splitlines():
        try:
            event = json.loads(line)
        except ValueError:
            continue
        if isinstance(event, dict) and "timestamp" in event and event.get("meta", {}).get("id"):
            events.append(event)
    return events


def test_bronze_gate_on_real_events(
    settings: Settings, catalog: Catalog, shared_data: Path
) -> None:
    events = _events(shared_data / "recentchange-enwiki-2023-07-29.jsonl")
    events += _events(shared_data / "recentchange-2026-02-26.jsonl")
    assert len(events) > 100
    # replayed a long time after the fact: timeliness warns, nothing blocks
    rows = [
        _bronze_row(e, i, datetime.fromtimestamp(e["timestamp"], UTC) + timedelta(days=2))
        for i, e in enumerate(events)
    ]
    result = run_gate(settings, catalog, "bronze", data=table(BRONZE, rows))
    statuses = {r.check_name: r.status for r in result.results}
    assert result.passed, [r.message for r in result.results if r.blocking]
    assert statuses["timeliness_p95_latency_s"] is Status.WARNING
    assert statuses["validity_domain_in_target_domains"] is Status.WARNING  # commons, wiktionary…
    assert statuses["uniqueness_event_id"] is Status.PASSED
    assert statuses["validity_event_type_in_allowed_values"] is Status.PASSED
    assert statuses["consistency_event_date"] is Status.PASSED
    dates = result.slices[0].data_dates
    assert dates[0] == "2023-07-29"
    assert dates[-1] == "2026-02-26"
