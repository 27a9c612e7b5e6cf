"""The live SSE source against a real loopback HTTP server that injects every fault."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.ingest.sse_server import (
    Reply,
    ServerScript,
    StreamEvent,
    closed_port_url,
    hanging_listener,
    load_events,
    running_server,
)
from wikistream import __version__
from wikistream.clock import utc_now
from wikistream.errors import SinceOutOfRangeError
from wikistream.ingest import sse_source
from wikistream.ingest.config import IngestSettings
from wikistream.ingest.since import since_param
from wikistream.ingest.source import SseEvent
from wikistream.ingest.sse_source import SseSource

LOGGER = "wikistream.ingest.sse_source"
CONTACT = "ops@example.org"


def fast_settings(url: str, **overrides: Any) -> IngestSettings:
    values: dict[str, Any] = {
        "stream_url": url,
        "contact": CONTACT,
        "backoff_initial_s": 0.01,
        "backoff_max_s": 0.05,
        "idle_timeout_s": 0.5,
        "connect_timeout_s": 2.0,
    }
    values.update(overrides)
    return IngestSettings(**values)


@dataclass
class Run:
    """What a consumer saw: events, the connection each came from, gaps between yields."""

    events: list[SseEvent] = field(default_factory=list)
    connection: list[int] = field(default_factory=list)
    max_gap_s: float = 0.0
    return_after_stop_s: float = 0.0


def consume(
    source: SseSource,
    *,
    want: int | None = None,
    resume_id: str | None = None,
    stop_after_s: float = 20.0,
    until: Any = None,
) -> Run:
    """Iterate like the ingest consumer until ``want`` events, ``until(source)`` or a time limit."""
    run = Run()
    stop = threading.Event()
    started = last = time.monotonic()
    stopped_at: float | None = None
    for event in source.events(resume_id, stop):
        now = time.monotonic()
        run.max_gap_s = max(run.max_gap_s, now - last)
        last = now
        if event is not None:
            run.events.append(event)
            run.connection.append(len(source.status.sent_event_ids))
        done = (want is not None and len(run.events) >= want) or (until and until(source))
        if stopped_at is None and (done or now - started > stop_after_s):
            stop.set()
            stopped_at = now
    assert stopped_at is not None, "the source returned before stop was set"
    run.return_after_stop_s = time.monotonic() - stopped_at
    return run


def expected_ids(run: Run, count: int, resume_id: str | None = None) -> list[str | None]:
    """The Last-Event-ID each connection 1..count should have sent: the last id yielded before."""
    expected: list[str | None] = []
    for number in range(1, count + 1):
        before = [e.id for e, c in zip(run.events, run.connection, strict=True) if c < number]
        expected.append(before[-1] if before else resume_id)
    return expected


@pytest.fixture
def events_2026(shared_data: Path) -> list[StreamEvent]:
    return load_events(shared_data / "recentchange-2026-02-26.jsonl")


@pytest.fixture
def events_2023(shared_data: Path) -> list[StreamEvent]:
    """The 2023 sample with timestamp ids, moved to the last hour (inside the retention)."""
    path = shared_data / "recentchange-enwiki-2023-07-29.jsonl"
    return load_events(path, "timestamp", rebase_to=utc_now() - timedelta(minutes=10))


def test_clean_stream_in_order_with_policy_headers(events_2026: list[StreamEvent]) -> None:
    with running_server(events_2026) as server:
        source = SseSource(fast_settings(server.url))
        run = consume(source, want=len(events_2026))
    assert [(e.data, e.id) for e in run.events] == [(e.data, e.id) for e in events_2026]
    assert {e.event for e in run.events} == {"message"}
    (request,) = server.requests
    assert request.headers["accept"] == "text/event-stream"
    assert request.headers["user-agent"] == (
        f"WikiStream/{__version__} ({CONTACT}) httpx/{httpx.__version__}"
    )
    assert "last-event-id" not in request.headers
    assert request.query == {}
    assert source.status.connects == 1
    assert source.status.reconnects == 0
    assert source.status.sent_event_ids == [None]
    assert source.status.last_event_at is not None
    assert source.status.connected is False  # after the generator returned


def test_resume_id_is_sent_and_stream_continues_after_it(
    events_2026: list[StreamEvent],
) -> None:
    resume = events_2026[9].id
    with running_server(events_2026) as server:
        run = consume(SseSource(fast_settings(server.url)), want=40, resume_id=resume)
    assert [e.id for e in run.events] == [e.id for e in events_2026[10:]]
    assert server.requests[0].headers["last-event-id"] == resume


EVERY_FAULT = [
    Reply(status=503),
    Reply(status=429, retry_after="0"),
    Reply(cut_after=5),  # half an event inside a declared chunk, then the socket drops
    Reply(cut_after=4, cut_mode="close"),  # half an event, then a clean end of stream
    Reply(stall_after=3, stall_s=2.0),  # silent past the 0.5 s idle timeout
    Reply(error_after=6),
    Reply(content_type="text/html"),  # a captive portal answering 200
    # An event with empty data (skipped; its bogus id must not become the resume id).
    Reply(cut_after=3, raw_prefix=b"event: message\nid: bogus\ndata:\n\n"),
    Reply(status=502),
]


@pytest.mark.parametrize(
    ("file_name", "id_form", "pretty"),
    [
        ("recentchange-2026-02-26.jsonl", "offset", False),
        ("recentchange-enwiki-2023-07-29.jsonl", "timestamp", True),
    ],
)
def test_every_fault_yields_each_event_exactly_once_in_order(
    shared_data: Path, file_name: str, id_form: Any, pretty: bool
) -> None:
    events = load_events(shared_data / file_name, id_form, pretty=pretty)
    script = ServerScript(replies=EVERY_FAULT, cut_every=7, retry_ms=20, comment_every=3)
    with running_server(events, script) as server:
        source = SseSource(fast_settings(server.url))
        run = consume(source, want=len(events))
    assert [(e.data, e.id) for e in run.events] == [(e.data, e.id) for e in events]
    assert all(e.event == "message" and e.data for e in run.events)
    if pretty:
        assert "\n" in run.events[0].data  # multi-line data survived
    sent = [r.headers.get("last-event-id") for r in server.requests]
    assert sent == expected_ids(run, len(server.requests))
    assert "bogus" not in sent
    assert source.status.sent_event_ids == sent
    assert source.status.reconnects == len(server.requests) - 1
    assert len(server.requests) >= len(EVERY_FAULT) + 3  # the cut_every connections too
    assert all(CONTACT in r.headers["user-agent"] for r in server.requests)
    assert run.return_after_stop_s < 2.0


def test_429_waits_for_retry_after(events_2026: list[StreamEvent], caplog: Any) -> None:
    script = ServerScript(replies=[Reply(status=429, retry_after="1")])
    caplog.set_level(logging.INFO, LOGGER)
    with running_server(events_2026[:5], script) as server:
        run = consume(SseSource(fast_settings(server.url)), want=5)
    gap = server.requests[1].at - server.requests[0].at
    assert 1.0 <= gap < 2.5
    assert len(run.events) == 5
    assert any("429" in r.getMessage() and r.levelno == logging.WARNING for r in caplog.records)


def test_idle_stall_drops_the_connection_and_resumes(events_2026: list[StreamEvent]) -> None:
    script = ServerScript(replies=[Reply(stall_after=5, stall_s=5.0)])
    with running_server(events_2026[:12], script) as server:
        source = SseSource(fast_settings(server.url, idle_timeout_s=0.5))
        run = consume(source, want=12)
    gap = server.requests[1].at - server.requests[0].at
    assert 0.5 <= gap < 2.5
    assert server.requests[1].headers["last-event-id"] == events_2026[4].id
    assert [e.id for e in run.events] == [e.id for e in events_2026[:12]]
    assert source.status.last_error == "no data for 0.5s (idle timeout)"


def test_retry_field_is_the_minimum_reconnect_delay(events_2026: list[StreamEvent]) -> None:
    script = ServerScript(cut_every=4, retry_ms=300)
    with running_server(events_2026[:10], script) as server:
        run = consume(SseSource(fast_settings(server.url, backoff_max_s=5.0)), want=10)
    assert len(run.events) == 10
    gaps = [b.at - a.at for a, b in zip(server.requests, server.requests[1:], strict=False)]
    assert len(gaps) >= 2
    assert all(gap >= 0.3 for gap in gaps)


def test_retry_field_is_capped_at_backoff_max(events_2026: list[StreamEvent]) -> None:
    script = ServerScript(cut_every=4, retry_ms=3_600_000)
    with running_server(events_2026[:6], script) as server:
        run = consume(SseSource(fast_settings(server.url, backoff_max_s=0.2)), want=6)
    assert len(run.events) == 6
    assert server.requests[1].at - server.requests[0].at < 1.0


def test_error_event_is_logged_and_resumed_not_yielded(
    events_2026: list[StreamEvent], caplog: Any
) -> None:
    caplog.set_level(logging.INFO, LOGGER)
    with running_server(events_2026[:10], ServerScript(replies=[Reply(error_after=3)])) as server:
        run = consume(SseSource(fast_settings(server.url)), want=10)
    assert [e.id for e in run.events] == [e.id for e in events_2026[:10]]
    assert server.requests[1].headers["last-event-id"] == events_2026[2].id
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("error event" in m and "kafka_error" in m for m in warnings)


@pytest.mark.parametrize(
    ("status", "hint"),
    [(403, "WIKISTREAM_INGEST__CONTACT"), (400, "--since"), (404, "ingest.stream_url")],
)
def test_client_errors_back_off_to_the_max_with_an_actionable_line(
    events_2026: list[StreamEvent], caplog: Any, status: int, hint: str
) -> None:
    caplog.set_level(logging.DEBUG, LOGGER)
    script = ServerScript(replies=[Reply(status=status, body='{"type":"x"}')] * 2)
    with running_server(events_2026[:3], script) as server:
        source = SseSource(fast_settings(server.url, backoff_max_s=0.4))
        run = consume(source, want=3)
    assert len(run.events) == 3
    gaps = [b.at - a.at for a, b in zip(server.requests, server.requests[1:3], strict=False)]
    assert all(gap >= 0.4 for gap in gaps)
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 2
    assert all(f"HTTP {status}" in r.getMessage() and hint in r.getMessage() for r in errors)


def test_oversize_event_is_cut_and_reported(events_2026: list[StreamEvent], caplog: Any) -> None:
    caplog.set_level(logging.WARNING, LOGGER)
    huge = b'event: message\nid: huge\ndata: {"x": "' + b"h" * 3_000_000 + b'"}\n\n'
    script = ServerScript(replies=[Reply(raw_prefix=huge)])
    with running_server(events_2026[:2], script) as server:
        source = SseSource(fast_settings(server.url, max_event_bytes=50_000))
        run = consume(source, want=3)
    assert [len(e.data) for e in run.events[:1]] == [50_001]
    assert [e.id for e in run.events[1:]] == [e.id for e in events_2026[:2]]
    assert any("ingest.max_event_bytes=50000" in r.getMessage() for r in caplog.records)


def test_unreachable_logs_one_clear_warning_per_streak(caplog: Any) -> None:
    caplog.set_level(logging.DEBUG, LOGGER)
    source = SseSource(fast_settings(closed_port_url()))
    run = consume(source, until=lambda s: s.status.reconnects >= 6)
    assert run.events == []
    mine = [r for r in caplog.records if r.name == LOGGER]
    warnings = [r for r in mine if r.levelno >= logging.WARNING]
    assert len(warnings) == 1
    message = warnings[0].getMessage()
    assert "unreachable (ConnectError" in message
    assert "wikistream generate --events 100000 --out demo.jsonl.gz" in message
    assert sum("unreachable" in r.getMessage() for r in mine if r.levelno == logging.DEBUG) >= 5
    assert all(r.exc_info is None for r in mine)
    assert source.status.last_error is not None
    assert source.status.last_error.startswith("ConnectError")
    assert source.status.connects == 0


def test_backoff_streak_resets_after_a_healthy_connection(
    events_2026: list[StreamEvent], monkeypatch: pytest.MonkeyPatch
) -> None:
    attempts: list[int] = []

    def record(attempt: int, initial_s: float, max_s: float) -> float:
        attempts.append(attempt)
        return 0.0

    monkeypatch.setattr(sse_source, "backoff_delay", record)
    replies = [Reply(status=503)] * 3 + [Reply(cut_after=2), Reply(status=503), Reply(status=500)]
    with running_server(events_2026[:6], ServerScript(replies=replies)) as server:
        run = consume(SseSource(fast_settings(server.url)), want=6)
    assert len(run.events) == 6
    assert attempts[:6] == [1, 2, 3, 1, 1, 2]
    assert len(server.requests) == 7


def test_since_is_sent_only_while_no_id_is_known(events_2023: list[StreamEvent]) -> None:
    start = datetime.fromtimestamp(events_2023[10].timestamp_ms / 1000, UTC)
    with running_server(events_2023, ServerScript(cut_every=30)) as server:
        source = SseSource(fast_settings(server.url), since=start)
        run = consume(source, want=len(events_2023) - 10)
    assert [e.id for e in run.events] == [e.id for e in events_2023[10:]]
    assert server.requests[0].query == {"since": since_param(start)}
    assert "last-event-id" not in server.requests[0].headers
    assert len(server.requests) >= 3
    assert all(r.query == {} and r.headers["last-event-id"] for r in server.requests[1:])


def test_resume_id_wins_over_since(events_2023: list[StreamEvent]) -> None:
    start = datetime.fromtimestamp(events_2023[0].timestamp_ms / 1000, UTC)
    with running_server(events_2023) as server:
        source = SseSource(fast_settings(server.url), since=start)
        run = consume(source, want=10, resume_id=events_2023[49].id)
    assert run.events[0].id == events_2023[50].id
    assert server.requests[0].query == {}


def test_since_outside_the_retention_is_refused_before_connecting() -> None:
    settings = fast_settings(closed_port_url())
    with pytest.raises(SinceOutOfRangeError, match="7-day retention"):
        SseSource(settings, since=utc_now() - timedelta(days=7, minutes=1))
    with pytest.raises(SinceOutOfRangeError, match="in the future"):
        SseSource(settings, since=utc_now() + timedelta(hours=1))
    with pytest.raises(ValueError, match="naive"):
        SseSource(settings, since=datetime(2026, 1, 1))
    short = fast_settings(closed_port_url(), retention_days=1)
    with pytest.raises(SinceOutOfRangeError, match="1-day retention"):
        SseSource(short, since=utc_now() - timedelta(days=2))


def test_stop_returns_fast_while_the_server_is_silent(events_2026: list[StreamEvent]) -> None:
    with running_server(events_2026[:3]) as server:
        source = SseSource(fast_settings(server.url, idle_timeout_s=30.0))
        run = consume(source, stop_after_s=1.5)
    assert len(run.events) == 3
    assert run.max_gap_s < 0.75  # a None tick every 0.25 s (slack for a loaded machine)
    assert run.return_after_stop_s < 2.0
    assert len(server.requests) == 1


def test_stop_returns_fast_while_the_response_hangs(events_2026: list[StreamEvent]) -> None:
    with running_server(events_2026, ServerScript(replies=[Reply(hang=True)])) as server:
        source = SseSource(fast_settings(server.url, idle_timeout_s=30.0))
        run = consume(source, stop_after_s=1.0)
    assert run.events == []
    assert run.max_gap_s < 0.75
    assert run.return_after_stop_s < 2.0
    assert len(server.requests) == 1


def test_stop_returns_fast_while_tcp_connect_hangs() -> None:
    with hanging_listener() as url:
        source = SseSource(fast_settings(url, connect_timeout_s=30.0))
        run = consume(source, stop_after_s=1.0)
    assert run.events == []
    assert run.max_gap_s < 0.75
    assert run.return_after_stop_s < 2.0
    assert source.status.connects == 0
    assert source.status.reconnects == 0  # still the first connect when stopped


def test_sent_ids_history_is_capped() -> None:
    settings = fast_settings(closed_port_url(), backoff_initial_s=0.0001, backoff_max_s=0.0002)
    source = SseSource(settings)
    consume(source, until=lambda s: s.status.reconnects >= 1005, stop_after_s=30.0)
    assert source.status.reconnects >= 1005
    assert len(source.status.sent_event_ids) == sse_source.SENT_IDS_KEPT
    assert threading.active_count() < 50  # reader threads end; none pile up
