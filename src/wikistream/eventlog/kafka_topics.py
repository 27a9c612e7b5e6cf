"""Kafka topic administration for the event log: metadata, creation with our settings, offsets."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from typing import Any

from confluent_kafka import IsolationLevel, KafkaError, KafkaException, TopicPartition
from confluent_kafka.admin import (  # type: ignore[attr-defined,unused-ignore]
    AdminClient,
    NewTopic,
    OffsetSpec,
)

from wikistream.errors import EventLogError, EventLogUnavailableError
from wikistream.eventlog.config import KafkaSettings

log = logging.getLogger(__name__)


def topic_config(
    settings: KafkaSettings, *, retention_ms: int, retention_bytes: int | None, compacted: bool
) -> dict[str, str]:
    """Return the properties of new topics: time retention for data, compaction for checkpoints."""
    min_isr = settings.min_insync_replicas or min(2, settings.replication_factor)
    conf = {"min.insync.replicas": str(min_isr)}
    if compacted:
        conf["cleanup.policy"] = "compact"
    else:
        conf["cleanup.policy"] = "delete"
        conf["retention.ms"] = str(retention_ms)
        if retention_bytes is not None:
            # Kafka limits each partition; log.retention_bytes means the whole topic.
            conf["retention.bytes"] = str(max(1, retention_bytes // settings.partitions))
    return conf


class KafkaTopics:
    """Partition counts (cached), topic creation and offset listing through one AdminClient."""

    def __init__(
        self,
        settings: KafkaSettings,
        conf: dict[str, Any],
        *,
        retention_ms: int,
        retention_bytes: int | None,
    ) -> None:
        self.settings = settings
        self._admin = AdminClient(conf)
        self._timeout = settings.request_timeout_s
        self._retention_ms = retention_ms
        self._retention_bytes = retention_bytes
        self._partitions: dict[str, int] = {}
        self.checkpoint_topic = settings.topic_prefix + settings.checkpoint_topic

    def names(self) -> list[str]:
        """Every topic the cluster has now (fresh metadata)."""
        self.partition_count("", refresh=True)
        return sorted(self._partitions)

    def forget(self) -> None:
        """Drop the cached metadata (after a failure that may mean a topic is gone)."""
        self._partitions.clear()

    def unavailable(self, what: str, exc: BaseException) -> EventLogUnavailableError:
        """The retryable error for a failed request, naming the bootstrap servers."""
        return EventLogUnavailableError(
            f"{what} failed on Kafka {self.settings.bootstrap_servers!r}: {exc}; check that the "
            "broker is up and reachable (log.kafka.bootstrap_servers, TLS/SASL settings)"
        )

    def partition_count(self, kafka_topic: str, *, refresh: bool = False) -> int | None:
        """Partitions of a topic, None when it does not exist; cached unless ``refresh``."""
        if not refresh and kafka_topic in self._partitions:
            return self._partitions[kafka_topic]
        try:
            self._admin.poll(0)  # serves callbacks, e.g. MSK IAM token refresh
            meta = self._admin.list_topics(timeout=self._timeout)
        except KafkaException as exc:
            raise self.unavailable("reading topic metadata", exc) from exc
        self._partitions = {
            name: len(tmeta.partitions)
            for name, tmeta in meta.topics.items()
            if tmeta.error is None and tmeta.partitions
        }
        return self._partitions.get(kafka_topic)

    def ensure(self, kafka_topics: Iterable[str]) -> None:
        """Create the missing topics (checkpoint topic: 1 partition, compacted)."""
        missing = sorted({t for t in kafka_topics if self.partition_count(t) is None})
        if not missing:
            return
        ckpt = self.checkpoint_topic
        new = [
            NewTopic(
                name,
                num_partitions=1 if name == ckpt else self.settings.partitions,
                replication_factor=self.settings.replication_factor,
                config=topic_config(
                    self.settings,
                    retention_ms=self._retention_ms,
                    retention_bytes=self._retention_bytes,
                    compacted=name == ckpt,
                ),
            )
            for name in missing
        ]
        self._admin.poll(0)
        futures = self._admin.create_topics(
            new, operation_timeout=self._timeout, request_timeout=self._timeout
        )
        for name, future in futures.items():
            try:
                future.result()
            except KafkaException as exc:
                err: KafkaError = exc.args[0]
                if err.code() == KafkaError.TOPIC_ALREADY_EXISTS:
                    continue  # another process created it first
                if err.retriable() or err.code() < 0:
                    raise self.unavailable(f"creating topic {name!r}", exc) from exc
                raise EventLogError(
                    f"cannot create topic {name!r} ({self.settings.partitions} partitions, "
                    f"replication {self.settings.replication_factor}): {err.str()}; fix "
                    "log.kafka.partitions / replication_factor or create the topic yourself"
                ) from exc
        deadline = time.monotonic() + self._timeout
        while any(self.partition_count(t, refresh=True) is None for t in missing):
            if time.monotonic() > deadline:
                raise EventLogUnavailableError(
                    f"topics {missing} were created but do not show up in the metadata of "
                    f"{self.settings.bootstrap_servers!r}; retry later"
                )
            time.sleep(0.1)
        log.info("created Kafka topics %s", missing)

    def offsets(self, kafka_topic: str) -> tuple[dict[int, int], dict[int, int]]:
        """Return ``(earliest, end)`` offsets per partition (end may underestimate, see scan)."""
        count = self.partition_count(kafka_topic) or 0
        result: list[dict[int, int]] = []
        self._admin.poll(0)
        for spec in (OffsetSpec.earliest(), OffsetSpec.latest()):  # type: ignore[no-untyped-call]
            request = {TopicPartition(kafka_topic, p): spec for p in range(count)}
            try:
                futures = self._admin.list_offsets(
                    request,
                    isolation_level=IsolationLevel.READ_COMMITTED,
                    request_timeout=self._timeout,
                )
                result.append({tp.partition: int(f.result().offset) for tp, f in futures.items()})
            except KafkaException as exc:
                raise self.unavailable(f"listing offsets of {kafka_topic!r}", exc) from exc
        return result[0], result[1]
