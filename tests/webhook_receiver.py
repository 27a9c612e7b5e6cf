"""A Slack-style webhook on loopback: records every JSON body, answers queued status codes."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class WebhookReceiver:
    """Answers POSTs with ``statuses`` in turn (then 200) after ``delay_s``; records each one."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.statuses: list[int] = []
        self.delay_s = 0.0
        self.bodies: list[dict[str, Any]] = []
        self.paths: list[str] = []
        self.headers: list[dict[str, str]] = []
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers["Content-Length"])
                body = json.loads(self.rfile.read(length))
                with receiver._lock:
                    receiver.bodies.append(body)
                    receiver.paths.append(self.path)
                    receiver.headers.append(dict(self.headers))
                    status = receiver.statuses.pop(0) if receiver.statuses else 200
                time.sleep(receiver.delay_s)
                reply = b"ok" if status == 200 else b"server_error"
                try:
                    self.send_response(status)
                    if status == 429:
                        self.send_header("Retry-After", "2")
                    self.send_header("Content-Length", str(len(reply)))
                    self.end_headers()
                    self.wfile.write(reply)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client timed out first (the timeout test)

            def log_message(self, format: str, *args: object) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}{self.path}"

    def payloads(self, alert_type: str | None = None) -> list[dict[str, Any]]:
        """The structured WikiStream payloads received (optionally of one alert_type)."""
        with self._lock:
            found = [b["wikistream"] for b in self.bodies if "wikistream" in b]
        return [p for p in found if alert_type is None or p.get("alert_type") == alert_type]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
