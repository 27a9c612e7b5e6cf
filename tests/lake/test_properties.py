"""Property tests over generated events: gold invariants, and incremental == full rebuild.

Events come in random order, split into commits, with duplicates (on other log partitions, so an
earlier copy may arrive later) and events up to three days late.
"""

from __future__ import annotations

import itertools
import shutil
import tempfile
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.lake.bronze_rows import bronze_table, event, shifted
from tests.lake.conftest import Lake, make_lake
from wikistream.lake import transform
from wikistream.lake.gold import compute_gold
from wikistream.lake.refresh import rebuild
from wikistream.lake.schemas import DAILY_SUMMARY, HOURLY_STATS, RISK_SCORES, SILVER
from wikistream.lake.silver import clean_batch
from wikistream.settings import Settings

BASE = datetime(2026, 2, 26, 0, 0, tzinfo=UTC)
USERS = ["Alice", "Bob", "203.0.113.9", "2001:DB8:0:0:0:0:0:1", "~2026-1234-5", None, "Zed"]
DOMAINS = ["en.wikipedia.org", "de.wikipedia.org", "ar.wikipedia.org", "www.wikidata.org"]
DELTAS = [None, 0, 12, -300, -5001, 50001, 7]
TYPES = ["edit", "new", "log", "categorize"]
TABLES = (SILVER, HOURLY_STATS, RISK_SCORES, DAILY_SUMMARY)

base_event = st.fixed_dictionaries(
    {
        "user": st.sampled_from(USERS),
        "domain": st.sampled_from(DOMAINS),
        "delta": st.sampled_from(DELTAS),
        "event_type": st.sampled_from(TYPES),
        "bot": st.booleans(),
        "minutes_late": st.integers(0, 3 * 24 * 60),  # up to three days before "now"
        "hour": st.integers(0, 23),
        "title": st.sampled_from(["A", "B", "C"]),
    }
)


def to_rows(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    rows = []
    for n, e in enumerate(events):
        at = BASE + timedelta(hours=e["hour"]) - timedelta(minutes=e["minutes_late"])
        rows.append(
            event(
                n,
                at=at,
                user=e["user"],
                domain=e["domain"],
                delta=e["delta"],
                event_type=e["event_type"],
                bot=e["bot"],
                title=e["title"],
            )
        )
    return rows


@st.composite
def arrivals(draw: st.DrawFn) -> list[list[dict[str, Any]]]:
    """Bronze commits: shuffled events plus duplicates, offsets in arrival order."""
    events = to_rows(draw(st.lists(base_event, min_size=1, max_size=40)))
    copies = draw(st.lists(st.sampled_from(events), max_size=8))
    stream = draw(st.permutations(events + copies))
    offsets = {0: itertools.count(), 1: itertools.count()}
    placed = []
    for row in stream:
        partition = draw(st.integers(0, 1))
        placed.append(shifted(row, offset=next(offsets[partition]), partition=partition))
    cuts = sorted(draw(st.lists(st.integers(0, len(placed)), max_size=2)))
    bounds = [0, *cuts, len(placed)]
    return [placed[a:b] for a, b in itertools.pairwise(bounds)]


def snapshot(lake: Lake) -> dict[str, list[dict[str, Any]]]:
    return {t.identifier: lake.rows(t) for t in TABLES}


@settings(
    max_examples=5,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(commits=arrivals(), gold_every_commit=st.booleans())
def test_incremental_equals_full_replay_and_rebuild(
    commits: list[list[dict[str, Any]]], gold_every_commit: bool
) -> None:
    root = Path(tempfile.mkdtemp(prefix="wikistream-prop-"))
    try:
        incremental = make_lake(root / "incremental")
        for rows in commits:
            incremental.append(rows)
            incremental.silver()
            if gold_every_commit:
                incremental.gold()
        incremental.gold()
        replay = make_lake(root / "replay")
        for rows in commits:
            replay.append(rows)
        replay.run()
        result = snapshot(incremental)
        assert result == snapshot(replay)
        rebuild(incremental.settings, "silver", catalog=incremental.catalog)
        rebuild(incremental.settings, "gold", catalog=incremental.catalog)
        assert snapshot(incremental) == result
        check_invariants(result)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def check_invariants(tables: dict[str, list[dict[str, Any]]]) -> None:
    silver = tables[SILVER.identifier]
    hourly = tables[HOURLY_STATS.identifier]
    daily = tables[DAILY_SUMMARY.identifier]
    assert sum(h["total_events"] for h in hourly) == len(silver)
    assert len({(r["event_date"], r["event_id"]) for r in silver}) == len(silver)
    per_day: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for h in hourly:
        per_day[h["stat_date"]][0] += h["bytes_added"]
        per_day[h["stat_date"]][1] += h["bytes_removed"]
    for d in daily:
        assert per_day[d["summary_date"]] == [d["total_bytes_added"], d["total_bytes_removed"]]
    for risk in tables[RISK_SCORES.identifier]:
        assert 0 <= risk["risk_score"] <= 100


@settings(max_examples=40, deadline=None)
@given(events=st.lists(base_event, min_size=1, max_size=60))
def test_gold_model_invariants(events: list[dict[str, Any]]) -> None:
    """The SQL models alone (no Iceberg), many more cases: the seed's aggregate identities."""
    settings_ = Settings(data_dir=Path(tempfile.gettempdir()) / "wikistream-prop-models")
    with transform.connect(settings_) as con:
        existing = pa.table(
            {
                "event_date": pa.array([], pa.string()),
                "event_id": pa.array([], pa.string()),
                "log_partition": pa.array([], pa.int32()),
                "log_offset": pa.array([], pa.int64()),
                "bronze_processed_at": pa.array([], pa.timestamp("us", "UTC")),
            }
        )
        silver, _ = clean_batch(con, bronze_table(to_rows(events)), existing)
        gold = compute_gold(con, silver)
    hourly = gold[HOURLY_STATS.identifier].to_pylist()
    daily = gold[DAILY_SUMMARY.identifier].to_pylist()
    risk = gold[RISK_SCORES.identifier].to_pylist()
    assert sum(h["total_events"] for h in hourly) == silver.num_rows
    for h in hourly:
        assert h["unique_users"] <= h["total_events"]
        assert h["bot_edits"] + h["human_edits"] == h["total_events"]
        assert h["ip_edits"] + h["temporary_edits"] == h["anonymous_edits"]
        assert 0 <= h["bot_percentage"] <= 100
    for d in daily:
        day_hours = [h for h in hourly if h["stat_date"] == d["summary_date"]]
        assert d["total_bytes_added"] == sum(h["bytes_added"] for h in day_hours)
        assert d["total_bytes_removed"] == sum(h["bytes_removed"] for h in day_hours)
        assert d["peak_hour_events"] == max(
            sum(h["total_events"] for h in day_hours if h["stat_hour"] == hour)
            for hour in {h["stat_hour"] for h in day_hours}
        )
        assert d["unique_users"] <= d["total_events"]
        regions = ("europe", "americas", "asia_pacific", "middle_east", "other")
        assert abs(sum(d[f"{r}_percentage"] for r in regions) - 100) < 0.05
        assert 0 <= d["platform_health_score"] <= 100
    for r in risk:
        assert 0 <= r["risk_score"] <= 100
        points = (
            r["velocity_points"] + r["deletion_points"] + r["anonymous_points"]
            + r["cross_domain_points"]
        )  # fmt: skip
        assert r["risk_score"] == min(100, points)
        assert r["risk_level"] == ("HIGH" if points >= 70 else "MEDIUM" if points >= 40 else "LOW")
        assert r["alert_triggered"] == (r["risk_level"] == "HIGH")
        assert r["total_edits"] >= 5
        assert 1 <= r["peak_hour_edits"] <= r["total_edits"]
