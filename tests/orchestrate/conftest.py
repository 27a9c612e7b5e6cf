"""Orchestrate acceptance fixtures: a generated replay file, a webhook receiver, child env."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.webhook_receiver import WebhookReceiver
from wikistream.ingest.generate import GenerateOptions, write_events
from wikistream.orchestrate.supervisor import Supervisor
from wikistream.settings import Settings, load_settings

REPO = Path(__file__).resolve().parents[2]
REPLAY_EVENTS = 3000


@pytest.fixture
def webhook() -> Iterator[WebhookReceiver]:
    receiver = WebhookReceiver("/hooks/T000/B000/secret")
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


def run_until(sup: Supervisor, predicate: Callable[[], bool], timeout: float) -> None:
    """Tick the supervisor until ``predicate`` holds; fail after ``timeout`` seconds."""

    def ticked() -> bool:
        sup.tick()
        return predicate()

    wait_for(ticked, timeout, "the supervisor's condition", step=0.1)
