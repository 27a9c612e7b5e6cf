"""Open the configured event log; backends are imported only when chosen."""

from __future__ import annotations

from typing import TYPE_CHECKING

from wikistream.errors import ConfigError, DependencyMissingError
from wikistream.eventlog.base import EventLog

if TYPE_CHECKING:
    from wikistream.settings import Settings

SQLITE_FILE = "eventlog.db"


def open_event_log(settings: Settings, *, readonly: bool = False) -> EventLog:
    """Return the event log chosen by ``settings.log.backend``."""
    cfg = settings.log
    if cfg.backend == "sqlite":
        from wikistream.eventlog.sqlite import SqliteEventLog

        path = settings.data_dir / SQLITE_FILE
        if readonly and not path.exists():
            settings.path()  # create the data dir
            readonly = False
        return SqliteEventLog(
            path if readonly else settings.path(SQLITE_FILE),
            retention_s=cfg.retention_days * 86400.0,
            retention_bytes=cfg.retention_bytes,
            synchronous=cfg.sqlite_synchronous,
            readonly=readonly,
        )
    if cfg.backend == "kafka":
        try:
            from wikistream.eventlog.kafka import KafkaEventLog
        except ImportError as exc:  # confluent-kafka is the optional extra
            raise DependencyMissingError("the Kafka event log", "kafka", "confluent_kafka") from exc
        if not cfg.kafka.bootstrap_servers:
            raise ConfigError(
                "log.backend is 'kafka' but log.kafka.bootstrap_servers is empty; set "
                "WIKISTREAM_LOG__KAFKA__BOOTSTRAP_SERVERS=host:9092",
                key="log.kafka.bootstrap_servers",
            )
        log: EventLog = KafkaEventLog(
            cfg.kafka, retention_days=cfg.retention_days, retention_bytes=cfg.retention_bytes
        )
        return log
    raise ConfigError(f"unknown log.backend {cfg.backend!r}", key="log.backend")
