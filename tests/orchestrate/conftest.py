"""Orchestrate acceptance fixtures: a generated replay file, a webhook receiver, child env."""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from wikistream.ingest.generate import GenerateOptions, write_events
from wikistream.settings import Settings, load_settings

REPO = Path(__file__).resolve().parents[2]
REPLAY_EVENTS = 3000


class WebhookReceiver:
    """A Slack-style webhook on loopback that records every JSON body it is sent."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers["Content-Length"])
                body = json.loads(self.rfile.read(length))
                with receiver._lock:
                    receiver.bodies.append(body)
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, format: str, *args: object) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks/T000/B000/secret"

    def payloads(self, alert_type: str | None = None) -> list[dict[str, Any]]:
        """The structured WikiStream payloads received (optionally of one alert_type)."""
        with self._lock:
            found = [b["wikistream"] for b in self.bodies if "wikistream" in b]
        return [p for p in found if alert_type is None or p.get("alert_type") == alert_type]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def webhook() -> Iterator[WebhookReceiver]:
    receiver = WebhookReceiver()
    yield receiver
    receiver.close()


@pytest.fixture(scope="session")
def replay(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """A generated replay file (~half of it target-domain edits) and its manifest."""
    out = tmp_path_factory.mktemp("replay") / "events.jsonl.gz"
    manifest = write_events(GenerateOptions(events=REPLAY_EVENTS, seed=3), out)
    return out, manifest


@pytest.fixture
def child_env(monkeypatch: pytest.MonkeyPatch) -> Callable[..., Settings]:
    """Set WIKISTREAM_* variables for this process and its children; return a settings loader.

    Worker and step processes load their settings themselves, so anything a test changes must
    reach them through the environment (or a config file), not only through overrides.
    """
    monkeypatch.setenv(
        "PYTHONPATH",
        os.pathsep.join([str(REPO / "src"), str(REPO), os.environ.get("PYTHONPATH", "")]),
    )

    def load(data_dir: Path, **env: object) -> Settings:
        monkeypatch.setenv("WIKISTREAM_DATA_DIR", str(data_dir))
        for key, value in env.items():
            monkeypatch.setenv(f"WIKISTREAM_{key.upper()}", str(value))
        return load_settings()

    return load


def wait_for(predicate: Callable[[], bool], timeout: float, what: str, step: float = 0.2) -> None:
    """Poll ``predicate`` until true; fail naming ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(step)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
