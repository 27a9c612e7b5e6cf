"""`KafkaEventLog.groups()`: consumer groups and offsets for `wikistream log stats` on Kafka."""

from __future__ import annotations

import uuid

import pytest

from tests.kafka_broker import kafka_broker
from wikistream.eventlog.base import NewRecord
from wikistream.eventlog.config import KafkaSettings
from wikistream.eventlog.kafka import KafkaEventLog
from wikistream.ingest.report import log_report
from wikistream.settings import load_settings

__all__ = ["kafka_broker"]

pytestmark = pytest.mark.kafka


def _log(bootstrap: str, prefix: str) -> KafkaEventLog:
    settings = KafkaSettings(bootstrap_servers=bootstrap, topic_prefix=prefix, partitions=2)
    return KafkaEventLog(settings, retention_days=7.0)


def test_groups_of_this_prefix_with_lag_in_the_log_report(kafka_broker: str) -> None:
    prefix, other = f"g{uuid.uuid4().hex[:6]}.", f"h{uuid.uuid4().hex[:6]}."
    log, stranger = _log(kafka_broker, prefix), _log(kafka_broker, other)
    try:
        records = [NewRecord(value=b"x", key=f"k{i}".encode()) for i in range(20)]
        log.append({"raw-events": records})
        head = log.head("raw-events")
        partition, last = sorted(head.items())[0]
        log.commit("wikistream-bronze", "raw-events", {partition: last - 1})
        stranger.append({"raw-events": records[:1]})
        stranger.commit("wikistream-bronze", "raw-events", {0: 0})

        assert log.groups() == [("wikistream-bronze", "raw-events", partition, last - 1, None)]

        report = log_report(log, load_settings())
        assert report["groups"] == [
            {
                "group": "wikistream-bronze",
                "topic": "raw-events",
                "partition": partition,
                "committed": last - 1,
                "head": last,
                "lag": 1,
                "updated": None,
            }
        ]
    finally:
        log.close()
        stranger.close()
