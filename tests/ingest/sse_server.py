"""A scriptable EventStreams look-alike on 127.0.0.1 for testing the live SSE client.

It speaks real HTTP/1.1 (chunked ``text/event-stream``) from a thread, replays a list of events
whose ids use the real EventStreams formats, honours ``Last-Event-ID`` and ``since`` like the
real service, and injects the faults the client must survive, one :class:`Reply` per connection:

- ``Reply(status=503)`` / ``Reply(status=429, retry_after="1")``: an HTTP error instead of a stream;
- ``cut_after=K``: after K events send half of the next event's bytes, then drop the socket
  (``cut_mode="chunk"``: inside a declared chunk, as a broken proxy would; ``"close"``: the
  stream ends cleanly mid-event);
- ``stall_after=K``: go silent for ``stall_s`` after K events (past the client's idle timeout);
- ``error_after=K``: send an ``event: error`` frame after K events and end the stream;
- ``hang=True``: read the request and never answer;
- ``raw_prefix``: extra bytes after ``:ok`` (e.g. an event with empty data).

``cut_every`` cuts every connection that has no scripted reply mid-chunk every K events. Every
request is recorded (headers lower-cased, query, time) for assertions.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Literal
from urllib.parse import parse_qs, urlsplit

TOPICS = ("eqiad.mediawiki.recentchange", "codfw.mediawiki.recentchange")


@dataclass(frozen=True)
class StreamEvent:
    """One event as the server sends it: SSE id, data text, Kafka offset and timestamp (ms)."""

    id: str
    data: str
    offset: int
    timestamp_ms: int


def load_events(
    path: Path,
    id_form: Literal["offset", "timestamp"] = "offset",
    *,
    pretty: bool = False,
    rebase_to: datetime | None = None,
) -> list[StreamEvent]:
    """Turn a real recentchange JSONL file into stream events with real-format ids.

    Offset ids come from ``meta.offset``. Timestamp ids carry the message time + 1 ms (as
    EventStreams does); message times are ``meta.dt`` made strictly increasing, because several
    events share one second and Kafka's offsetsForTimes would otherwise skip some on resume.
    ``pretty`` re-indents each JSON object so ``data`` spans several lines. ``rebase_to`` shifts
    the message times so the last event is at that time (old samples inside the 7-day window).
    """
    events: list[StreamEvent] = []
    previous_ms = 0
    lines = [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    shift_ms = 0
    if rebase_to is not None:
        last_ms = max(_dt_ms(json.loads(line)["meta"]["dt"]) for line in lines)
        shift_ms = int(rebase_to.timestamp() * 1000) - last_ms
    for line in lines:
        obj = json.loads(line)
        meta = obj["meta"]
        dt_ms = _dt_ms(meta["dt"]) + shift_ms
        timestamp_ms = max(dt_ms, previous_ms + 1)
        previous_ms = timestamp_ms
        if id_form == "offset":
            assignments: list[dict[str, Any]] = [
                {"topic": meta["topic"], "partition": meta["partition"], "offset": meta["offset"]}
            ]
        else:
            assignments = [
                {"topic": meta["topic"], "partition": 0, "timestamp": timestamp_ms + 1},
                {
                    "topic": next(t for t in TOPICS if t != meta["topic"]),
                    "partition": 0,
                    "offset": -1,
                },
            ]
        data = json.dumps(obj, indent=1, ensure_ascii=False) if pretty else line
        events.append(
            StreamEvent(
                id=json.dumps(assignments, separators=(",", ":")),
                data=data,
                offset=meta["offset"],
                timestamp_ms=timestamp_ms,
            )
        )
    return events


def _dt_ms(text: str) -> int:
    return int(datetime.fromisoformat(text).timestamp() * 1000)


@dataclass
class Reply:
    """What the server does on one connection (see the module docstring)."""

    status: int = 200
    retry_after: str | None = None
    body: str = ""
    content_type: str = "text/event-stream; charset=utf-8"
    cut_after: int | None = None
    cut_mode: Literal["chunk", "close"] = "chunk"
    stall_after: int | None = None
    stall_s: float = 0.0
    error_after: int | None = None
    hang: bool = False
    raw_prefix: bytes = b""


@dataclass
class RecordedRequest:
    """One request as the server saw it."""

    headers: dict[str, str]
    query: dict[str, str]
    at: float
    start_index: int | None = None


@dataclass
class ServerScript:
    """The whole run: per-connection replies, then defaults for every later connection."""

    replies: list[Reply] = field(default_factory=list)
    cut_every: int | None = None
    retry_ms: int | None = None
    comment_every: int | None = None
    close_when_done: bool = False


class SseTestServer:
    """The server; use as a context manager or call :meth:`start` / :meth:`stop`."""

    def __init__(self, events: list[StreamEvent], script: ServerScript | None = None) -> None:
        self.events = events
        self.script = script or ServerScript()
        self.requests: list[RecordedRequest] = []
        self.stopping = threading.Event()
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        """The stream URL (path like the real one)."""
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}/v2/stream/recentchange"

    def start(self) -> SseTestServer:
        """Start serving in a background thread."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving; stalled and hanging connections are released."""
        self.stopping.set()
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> SseTestServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def record(self, request: RecordedRequest) -> tuple[int, Reply]:
        """Store a request; return its connection index and scripted reply."""
        with self._lock:
            self.requests.append(request)
            index = len(self.requests) - 1
        if index < len(self.script.replies):
            return index, self.script.replies[index]
        return index, Reply(cut_after=self.script.cut_every)

    def start_index(self, last_event_id: str | None, since: str | None) -> int | None:
        """Where a connection starts, as EventStreams decides it; None for a bad id."""
        if last_event_id:
            try:
                assignments = json.loads(last_event_id)
                position = next(a for a in assignments if a.get("partition") == 0 and _real(a))
            except (ValueError, StopIteration, TypeError, AttributeError):
                return None
            if "offset" in position and position["offset"] >= 0:
                return _first(self.events, lambda e: e.offset > position["offset"])
            return _first(self.events, lambda e: e.timestamp_ms >= position["timestamp"])
        if since:
            since_ms = (
                int(since)
                if since.isdigit()
                else int(datetime.fromisoformat(since).astimezone(UTC).timestamp() * 1000)
            )
            return _first(self.events, lambda e: e.timestamp_ms >= since_ms)
        return 0


def _real(assignment: dict[str, Any]) -> bool:
    return assignment.get("offset", 0) != -1 or "timestamp" in assignment


def _first(events: list[StreamEvent], predicate: Any) -> int:
    return next((i for i, e in enumerate(events) if predicate(e)), len(events))


def frame(event: StreamEvent) -> bytes:
    """One event as EventStreams frames it."""
    data = "".join(f"data: {line}\n" for line in event.data.split("\n"))
    return f"event: message\nid: {event.id}\n{data}\n".encode()


def _handler_for(server: SseTestServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # keep test output clean
            return

        def do_GET(self) -> None:
            query = {k: v[-1] for k, v in parse_qs(urlsplit(self.path).query).items()}
            headers = {k.lower(): v for k, v in self.headers.items()}
            request = RecordedRequest(headers=headers, query=query, at=time.monotonic())
            _index, reply = server.record(request)
            if reply.hang:
                server.stopping.wait()
                self.close_connection = True
                return
            if reply.status != 200:
                self._send_error(reply)
                return
            start = server.start_index(headers.get("last-event-id"), query.get("since"))
            request.start_index = start
            if start is None:
                self._send_error(Reply(status=400, body='{"type":"invalid_last_event_id"}'))
                return
            # The client going away is normal in stop and idle-timeout tests.
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                self._stream(reply, start)
            self.close_connection = True

        def _send_error(self, reply: Reply) -> None:
            body = (reply.body or json.dumps({"status": reply.status})).encode()
            self.send_response(reply.status)
            self.send_header("Content-Type", reply.content_type if reply.body else "text/plain")
            if reply.retry_after is not None:
                self.send_header("Retry-After", reply.retry_after)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _chunk(self, payload: bytes) -> None:
            self.wfile.write(b"%x\r\n%s\r\n" % (len(payload), payload))

        def _stream(self, reply: Reply, start: int) -> None:
            script = server.script
            self.send_response(200)
            self.send_header("Content-Type", reply.content_type)
            self.send_header("Cache-Control", "no-cache")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            if not reply.content_type.startswith("text/event-stream"):
                self._chunk((reply.body or "<html>captive portal</html>").encode())
                self._chunk(b"")
                return
            head = b":ok\n\n"
            if script.retry_ms is not None:
                head += b"retry: %d\n\n" % script.retry_ms
            self._chunk(head + reply.raw_prefix)
            for sent, event in enumerate(server.events[start:]):
                if server.stopping.is_set():
                    return
                if reply.stall_after is not None and sent == reply.stall_after:
                    server.stopping.wait(reply.stall_s)
                if reply.error_after is not None and sent == reply.error_after:
                    self._chunk(b'event: error\ndata: {"type":"kafka_error","detail":"test"}\n\n')
                    self._chunk(b"")
                    return
                payload = frame(event)
                if reply.cut_after is not None and sent == reply.cut_after:
                    self._cut(payload, reply.cut_mode)
                    return
                if script.comment_every and sent % script.comment_every == 0:
                    payload = b": keepalive\n" + payload
                self._chunk(payload)
            if script.close_when_done:
                self._chunk(b"")
                return
            server.stopping.wait()

        def _cut(self, payload: bytes, mode: str) -> None:
            half = payload[: len(payload) // 2]
            if mode == "chunk":  # declare the whole chunk, send half, drop the socket
                self.wfile.write(b"%x\r\n%s" % (len(payload), half))
            else:  # a complete chunk holding half an event, then a clean end of stream
                self._chunk(half)
                self._chunk(b"")
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)

    return Handler


@contextmanager
def running_server(
    events: list[StreamEvent], script: ServerScript | None = None
) -> Iterator[SseTestServer]:
    """Start a server for the duration of a ``with`` block."""
    server = SseTestServer(events, script)
    with server:
        yield server


@contextmanager
def hanging_listener() -> Iterator[str]:
    """A URL whose TCP connect hangs: the listen backlog is full, so SYNs are dropped."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    fillers: list[socket.socket] = []
    try:
        for _ in range(4):  # the kernel accepts backlog+1 handshakes before it drops SYNs
            filler = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            filler.setblocking(False)
            filler.connect_ex(("127.0.0.1", port))
            fillers.append(filler)
        time.sleep(0.05)
        yield f"http://127.0.0.1:{port}/v2/stream/recentchange"
    finally:
        for filler in fillers:
            filler.close()
        listener.close()


def closed_port_url() -> str:
    """A loopback URL where nothing listens (connection refused)."""
    probe = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    return f"http://127.0.0.1:{port}/v2/stream/recentchange"
