"""Read a whole topic of any event log, reduced to what must not depend on the backend."""

from __future__ import annotations

import json

from wikistream.eventlog.base import EventLog, LogRecord

_BATCH = 5_000


def read_topic(log: EventLog, topic: str) -> list[LogRecord]:
    """Every retained record of ``topic`` (all partitions), up to the head seen at the start."""
    head = log.head(topic)
    position: dict[int, int] = {}
    records: list[LogRecord] = []
    idle = 0
    while any(position.get(p, -1) < last for p, last in head.items()) and idle < 3:
        batch = log.read(topic, position, _BATCH)
        idle = 0 if batch else idle + 1  # a read may come back empty before fetches arrive
        for record in batch:
            position[record.partition] = record.offset
        records.extend(batch)
    return records


def raw_events(log: EventLog) -> list[tuple[bytes | None, str]]:
    """(key, verbatim event JSON) of every accepted event; ingest times left out."""
    return [
        (record.key, json.loads(record.value)["data"]) for record in read_topic(log, "raw-events")
    ]


def dead_letters(log: EventLog) -> list[tuple[str, str, str]]:
    """(stage, error_type, raw payload) of every dead-lettered record."""
    out = []
    for record in read_topic(log, "dlq-events"):
        body = json.loads(record.value)
        out.append((body["stage"], body["error_type"], body["raw_payload"]))
    return out
