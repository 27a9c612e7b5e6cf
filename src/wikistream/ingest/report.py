"""What `wikistream log stats` and `wikistream dlq show` report, as plain data."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

import msgspec

from wikistream.clock import parse_iso_utc_or_none, seconds_since, utc_now
from wikistream.errors import OffsetOutOfRangeError
from wikistream.eventlog.base import EventLog, LogRecord, TopicStats, lag
from wikistream.ingest.checkpoint import CHECKPOINT_NAME, IngestState
from wikistream.ingest.ledger import rows_from_state

if TYPE_CHECKING:
    from wikistream.settings import Settings

PREVIEW_CHARS = 120


def log_report(log: EventLog, settings: Settings) -> dict[str, Any]:
    """Topics, consumer groups with lag, ingest counters, canary heartbeat, resume ids, ledger."""
    now = utc_now()
    names = [settings.log.raw_topic, settings.log.dlq_topic]
    list_topics: Callable[[], list[str]] | None = getattr(log, "topics", None)
    if list_topics is not None:
        names += [t for t in list_topics() if t not in names]
    topics = []
    for name in names:
        st = log.stats(name)
        topics.append(
            {
                "topic": name,
                "records": st.records,
                "first_offsets": dict(st.first_offsets),
                "last_offsets": dict(st.last_offsets),
                "oldest": st.oldest,
                "newest": st.newest,
                "newest_age_s": seconds_since(st.newest, now),
                "size_bytes": st.size_bytes,
            }
        )
    state = IngestState.from_body(log.load_checkpoint(CHECKPOINT_NAME))
    heartbeat = state.canary.as_dict()
    last_canary = heartbeat.get("last_received_at")
    heartbeat["age_s"] = seconds_since(parse_iso_utc_or_none(last_canary), now)
    return {
        "generated_at": now,
        "topics": topics,
        "groups": _groups(log, names),
        "ingest": {
            "counters": state.counters.as_dict(),
            "balanced": state.counters.balanced(),
            "checkpoint_updated_at": state.updated_at,
            "resume_ids": state.resume,
        },
        "canary": heartbeat,
        "coverage": [
            {
                "hour": row.hour,
                "topic": row.topic,
                "partition": row.partition,
                "received": row.received,
                "skipped": row.skipped,
                "duplicates": row.duplicates,
                "coverage": None if row.coverage is None else round(row.coverage, 6),
            }
            for row in rows_from_state(state.coverage)
        ],
    }


def _groups(log: EventLog, topics: list[str]) -> list[dict[str, Any]]:
    """Consumer groups of ``topics`` and their lag, for logs that can list them (SQLite, Kafka).

    On a shared Kafka cluster without ``topic_prefix`` other applications' groups are listed by
    the broker too; only those reading our topics are shown.
    """
    list_groups: Callable[[], list[tuple[str, str, int, int, datetime | None]]] | None = getattr(
        log, "groups", None
    )
    if list_groups is None:
        return []
    rows = []
    heads: dict[str, dict[int, int]] = {}
    for group, topic, partition, offset, updated in list_groups():
        if topic not in topics:
            continue
        head = heads.setdefault(topic, log.head(topic))
        rows.append(
            {
                "group": group,
                "topic": topic,
                "partition": partition,
                "committed": offset,
                "head": head.get(partition),
                "lag": lag(
                    {partition: head[partition]} if partition in head else {}, {partition: offset}
                ),
                "updated": updated,
            }
        )
    return rows


def read_dlq(
    log: EventLog, topic: str, limit: int, stats: TopicStats | None = None
) -> list[tuple[LogRecord, dict[str, Any]]]:
    """Up to ``limit`` newest dead letters of each partition with their bodies, oldest first.

    ``stats`` is ``log.stats(topic)`` when the caller already has it. A record that is not a
    JSON object comes back as ``{"error_type": "unreadable", ...}``: shown, never skipped.
    """
    if limit <= 0:
        return []
    st = stats if stats is not None else log.stats(topic)
    position = {
        p: max(st.first_offsets.get(p, 0) - 1, last - limit) for p, last in st.last_offsets.items()
    }
    try:
        records = log.read(topic, position, limit * max(1, len(position)))
    except OffsetOutOfRangeError:  # retention ran between stats() and read()
        records = log.read(topic, {}, limit * max(1, len(position)))
    records.sort(key=lambda r: (r.timestamp, r.partition, r.offset))
    return [(record, _dlq_body(record)) for record in records]


def latest_dlq(log: EventLog, topic: str, limit: int) -> list[dict[str, Any]]:
    """The newest ``limit`` dead-letter records, newest first, decoded for display."""
    return [_dlq_row(r, body) for r, body in reversed(read_dlq(log, topic, limit)[-limit:])]


def _dlq_body(record: LogRecord) -> dict[str, Any]:
    try:
        body = msgspec.json.decode(record.value)
    except msgspec.DecodeError:
        body = None
    if not isinstance(body, dict):
        body = {"error_type": "unreadable", "error": "the DLQ record is not a JSON object"}
    return body


def _dlq_row(record: LogRecord, body: dict[str, Any]) -> dict[str, Any]:
    payload = body.get("raw_payload")
    if payload is None and body.get("original_event") is not None:
        payload = msgspec.json.encode(body["original_event"]).decode("utf-8", "replace")
    payload = payload if isinstance(payload, str) else ""
    preview = payload[:PREVIEW_CHARS] + ("…" if len(payload) > PREVIEW_CHARS else "")
    return {
        "offset": record.offset,
        "partition": record.partition,
        "received_at": body.get("received_at") or body.get("timestamp"),
        "stage": body.get("stage"),
        "error_type": body.get("error_type"),
        "error": body.get("error"),
        "sse_id": body.get("sse_id"),
        "raw_bytes": body.get("raw_bytes"),
        "raw_truncated": body.get("raw_truncated"),
        "preview": preview,
        "record": body,
    }
