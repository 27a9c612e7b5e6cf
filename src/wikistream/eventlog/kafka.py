"""The Kafka event log (confluent-kafka): MSK, Apache Kafka or any Kafka-protocol broker.

Records and the append checkpoint go to Kafka in one transaction (``append_mode =
"transactional"``; consumers read with ``isolation.level=read_committed``), so ingest's SSE resume
id always matches the records that are visible. The checkpoint is a record keyed by its name on
a compacted topic; :meth:`KafkaEventLog.load_checkpoint` reads its newest value. Positions in this
API are *last processed* offsets; Kafka commits the *next* offset, so :meth:`commit` stores
``offset + 1`` and the lag that Kafka tools show is exact. Nothing touches the network until the
first call, so opening the log never hangs.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from confluent_kafka import Consumer, KafkaException, TopicPartition

from wikistream.errors import EventLogError, EventLogUnavailableError
from wikistream.eventlog.base import LogRecord, NewRecord, Position, TopicStats
from wikistream.eventlog.config import KafkaSettings
from wikistream.eventlog.kafka_auth import build_client_config
from wikistream.eventlog.kafka_producer import RecordWriter
from wikistream.eventlog.kafka_scan import (
    ConnectionWatch,
    TopicReader,
    check_position,
    find_last,
)
from wikistream.eventlog.kafka_stats import topic_stats
from wikistream.eventlog.kafka_topics import KafkaTopics

log = logging.getLogger(__name__)

_EXACT_COUNT_LIMIT = 200_000
_PARTITION_RECHECK_S = 60.0


class KafkaEventLog:
    """:class:`~wikistream.eventlog.base.EventLog` on Kafka topics, groups and transactions."""

    def __init__(
        self,
        settings: KafkaSettings,
        *,
        retention_days: float,
        retention_bytes: int | None = None,
    ) -> None:
        self.settings = settings
        base = build_client_config(settings)
        base["logger"] = logging.getLogger("wikistream.eventlog.librdkafka")
        base["allow.auto.create.topics"] = False  # topics are created with our settings only
        self._base = base
        self._timeout = settings.request_timeout_s
        self._lock = threading.RLock()
        self._closed = False
        self._topics = KafkaTopics(
            settings,
            dict(base),
            retention_ms=int(retention_days * 86_400_000),
            retention_bytes=retention_bytes,
        )
        self._readers: dict[str, TopicReader] = {}
        self._groups: dict[str, Consumer] = {}
        self._scanners: dict[str, Consumer] = {}
        txn_id = settings.transactional_id or (
            f"{settings.client_id}-{settings.topic_prefix}{uuid.uuid4().hex[:12]}"
        )
        self._writer = RecordWriter(settings, dict(base), transactional_id=txn_id)

    def __repr__(self) -> str:
        return (
            f"KafkaEventLog(bootstrap={self.settings.bootstrap_servers!r}, "
            f"prefix={self.settings.topic_prefix!r}, mode={self.settings.append_mode!r})"
        )

    # -- names, metadata, topics ------------------------------------------------------------
    def kafka_topic(self, topic: str) -> str:
        """The broker-side name of a logical topic (with ``topic_prefix``)."""
        return self.settings.topic_prefix + topic

    def kafka_group(self, group: str) -> str:
        """The broker-side consumer-group id of a logical group (with ``topic_prefix``)."""
        return self.settings.topic_prefix + group

    def _check_open(self) -> None:
        if self._closed:
            raise EventLogError("the Kafka event log was closed; open a new one")

    def offsets(self, kafka_topic: str) -> tuple[dict[int, int], dict[int, int]]:
        """Return ``(earliest, end)`` offsets per partition of a broker-side topic."""
        with self._lock:
            return self._topics.offsets(kafka_topic)

    def _consumer(
        self, group: str, *, fetch_wait_ms: int = 100, on_error: ConnectionWatch | None = None
    ) -> Consumer:
        conf = dict(self._base)
        if on_error is not None:
            conf["error_cb"] = on_error
        conf.update(
            {
                "group.id": group,
                "enable.auto.commit": False,
                "enable.auto.offset.store": False,
                "enable.partition.eof": True,
                "auto.offset.reset": "error",
                "isolation.level": "read_committed",
                "fetch.wait.max.ms": fetch_wait_ms,
            }
        )
        return Consumer(conf)

    def scanner(self, kafka_topic: str) -> Consumer:
        """The consumer for bounded scans (checkpoints, head, stats) of one topic.

        One per topic: re-pointing a consumer at another topic costs a metadata round trip.
        """
        consumer = self._scanners.get(kafka_topic)
        if consumer is None:
            # Scans end at EOF, so a short broker wait answers "nothing more" quickly.
            consumer = self._consumer(self.kafka_group("wikistream-scanner"), fetch_wait_ms=10)
            self._scanners[kafka_topic] = consumer
        return consumer

    # -- EventLog --------------------------------------------------------------------------
    def append(
        self,
        batch: Mapping[str, Sequence[NewRecord]],
        checkpoint: tuple[str, Mapping[str, Any]] | None = None,
    ) -> None:
        """Append records and the checkpoint atomically (see ``append_mode``)."""
        items = [(self.kafka_topic(t), list(r)) for t, r in batch.items() if r]
        if not items and checkpoint is None:
            return
        ckpt: tuple[str, bytes, bytes] | None = None
        if checkpoint is not None:
            name, body = checkpoint
            try:
                value = json.dumps(dict(body), separators=(",", ":"), allow_nan=False)
            except (TypeError, ValueError) as exc:
                raise EventLogError(f"checkpoint {name!r} is not JSON-serialisable: {exc}") from exc
            ckpt = (self.kafka_topic(self.settings.checkpoint_topic), name.encode(), value.encode())
        with self._lock:
            self._check_open()
            self._topics.ensure([t for t, _ in items] + ([ckpt[0]] if ckpt else []))
            try:
                self._writer.write(items, ckpt)
            except EventLogError:
                # A topic deleted (or a broker replaced) under us fails every produce until
                # it is re-created; re-check the metadata on the next append.
                self._topics.forget()
                raise

    def load_checkpoint(self, name: str) -> dict[str, Any] | None:
        """Return the newest checkpoint value stored under ``name`` or None."""
        topic = self.kafka_topic(self.settings.checkpoint_topic)
        key = name.encode()
        with self._lock:
            self._check_open()
            if self._topics.partition_count(topic) is None:
                return None
            lows, ends = self._topics.offsets(topic)
            found = find_last(
                self.scanner(topic),
                topic,
                lows,
                ends,
                time.monotonic() + self._timeout,
                match=lambda m: m.key() == key,
            )
        if not found:
            return None
        newest = max(found.values(), key=lambda m: m.timestamp()[1])
        raw = newest.value()
        if raw is None:  # a tombstone: the checkpoint was deleted
            return None
        try:
            body = json.loads(raw)
        except ValueError as exc:
            raise EventLogError(f"checkpoint {name!r} in topic {topic!r} is not JSON") from exc
        if not isinstance(body, dict):
            raise EventLogError(f"checkpoint {name!r} in topic {topic!r} is not a JSON object")
        return body

    def read(self, topic: str, after: Position, max_records: int) -> list[LogRecord]:
        """Return up to ``max_records`` committed records after ``after``, oldest first."""
        if max_records <= 0:
            return []
        kafka_topic = self.kafka_topic(topic)
        with self._lock:
            self._check_open()
            reader = self._readers.get(topic)
            if reader is None or not reader.continues(after) or self._partitions_added(reader):
                if self._topics.partition_count(kafka_topic, refresh=True) is None:
                    return []
                lows, _ends = self._topics.offsets(kafka_topic)
                check_position(topic, after, lows)
                if reader is None:
                    watch = ConnectionWatch()
                    consumer = self._consumer(self.kafka_group("wikistream-reader"), on_error=watch)
                    reader = TopicReader(consumer, topic, kafka_topic, watch)
                    self._readers[topic] = reader
                reader.assign(after, lows)
            records, trouble = reader.read(max_records, self.settings.read_wait_s)
            if not records and trouble:
                # An outage must not look like "nothing new": ask the broker directly.
                self._topics.partition_count(kafka_topic, refresh=True)  # raises when unreachable
                reader.watch.down = False
        return records

    def _partitions_added(self, reader: TopicReader) -> bool:
        """True (at most once a minute) when the topic gained partitions since assignment."""
        if time.monotonic() - reader.assigned_at < _PARTITION_RECHECK_S:
            return False
        reader.assigned_at = time.monotonic()
        count = self._topics.partition_count(reader.kafka_topic, refresh=True) or 0
        return count > len(reader.partitions)

    def _group_consumer(self, group: str) -> Consumer:
        consumer = self._groups.get(group)
        if consumer is None:
            consumer = self._consumer(self.kafka_group(group))
            self._groups[group] = consumer
        # This consumer never consumes, so serve its callbacks (OAUTHBEARER token refresh) here;
        # it has no assignment, so poll returns nothing.
        consumer.poll(0)
        return consumer

    def commit(self, group: str, topic: str, position: Position) -> None:
        """Commit ``offset + 1`` per partition for the group (Kafka's "next offset" rule)."""
        if not position:
            return
        kafka_topic = self.kafka_topic(topic)
        offsets = [TopicPartition(kafka_topic, p, o + 1) for p, o in sorted(position.items())]
        with self._lock:
            self._check_open()
            try:
                result = self._group_consumer(group).commit(offsets=offsets, asynchronous=False)
            except KafkaException as exc:
                raise self._topics.unavailable(
                    f"committing group {group!r} on {topic!r}", exc
                ) from exc
        failed = [tp for tp in result or [] if tp.error is not None]
        if failed:
            raise EventLogUnavailableError(
                f"committing group {group!r} on {topic!r} failed for partitions "
                f"{[tp.partition for tp in failed]}: {failed[0].error}; retry the commit"
            )

    def committed(self, group: str, topic: str) -> dict[int, int]:
        """Return the group's last processed offsets (Kafka committed offset - 1)."""
        kafka_topic = self.kafka_topic(topic)
        with self._lock:
            self._check_open()
            count = self._topics.partition_count(kafka_topic)
            if count is None:
                return {}
            request = [TopicPartition(kafka_topic, p) for p in range(count)]
            try:
                tps = self._group_consumer(group).committed(request, timeout=self._timeout)
            except KafkaException as exc:
                raise self._topics.unavailable(f"reading group {group!r} offsets", exc) from exc
        return {tp.partition: tp.offset - 1 for tp in tps if tp.error is None and tp.offset >= 0}

    def head(self, topic: str) -> dict[int, int]:
        """Offset of the newest committed record per partition (transaction markers skipped)."""
        kafka_topic = self.kafka_topic(topic)
        with self._lock:
            self._check_open()
            if self._topics.partition_count(kafka_topic) is None:
                return {}
            lows, ends = self._topics.offsets(kafka_topic)
            found = find_last(
                self.scanner(kafka_topic), kafka_topic, lows, ends, time.monotonic() + self._timeout
            )
        return {p: int(m.offset() or 0) for p, m in sorted(found.items())}

    def stats(self, topic: str) -> TopicStats:
        """Records, offsets and age range of a topic (exact up to 200k offsets, else a bound)."""
        kafka_topic = self.kafka_topic(topic)
        with self._lock:
            self._check_open()
            if self._topics.partition_count(kafka_topic) is None:
                return TopicStats(topic, 0, {}, {}, None, None, 0)
            lows, ends = self._topics.offsets(kafka_topic)
            return topic_stats(
                self.scanner(kafka_topic),
                topic,
                kafka_topic,
                lows,
                ends,
                time.monotonic() + max(self._timeout, 60.0),
                exact_limit=_EXACT_COUNT_LIMIT,
            )

    def topics(self) -> list[str]:
        """Logical names of the data topics under ``topic_prefix`` (checkpoints excluded)."""
        prefix = self.settings.topic_prefix
        with self._lock:
            self._check_open()
            names = self._topics.names()
        ckpt = self.kafka_topic(self.settings.checkpoint_topic)
        return sorted(
            n[len(prefix) :]
            for n in names
            if n.startswith(prefix) and n != ckpt and not n.startswith("__")
        )

    def close(self) -> None:
        """Close consumers and the producer; appends already returned are durable."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            consumers = [r.consumer for r in self._readers.values()]
            consumers += [*self._groups.values(), *self._scanners.values()]
            for consumer in consumers:
                try:
                    consumer.close()
                except (KafkaException, RuntimeError) as exc:
                    log.debug("closing a Kafka consumer: %s", exc)
            self._writer.close()
