"""Coverage ledger and duplicate detection."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime
from pathlib import Path

from tests.ingest.events import EventFactory, ListSource, base_event, dumps, sse
from wikistream.eventlog.registry import open_event_log
from wikistream.ingest.ingestor import Ingestor
from wikistream.ingest.ledger import (
    NO_POSITION,
    CoverageRow,
    RecentIds,
    SourceCoverage,
    rows_from_state,
)
from wikistream.settings import Settings


def test_gaps_and_duplicates_are_counted_per_hour_and_partition() -> None:
    cov = SourceCoverage(retention_hours=168)
    h1, h2 = "2026-02-26T15", "2026-02-26T16"
    assert not cov.observe("eqiad.rc", 0, 10, h1)
    assert not cov.observe("eqiad.rc", 0, 11, h1)
    assert not cov.observe("eqiad.rc", 0, 15, h1)  # 12, 13, 14 never arrived
    assert cov.observe("eqiad.rc", 0, 11, h1)  # redelivered
    assert cov.observe("eqiad.rc", 0, 15, h1)
    assert not cov.observe("eqiad.rc", 0, 16, h2)
    assert not cov.observe("eqiad.rc", 0, 20, h2)  # 17..19 skipped, counted in the next hour
    assert not cov.observe("codfw.rc", 0, 3, h2)  # another topic has its own offsets
    assert not cov.observe("eqiad.rc", 1, 3, h2)  # and so has another partition
    rows = {(r.hour, r.topic, r.partition): r for r in cov.rows()}
    assert rows[(h1, "eqiad.rc", 0)] == CoverageRow(h1, "eqiad.rc", 0, 3, 3, 2)
    assert rows[(h2, "eqiad.rc", 0)] == CoverageRow(h2, "eqiad.rc", 0, 2, 3, 0)
    assert rows[(h2, "codfw.rc", 0)].received == 1
    assert rows[(h2, "eqiad.rc", 1)].skipped == 0
    assert rows[(h1, "eqiad.rc", 0)].coverage == 0.5
    assert next(r.hour for r in cov.rows()) == h2  # newest first


def test_ledger_state_round_trips_through_json() -> None:
    cov = SourceCoverage(168)
    cov.observe("t", 0, 1, "2026-02-26T15")
    cov.observe("t", 0, 4, "2026-02-26T15")
    cov.observe_unpositioned("2026-02-26T15", duplicate=False)
    again = SourceCoverage(168, json.loads(json.dumps(cov.state())))
    assert again.rows() == cov.rows()
    assert again.observe("t", 0, 4, "2026-02-26T15")  # the last offset survived
    assert any(f"{r.topic}|{r.partition}" == NO_POSITION for r in again.rows())


def test_ledger_is_bounded_to_the_retention_window() -> None:
    cov = SourceCoverage(retention_hours=24)
    for day in range(1, 11):
        cov.observe("t", 0, day, f"2026-02-{day:02d}T00")
    cov.prune(datetime(2026, 3, 1, tzinfo=UTC))
    assert [r.hour for r in cov.rows()] == ["2026-02-10T00"]


def test_a_future_dated_event_does_not_prune_real_hours() -> None:
    cov = SourceCoverage(retention_hours=24)
    cov.observe("t", 0, 1, "2026-02-10T00")
    cov.observe("t", 0, 2, "9999-12-31T23")
    cov.prune(datetime(2026, 2, 10, 5, tzinfo=UTC))
    assert {r.hour for r in cov.rows()} == {"2026-02-10T00", "9999-12-31T23"}


def test_recent_ids_forget_the_oldest() -> None:
    ids = RecentIds(2)
    assert not ids.seen("a")
    assert not ids.seen("b")
    assert ids.seen("a")
    assert not ids.seen("c")  # "a" is forgotten now
    assert not ids.seen("a")
    assert ids.state() == ["c", "a"]
    assert not RecentIds(0).seen("x")
    assert len(RecentIds(0)) == 0


def test_ingest_ledger_counts_dlq_and_filtered_events_too(
    settings: Settings, shared_data: Path
) -> None:
    factory = EventFactory(base_event(shared_data), start_offset=100)
    good = factory.make()
    bad = factory.make()
    bad["namespace"] = "zero"  # dead-lettered, but it still consumed upstream offset 102
    other = factory.make(domain="commons.wikimedia.org")
    factory.offset += 2  # offsets 104, 105 never delivered
    last = factory.make()
    log = open_event_log(settings)
    texts = [dumps(e) for e in (good, bad, other, last, good)]
    Ingestor(settings, log).run(
        ListSource([sse(t, i) for i, t in enumerate(texts)]), threading.Event()
    )
    stored = log.load_checkpoint("ingest")["coverage"]
    assert stored["offsets"] == {"codfw.mediawiki.recentchange|0": 106}
    (counts,) = stored["hours"].values()
    assert counts == {"codfw.mediawiki.recentchange|0": [4, 2, 1]}


def test_stored_ledger_reads_like_the_live_one_and_skips_malformed_entries() -> None:
    cov = SourceCoverage(retention_hours=168)
    cov.observe("eqiad.rc", 0, 10, "2026-02-26T15")
    cov.observe("eqiad.rc", 0, 14, "2026-02-26T16")
    cov.observe_unpositioned("2026-02-26T16", duplicate=True)
    assert rows_from_state(json.loads(json.dumps(cov.state()))) == cov.rows()
    state = {
        "hours": {
            "h1": {"t|0": ["x", 1, 2], "t|1": [1, 2], "no-partition": [1, 2, 3], "t|2": [4, 5, 6]},
            "h2": [1, 2, 3],
        }
    }
    assert rows_from_state(state) == [CoverageRow("h1", "t", 2, 4, 5, 6)]
    assert rows_from_state({"hours": "nonsense"}) == rows_from_state(None) == []
