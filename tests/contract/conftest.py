"""The event-log contract runs against every backend: embedded SQLite and Kafka (tansu broker)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from wikistream.eventlog.base import EventLog
from wikistream.eventlog.sqlite import SqliteEventLog

LogFactory = Callable[[], EventLog]


@pytest.fixture(params=["sqlite"])
def log_factory(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[LogFactory]:
    """Return a function opening (and re-opening, as after a restart) the same log."""
    opened: list[EventLog] = []

    def make_sqlite() -> EventLog:
        log = SqliteEventLog(tmp_path / "eventlog.db")
        opened.append(log)
        return log

    factories = {"sqlite": make_sqlite}
    yield factories[request.param]
    for log in opened:
        with contextlib.suppress(Exception):
            log.close()
