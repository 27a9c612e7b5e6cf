"""Issue 2, acceptance 2: live path end to end over loopback HTTP with every fault.

A real SSE server replays the real 2026 events (all wikis) with ids, cuts connections mid-chunk
every K events, stalls past the idle timeout, answers 429 with Retry-After and 503. The real
SseSource + Ingestor write into a real SQLite event log; midway the ingest "process" is restarted
from its checkpoint. Afterwards the log holds every target-domain event exactly once, in source
order, and each reconnect sent the id of the last event delivered before it.
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

from tests.ingest.sse_server import Reply, ServerScript, load_events, running_server
from tests.ingest.test_sse_source import EVERY_FAULT
from wikistream.eventlog.sqlite import SqliteEventLog
from wikistream.ingest.ingestor import Ingestor
from wikistream.ingest.sse_source import SseSource
from wikistream.settings import load_settings

TARGETS = ["en.wikipedia.org", "de.wikipedia.org", "fr.wikipedia.org", "es.wikipedia.org"]


def _logged_ids(log: SqliteEventLog) -> list[str]:
    return [json.loads(r.value)["id"] for r in log.read("raw-events", {}, 100_000)]


def _ingest_until(settings, log: SqliteEventLog, want: int, limit_s: float = 60.0) -> Ingestor:
    ingestor = Ingestor(settings, log)
    stop = threading.Event()
    source = SseSource(settings.ingest)
    result: list[object] = []
    thread = threading.Thread(target=lambda: result.append(ingestor.run(source, stop)))
    thread.start()
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline and ingestor.counters.received < want:
        time.sleep(0.05)
    stop.set()
    thread.join(10)
    assert not thread.is_alive(), "ingest did not stop within 10 s"
    assert result, "ingest raised"
    return ingestor


def test_live_stream_with_faults_lands_each_target_event_once_in_order(
    shared_data: Path, tmp_path: Path
) -> None:
    events = load_events(shared_data / "recentchange-2026-02-26.jsonl")
    # 429 with a real Retry-After, a 503, mid-chunk cuts, an idle stall, an error frame …
    replies = [Reply(status=429, retry_after="1"), *EVERY_FAULT]
    script = ServerScript(replies=replies, cut_every=6, retry_ms=20, comment_every=4)
    with running_server(events, script) as server:
        settings = load_settings(
            overrides={
                "data_dir": tmp_path,
                "ingest": {
                    "stream_url": server.url,
                    "contact": "e2e@example.org",
                    "target_domains": TARGETS,
                    "backoff_initial_s": 0.01,
                    "backoff_max_s": 0.05,
                    "idle_timeout_s": 0.5,
                    "flush_interval_s": 0.05,
                },
            }
        )
        log = SqliteEventLog(tmp_path / "eventlog.db")
        first = _ingest_until(settings, log, want=len(events) // 2)
        resume_after_restart = first.resume_id
        assert resume_after_restart is not None
        requests_before_restart = len(server.requests)
        # "restart": a new Ingestor resumes from the durable checkpoint
        second = _ingest_until(settings, log, want=len(events))

    data = [json.loads(e.data) for e in events]
    expected = [d["meta"]["id"] for d in data if d["meta"]["domain"] in TARGETS]
    assert expected, "the sample must contain target events"
    assert _logged_ids(log) == expected  # exactly once, in source order

    counters = second.counters
    assert counters.received == len(events)
    assert counters.appended == len(expected)
    assert counters.filtered == len(events) - len(expected)
    assert counters.dead_lettered == 0

    # every connection sent the id of the last event delivered before it
    ids = [e.id for e in events]
    sent = [r.headers.get("last-event-id") for r in server.requests]
    assert sent[0] is None
    assert sent[requests_before_restart] == resume_after_restart
    for request in server.requests[1:]:
        last_id = request.headers.get("last-event-id")
        if last_id is None:  # refused connections before the first event was delivered
            assert request.start_index in (None, 0)
            continue
        assert last_id in ids
        # the server resumed right after that id: nothing skipped, nothing repeated
        assert request.start_index in (None, ids.index(last_id) + 1)
    assert len(server.requests) >= len(replies) + 2
    statuses = {r.headers.get("user-agent") for r in server.requests}
    assert all("e2e@example.org" in ua for ua in statuses if ua)
