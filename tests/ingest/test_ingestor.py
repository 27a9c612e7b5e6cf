"""The Ingestor: real replays, envelope, resume, dedup, canaries, batching, append failures."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

from tests.ingest.events import (
    SAMPLE_2018,
    SAMPLE_2023,
    SAMPLE_2026,
    EventFactory,
    ListSource,
    base_event,
    dumps,
    real_events,
    sse,
)
from wikistream.errors import EventLogUnavailableError, ReplayFileError
from wikistream.eventlog.base import NewRecord
from wikistream.eventlog.registry import open_event_log
from wikistream.eventlog.sqlite import SqliteEventLog
from wikistream.ingest.config import SEED_TARGET_DOMAINS
from wikistream.ingest.ingestor import Ingestor
from wikistream.ingest.replay import ReplaySource
from wikistream.ingest.source import SourceStatus, SseEvent
from wikistream.settings import Settings, load_settings


def _raw_ids(log: Any, topic: str = "raw-events") -> list[str]:
    return [json.loads(r.value)["id"] for r in log.read(topic, {}, 100_000)]


@pytest.mark.parametrize(
    ("name", "appended", "filtered"),
    [(SAMPLE_2023, 100, 0), (SAMPLE_2026, 25, 25), (SAMPLE_2018, 0, 5607)],
)
def test_replay_of_real_files_lands_exactly_the_valid_target_events(
    name: str, appended: int, filtered: int, settings: Settings, shared_data: Path
) -> None:
    expected = [
        e["meta"]["id"]
        for e in real_events(shared_data, name)
        if e["meta"]["domain"] in SEED_TARGET_DOMAINS
    ]
    log = open_event_log(settings)
    source = ReplaySource(shared_data / name, None)
    summary = Ingestor(settings, log, resume_key=source.resume_key).run(source, threading.Event())
    assert summary.reason == "exhausted"
    assert summary.run.appended == appended == len(expected)
    assert summary.run.filtered == filtered
    assert summary.run.dead_lettered == summary.run.duplicates == summary.run.canary == 0
    assert _raw_ids(log) == expected


def test_envelope_keeps_data_verbatim_and_adds_the_source_position(
    settings: Settings, shared_data: Path
) -> None:
    line = next(
        line
        for line in (shared_data / SAMPLE_2026).read_text("utf-8").splitlines()
        if '"en.wikipedia.org"' in line
    )
    log = open_event_log(settings)
    Ingestor(settings, log).run(ListSource([sse(line, 7)]), threading.Event())
    (record,) = log.read("raw-events", {}, 10)
    event = json.loads(line)
    assert record.key == event["meta"]["id"].encode()
    envelope = json.loads(record.value)
    assert envelope["id"] == event["meta"]["id"]
    assert envelope["data"] == line  # byte for byte, not re-serialized
    processing = envelope["_processing"]
    assert processing["ingested_at"].endswith("Z")
    assert processing["environment"] == "dev"
    assert processing["producer_version"]
    assert processing["sse_id"] == sse(line, 7).id
    assert processing["source_topic"] == "codfw.mediawiki.recentchange"
    assert processing["source_partition"] == 0
    assert processing["source_offset"] == event["meta"]["offset"]


def test_restart_resumes_after_the_last_stored_sse_id(
    settings: Settings, shared_data: Path
) -> None:
    factory = EventFactory(base_event(shared_data))
    first = ListSource([sse(dumps(factory.make()), n) for n in range(1, 4)])
    log = open_event_log(settings)
    Ingestor(settings, log).run(first, threading.Event())
    log.close()
    log = open_event_log(settings)
    second = ListSource([sse(dumps(factory.make()), 4)])
    summary = Ingestor(settings, log).run(second, threading.Event())
    assert first.resumed_from == [None]
    assert second.resumed_from == [sse("", 3).id]
    assert summary.total.received == 4
    assert summary.total.appended == 4
    assert summary.resume_id == sse("", 4).id


def test_resume_ids_are_kept_per_source(settings: Settings, shared_data: Path) -> None:
    factory = EventFactory(base_event(shared_data))
    log = open_event_log(settings)
    Ingestor(settings, log).run(ListSource([sse(dumps(factory.make()), 1)]), threading.Event())
    replay = ListSource([SseEvent(dumps(factory.make()), id="replay-1")])
    Ingestor(settings, log, resume_key="replay:x").run(replay, threading.Event())
    live = ListSource([])
    Ingestor(settings, log).run(live, threading.Event())
    assert live.resumed_from == [sse("", 1).id]
    assert log.load_checkpoint("ingest")["resume"] == {
        "live": sse("", 1).id,
        "replay:x": "replay-1",
    }


def test_redeliveries_are_dropped_by_upstream_offset_also_after_restart(
    settings: Settings, shared_data: Path
) -> None:
    factory = EventFactory(base_event(shared_data))
    events = [dumps(factory.make()) for _ in range(5)]
    log = open_event_log(settings)
    # a reconnect replays the last two events
    Ingestor(settings, log).run(
        ListSource([sse(e, i) for i, e in enumerate(events + events[3:])]), threading.Event()
    )
    log.close()
    log = open_event_log(settings)
    summary = Ingestor(settings, log).run(ListSource([sse(events[4], 9)]), threading.Event())
    assert summary.total.duplicates == 3
    assert summary.total.appended == 5
    assert summary.total.balanced()
    assert _raw_ids(log) == [json.loads(e)["meta"]["id"] for e in events]


def test_events_without_offsets_are_deduplicated_by_recent_meta_id(
    tmp_path: Path, shared_data: Path
) -> None:
    settings = load_settings(
        overrides={"data_dir": tmp_path / "d", "ingest": {"dedup_recent_ids": 3}}
    )
    factory = EventFactory(base_event(shared_data))
    events = []
    for _ in range(5):
        event = factory.make()
        del event["meta"]["offset"], event["meta"]["topic"], event["meta"]["partition"]
        events.append(dumps(event))
    log = open_event_log(settings)
    Ingestor(settings, log).run(ListSource([sse(e) for e in events]), threading.Event())
    log.close()
    log = open_event_log(settings)  # the recent ids survive the restart
    summary = Ingestor(settings, log).run(
        ListSource([sse(e) for e in (events[4], events[2], events[0])]), threading.Event()
    )
    # ids 2..4 are remembered (capacity 3): events 4 and 2 are duplicates, event 0 was forgotten
    assert summary.run.duplicates == 2
    assert summary.run.appended == 1
    assert summary.total.balanced()


def test_canaries_are_dropped_counted_and_still_advance_the_resume_id(
    settings: Settings, shared_data: Path
) -> None:
    factory = EventFactory(base_event(shared_data))
    edit = dumps(factory.make())
    canary = factory.make(domain="canary", dt="2026-02-26T16:00:00Z")
    text = dumps({"$schema": canary["$schema"], "meta": canary["meta"]})
    log = open_event_log(settings)
    ingestor = Ingestor(settings, log)
    summary = ingestor.run(ListSource([sse(edit, 1), sse(text, 2)]), threading.Event())
    assert summary.run.canary == 1
    assert summary.run.appended == 1
    assert summary.resume_id == sse("", 2).id
    stored = log.load_checkpoint("ingest")
    assert stored["canary"]["count"] == 1
    assert stored["canary"]["last_event_dt"] == "2026-02-26T16:00:00Z"
    assert stored["canary"]["last_received_at"].endswith("Z")
    assert len(log.read("raw-events", {}, 10)) == 1


def test_flush_by_count(tmp_path: Path, shared_data: Path) -> None:
    settings = load_settings(
        overrides={
            "data_dir": tmp_path / "d",
            "ingest": {"flush_events": 3, "flush_interval_s": 3600},
        }
    )
    factory = EventFactory(base_event(shared_data))
    log = open_event_log(settings)
    ingestor = Ingestor(settings, log)
    for n in range(7):
        ingestor.process(sse(dumps(factory.make()), n))
    assert len(log.read("raw-events", {}, 100)) == 6
    assert log.load_checkpoint("ingest")["counters"]["received"] == 6
    ingestor.flush()
    assert len(log.read("raw-events", {}, 100)) == 7


class _WatchingSource:
    """One event, then idle ticks until the event shows up in the log (read by another reader)."""

    def __init__(self, event: str, path: Path) -> None:
        self.event, self.path = event, path
        self.status = SourceStatus()
        self.seen_after: float | None = None

    def events(self, resume_id: str | None, stop: threading.Event) -> Iterator[SseEvent | None]:
        reader = SqliteEventLog(self.path, readonly=True)
        start = time.monotonic()
        yield sse(self.event, 1)
        while time.monotonic() - start < 5:
            if reader.read("raw-events", {}, 10):
                self.seen_after = time.monotonic() - start
                return
            time.sleep(0.05)
            yield None


def test_flush_by_time_when_idle(tmp_path: Path, shared_data: Path) -> None:
    settings = load_settings(
        overrides={
            "data_dir": tmp_path / "d",
            "ingest": {"flush_events": 1000, "flush_interval_s": 0.3},
        }
    )
    log = open_event_log(settings)
    source = _WatchingSource(
        dumps(EventFactory(base_event(shared_data)).make()), tmp_path / "d" / "eventlog.db"
    )
    Ingestor(settings, log).run(source, threading.Event())
    assert source.seen_after is not None, "the buffered event was never appended while idle"
    assert 0.2 < source.seen_after < 2.0


class _FlakyLog:
    """A real SQLite log whose first ``failures`` appends fail as if the disk were busy."""

    def __init__(self, inner: SqliteEventLog, failures: int) -> None:
        self.inner, self.failures, self.calls = inner, failures, 0

    def append(self, batch: Mapping[str, Sequence[NewRecord]], checkpoint: Any = None) -> None:
        self.calls += 1
        if self.failures > 0:
            self.failures -= 1
            raise EventLogUnavailableError("database is locked")
        self.inner.append(batch, checkpoint)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def test_a_failed_append_is_retried(
    tmp_path: Path, shared_data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(time, "sleep", lambda s: None)
    settings = load_settings(overrides={"data_dir": tmp_path / "d", "ingest": {"flush_retries": 2}})
    log = _FlakyLog(SqliteEventLog(tmp_path / "l.db"), failures=2)
    factory = EventFactory(base_event(shared_data))
    Ingestor(settings, log).run(ListSource([sse(dumps(factory.make()), 1)]), threading.Event())  # type: ignore[arg-type]
    assert log.calls == 3
    assert len(log.inner.read("raw-events", {}, 10)) == 1


def test_an_append_that_keeps_failing_stores_nothing_and_the_restart_resumes(
    tmp_path: Path, shared_data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(time, "sleep", lambda s: None)
    settings = load_settings(overrides={"data_dir": tmp_path / "d", "ingest": {"flush_retries": 1}})
    inner = SqliteEventLog(tmp_path / "l.db")
    factory = EventFactory(base_event(shared_data))
    events = [sse(dumps(factory.make()), n) for n in range(3)]
    Ingestor(settings, inner).run(ListSource(events[:1]), threading.Event())
    with pytest.raises(EventLogUnavailableError):
        Ingestor(settings, _FlakyLog(inner, failures=5)).run(  # type: ignore[arg-type]
            ListSource(events[1:]), threading.Event()
        )
    assert len(inner.read("raw-events", {}, 10)) == 1
    again = ListSource(events[1:])
    summary = Ingestor(settings, inner).run(again, threading.Event())
    assert again.resumed_from == [events[0].id]
    assert summary.total.appended == 3
    assert summary.total.received == 3


class _BrokenSource:
    def __init__(self, items: list[SseEvent]) -> None:
        self.items, self.status = items, SourceStatus()

    def events(self, resume_id: str | None, stop: threading.Event) -> Iterator[SseEvent | None]:
        yield from self.items
        raise ReplayFileError("replay file x.gz is corrupt")


def test_events_read_before_a_source_error_are_appended(
    settings: Settings, shared_data: Path
) -> None:
    factory = EventFactory(base_event(shared_data))
    log = open_event_log(settings)
    with pytest.raises(ReplayFileError):
        Ingestor(settings, log).run(
            _BrokenSource([sse(dumps(factory.make()), n) for n in range(2)]), threading.Event()
        )
    assert len(log.read("raw-events", {}, 10)) == 2
    assert log.load_checkpoint("ingest")["resume"]["live"] == sse("", 1).id


def test_non_message_sse_events_are_not_counted(settings: Settings) -> None:
    log = open_event_log(settings)
    ingestor = Ingestor(settings, log)
    ingestor.run(ListSource([SseEvent('{"error":"x"}', id=None, event="error")]), threading.Event())
    assert ingestor.counters.received == 0


def test_oversize_event_at_the_default_limit_is_dead_lettered_with_a_safe_preview(
    settings: Settings, shared_data: Path
) -> None:
    assert settings.ingest.max_event_bytes == 1_000_000
    event = EventFactory(base_event(shared_data)).make()
    event["comment"] = "ü" * 600_000  # 1.2 MB of UTF-8
    text = dumps(event)
    log = open_event_log(settings)
    Ingestor(settings, log).run(ListSource([sse(text, 1)]), threading.Event())
    (record,) = log.read("dlq-events", {}, 10)
    body = json.loads(record.value)
    assert body["error_type"] == "oversize"
    assert "max_event_bytes=1000000" in body["error"]
    assert body["raw_bytes"] == len(text.encode("utf-8"))
    assert body["raw_truncated"] is True
    assert body["original_event"] is None
    kept = body["raw_payload"].encode("utf-8")
    assert len(kept) <= settings.ingest.dlq_payload_bytes
    assert text.encode("utf-8").startswith(kept)  # cut at a character boundary


def _stored(log: Any) -> dict[str, Any]:
    """Everything ingest wrote, minus the wall-clock times."""
    clock = {"ingested_at", "received_at", "timestamp", "updated_at", "last_received_at"}

    def scrub(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: "<time>" if k in clock else scrub(v) for k, v in value.items()}
        return value

    return {
        topic: [(r.key, scrub(json.loads(r.value))) for r in log.read(topic, {}, 100_000)]
        for topic in ("raw-events", "dlq-events")
    } | {"checkpoint": scrub(log.load_checkpoint("ingest"))}


def test_block_path_decides_exactly_like_the_event_path(tmp_path: Path, shared_data: Path) -> None:
    """A replay file through ReplaySource.blocks == the same events one SseEvent at a time."""
    from tests.ingest.hostile import HOSTILE, MAX_EVENT_BYTES

    factory = EventFactory(base_event(shared_data))
    lines = [build(factory) for _, build, _ in HOSTILE]
    lines += (shared_data / SAMPLE_2026).read_text("utf-8").splitlines()
    lines += [lines[-1], "", "  ", lines[-5]]  # redeliveries and blank lines
    path = tmp_path / "mixed.jsonl"
    path.write_bytes(b"\r\n".join(x.encode("utf-8", "surrogateescape") for x in lines))
    results = []
    for name, use_blocks in (("blocks", True), ("events", False)):
        settings = load_settings(
            overrides={
                "data_dir": tmp_path / name,
                "ingest": {"max_event_bytes": MAX_EVENT_BYTES, "flush_events": 7},
            }
        )
        log = open_event_log(settings)
        replay = ReplaySource(path)
        source: Any = replay if use_blocks else ListSource(replay.events(None, threading.Event()))
        summary = Ingestor(settings, log, resume_key=replay.resume_key).run(
            source, threading.Event()
        )
        assert summary.total.balanced()
        assert summary.total.dead_lettered > 40
        assert summary.total.appended > 25
        results.append((summary.total, summary.resume_id, summary.appends, _stored(log)))
        log.close()
    assert results[0] == results[1]


def test_ingested_at_has_the_shape_of_to_iso_and_follows_the_clock() -> None:
    from wikistream.clock import parse_iso_utc, to_iso, utc_now
    from wikistream.ingest.ingestor import _IsoClock

    clock = _IsoClock()
    before = utc_now()
    stamps = []
    for _ in range(5):
        stamps.append(clock.now())
        time.sleep(0.0015)
    after = utc_now()
    assert stamps == sorted(stamps)
    assert len(set(stamps)) == 5
    for stamp in stamps:
        moment = parse_iso_utc(stamp)
        assert to_iso(moment) == stamp
        assert before.replace(microsecond=before.microsecond // 1000 * 1000) <= moment <= after
