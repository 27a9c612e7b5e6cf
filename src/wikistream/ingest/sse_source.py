"""The live EventStreams client: one resumable SSE connection with backoff, never blocking.

Policy, in one place:

- Every connect sends ``Last-Event-ID`` when an id is known (the ``resume_id`` given, then the id
  of the last event yielded); ``?since=`` only when no id is known (the server ignores it then).
- A connection that delivered at least one event was healthy: the next reconnect waits at most
  ``backoff_initial_s``. Each further failure in a row doubles the cap up to ``backoff_max_s``;
  the actual wait is uniform in [0, cap] (full jitter), and never below the server's ``retry:``.
- 429 waits at least ``Retry-After``; 5xx and odd answers back off; any other status (400 bad
  ``since``, 403 blocked User-Agent, 404 wrong URL) needs a human, so it logs what to do and waits
  the full ``backoff_max_s`` each time.
- No byte for ``idle_timeout_s`` (httpx read timeout) drops the connection and reconnects.
- ``event: error`` frames are logged and treated as a failed connection.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from datetime import datetime

import httpx

from wikistream import __version__
from wikistream.clock import utc_now
from wikistream.ingest.backoff import backoff_delay, parse_retry_after
from wikistream.ingest.config import IngestSettings
from wikistream.ingest.since import check_since, since_param
from wikistream.ingest.source import SourceStatus, SseEvent
from wikistream.ingest.sse_connection import Batch, Ended, Opened, Refused, SseConnection

log = logging.getLogger(__name__)

TICK_S = 0.25
SENT_IDS_KEPT = 1000
RETRY_AFTER_CAP_S = 3600.0
OFFLINE_HINT = (
    "Offline? Generate a file: wikistream generate --events 100000 --out demo.jsonl.gz, "
    "then wikistream run --replay demo.jsonl.gz"
)
_STATUS_HINTS = {
    400: (
        "the server rejected the request; if it mentions the timestamp, check --since; if it "
        "mentions assignments or topics, the stored resume id belongs to another stream "
        "(check ingest.stream_url)"
    ),
    401: "the stream needs no credentials; check ingest.stream_url",
    403: (
        "Wikimedia blocks missing or generic User-Agents; set a real contact with "
        "WIKISTREAM_INGEST__CONTACT=you@example.org (or [ingest] contact in wikistream.toml)"
    ),
    404: "no such stream; check ingest.stream_url",
}


def user_agent(contact: str) -> str:
    """The User-Agent Wikimedia's policy asks for: product/version (contact) library/version."""
    return f"WikiStream/{__version__} ({contact}) httpx/{httpx.__version__}"


@dataclass(frozen=True, slots=True)
class _Outcome:
    """How one connection ended, and what that means for the next wait."""

    healthy: bool
    kind: str
    error: str
    message: str
    level: int = logging.WARNING
    min_delay_s: float = 0.0
    to_max: bool = False


class SseSource:
    """Live EventStreams source (implements :class:`~wikistream.ingest.source.EventSource`)."""

    def __init__(self, settings: IngestSettings, since: datetime | None = None) -> None:
        """Raise SinceOutOfRangeError when ``since`` is outside the stream's retention."""
        self.settings = settings
        self.since = None if since is None else check_since(since, settings.retention_days)
        self.status = SourceStatus()
        self._last_id: str | None = None
        self._retry_floor_s = 0.0
        self._failures = 0
        self._failure_kind = ""
        self._attempts = 0

    def events(self, resume_id: str | None, stop: threading.Event) -> Iterator[SseEvent | None]:
        """Yield events in stream order, resuming right after ``resume_id``.

        Yields ``None`` every 0.25 s while nothing arrives and returns within 0.25 s of ``stop``
        (a hanging reader thread is abandoned; it ends at its own timeout). Events with empty
        ``data`` are skipped; ``event: error`` frames are handled here, never yielded. An event
        without an id keeps the previous resume id (at-least-once rather than a gap).
        """
        self._last_id = resume_id or None
        if self._last_id and self.since is not None:
            log.info("resuming after the stored event id; --since %s is ignored", self.since)
        client = self._make_client()
        try:
            while not stop.is_set():
                outcome = yield from self._stream_once(client, stop)
                if outcome is None:  # stopped
                    break
                delay = self._after(outcome)
                yield from _sleep(delay, stop)
        finally:
            self.status.connected = False
            client.close()

    def _make_client(self) -> httpx.Client:
        s = self.settings
        timeout = httpx.Timeout(
            connect=s.connect_timeout_s,
            read=s.idle_timeout_s,
            write=s.connect_timeout_s,
            pool=s.connect_timeout_s,
        )
        return httpx.Client(timeout=timeout, follow_redirects=True)

    def _request(self) -> tuple[dict[str, str], dict[str, str]]:
        headers = {
            "Accept": "text/event-stream",
            "Cache-Control": "no-cache",
            "User-Agent": user_agent(self.settings.contact),
        }
        params: dict[str, str] = {}
        if self._last_id:
            headers["Last-Event-ID"] = self._last_id
        elif self.since is not None:
            params["since"] = since_param(self.since)
        return headers, params

    def _record_attempt(self, sent_id: str | None) -> None:
        status = self.status
        self._attempts += 1
        if self._attempts > 1:
            status.reconnects += 1
        status.last_sent_event_id = sent_id
        status.sent_event_ids.append(sent_id)
        if len(status.sent_event_ids) > SENT_IDS_KEPT:
            del status.sent_event_ids[:-SENT_IDS_KEPT]

    def _stream_once(
        self, client: httpx.Client, stop: threading.Event
    ) -> Generator[SseEvent | None, None, _Outcome | None]:
        """Run one connection; yield its events; return how it ended (None: stopped)."""
        headers, params = self._request()
        self._record_attempt(headers.get("Last-Event-ID"))
        connection = SseConnection(
            client,
            self.settings.stream_url,
            headers=headers,
            params=params,
            max_data_chars=self.settings.max_event_bytes,
        )
        connection.start()
        delivered = 0
        try:
            while not stop.is_set():
                try:
                    item = connection.items.get(timeout=TICK_S)
                except queue.Empty:
                    yield None
                    continue
                if isinstance(item, Opened):
                    self._on_open()
                elif isinstance(item, Batch):
                    if item.retry_ms is not None:
                        self._retry_floor_s = min(item.retry_ms / 1000, self.settings.backoff_max_s)
                    if item.events:
                        self.status.last_event_at = utc_now()
                    if item.truncated:
                        self._warn_truncated(item.truncated)
                    for event in item.events:
                        if event.event == "error":
                            return _error_frame(event, delivered)
                        if not event.data:
                            continue
                        if event.id:
                            self._last_id = event.id
                        delivered += 1
                        yield event
                elif isinstance(item, Refused):
                    return self._refused(item)
                else:
                    return self._ended(item, delivered)
            return None
        finally:
            connection.cancel()
            self.status.connected = False

    def _on_open(self) -> None:
        self.status.connected = True
        self.status.connects += 1
        if self._failures:
            log.info(
                "stream %s connected again after %d failed attempt(s)",
                self.settings.stream_url,
                self._failures,
            )
        else:
            log.info("stream %s connected", self.settings.stream_url)

    def _warn_truncated(self, count: int) -> None:
        limit = self.settings.max_event_bytes
        log.warning(
            "%d event(s) larger than ingest.max_event_bytes=%d were cut to %d characters to "
            "bound memory; they are dead-lettered as oversize",
            count,
            limit,
            limit + 1,
        )

    def _refused(self, refused: Refused) -> _Outcome:
        code = refused.status
        detail = refused.detail[:300]
        error = f"HTTP {code}: {detail}" if detail else f"HTTP {code}"
        url = self.settings.stream_url
        wait_s = parse_retry_after(refused.retry_after)
        min_delay = min(wait_s, RETRY_AFTER_CAP_S) if wait_s is not None else 0.0
        if code == 429:
            message = (
                f"stream {url} answered 429 Too Many Requests ({detail or 'no detail'}); waiting "
                f"at least {min_delay:g}s before reconnecting. EventStreams limits concurrent "
                "connections per IP: stop other WikiStream ingests or clients on this machine."
            )
            return _Outcome(False, "HTTP 429", error, message, min_delay_s=min_delay)
        if code >= 500 or code == 200:
            message = f"stream {url} answered {error}; retrying with backoff"
            return _Outcome(False, f"HTTP {code}", error, message, min_delay_s=min_delay)
        hint = _STATUS_HINTS.get(code, "check ingest.stream_url and ingest.contact")
        message = (
            f"stream {url} refused the connection with {error}: {hint}. "
            f"Retrying every {self.settings.backoff_max_s:g}s."
        )
        return _Outcome(
            False, f"HTTP {code}", error, message, logging.ERROR, min_delay, to_max=True
        )

    def _ended(self, ended: Ended, delivered: int) -> _Outcome:
        url = self.settings.stream_url
        exc = ended.error
        if exc is None:
            error = "server closed the stream"
        elif isinstance(exc, httpx.ReadTimeout) and self.status.connected:
            error = f"no data for {self.settings.idle_timeout_s:g}s (idle timeout)"
        else:
            error = f"{type(exc).__name__}: {exc}".rstrip(": ")
        if delivered:
            cut = " mid-event" if ended.pending_bytes else ""
            message = (
                f"stream connection ended{cut} after {delivered} event(s) ({error}); "
                f"resuming after id {self._last_id}"
            )
            return _Outcome(True, "ended", error, message, logging.INFO)
        if not self.status.connected:
            message = f"stream {url} unreachable ({error}); retrying with backoff. {OFFLINE_HINT}"
            return _Outcome(False, "unreachable", error, message)
        message = f"stream {url}: {error} before any event; reconnecting"
        return _Outcome(False, "no events", error, message)

    def _after(self, outcome: _Outcome) -> float:
        """Log the outcome, update the failure streak, and return how long to wait."""
        s = self.settings
        self.status.last_error = outcome.error
        if outcome.healthy:
            self._failures = 0
            attempt = 1
            level = outcome.level
        else:
            self._failures += 1
            attempt = self._failures
            # One clear line per streak and kind of problem; repeats go to debug.
            new = self._failures == 1 or outcome.kind != self._failure_kind or outcome.to_max
            level = outcome.level if new else logging.DEBUG
            self._failure_kind = outcome.kind
        log.log(level, outcome.message)
        delay = (
            s.backoff_max_s
            if outcome.to_max
            else backoff_delay(attempt, s.backoff_initial_s, s.backoff_max_s)
        )
        return max(delay, self._retry_floor_s, outcome.min_delay_s)


def _error_frame(event: SseEvent, delivered: int) -> _Outcome:
    detail = event.data[:300] or "no detail"
    message = f"stream sent an error event after {delivered} event(s): {detail}; reconnecting"
    return _Outcome(False, "error event", f"event: error: {detail}", message)


def _sleep(seconds: float, stop: threading.Event) -> Iterator[None]:
    """Wait ``seconds`` in slices, yielding ``None`` each tick; end early when ``stop`` is set."""
    deadline = time.monotonic() + seconds
    while not stop.is_set():
        left = deadline - time.monotonic()
        if left <= 0:
            return
        if stop.wait(min(left, TICK_S)):
            return
        yield None
