"""The event-log contract runs against every backend: embedded SQLite and Kafka (tansu broker).

``kafka`` uses transactional appends (the default); ``kafka-idempotent`` the fallback for brokers
without transactions. Each Kafka test gets its own topic/group prefix, so tests sharing the
session broker never see each other's records.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.kafka_broker import kafka_broker
from wikistream.eventlog.base import EventLog
from wikistream.eventlog.sqlite import SqliteEventLog

LogFactory = Callable[[], EventLog]

__all__ = ["LogFactory", "kafka_broker"]


@pytest.fixture(
    params=[
        "sqlite",
        pytest.param("kafka", marks=pytest.mark.kafka),
        pytest.param("kafka-idempotent", marks=pytest.mark.kafka),
    ]
)
def log_factory(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[LogFactory]:
    """Return a function opening (and re-opening, as after a restart) the same log."""
    opened: list[EventLog] = []

    def make_sqlite() -> EventLog:
        log = SqliteEventLog(tmp_path / "eventlog.db")
        opened.append(log)
        return log

    def make_kafka() -> EventLog:
        from wikistream.eventlog.config import KafkaSettings
        from wikistream.eventlog.kafka import KafkaEventLog

        settings = KafkaSettings(
            bootstrap_servers=request.getfixturevalue("kafka_broker"),
            topic_prefix=prefix,
            append_mode="idempotent" if request.param == "kafka-idempotent" else "transactional",
            append_timeout_s=10.0,
            read_wait_s=2.0,
        )
        log = KafkaEventLog(settings, retention_days=7.0)
        opened.append(log)
        return log

    prefix = f"t{uuid.uuid4().hex[:10]}."
    yield make_sqlite if request.param == "sqlite" else make_kafka
    for log in opened:
        with contextlib.suppress(Exception):
            log.close()
