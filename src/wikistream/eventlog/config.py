"""Settings of the event log (section ``[log]``)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator

RAW_TOPIC = "raw-events"
DLQ_TOPIC = "dlq-events"


class KafkaSettings(BaseModel):
    """Connection to a Kafka cluster (MSK or any Kafka-protocol broker)."""

    model_config = ConfigDict(extra="forbid")

    bootstrap_servers: str = ""
    security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512", "OAUTHBEARER"] | None = None
    sasl_username: str | None = None
    sasl_password: SecretStr | None = None
    msk_iam: bool = Field(default=False, description="Authenticate with AWS MSK IAM (OAUTHBEARER).")
    aws_region: str | None = None
    ssl_ca_location: str | None = None
    partitions: int = Field(default=6, gt=0)
    replication_factor: int = Field(default=1, gt=0)
    min_insync_replicas: int | None = Field(
        default=None,
        gt=0,
        description="Topic min.insync.replicas; default min(2, replication_factor) so acks=all "
        "means two copies whenever the cluster has them.",
    )
    client_id: str = "wikistream"
    topic_prefix: str = Field(
        default="",
        pattern=r"^[A-Za-z0-9._-]{0,100}$",
        description="Prepended to every topic and consumer-group name (one cluster, many "
        "deployments or test runs).",
    )
    checkpoint_topic: str = Field(
        default="wikistream-checkpoints",
        pattern=r"^[A-Za-z0-9._-]{1,200}$",
        description="Compacted topic holding the append checkpoints, keyed by checkpoint name.",
    )
    append_mode: Literal["transactional", "idempotent"] = Field(
        default="transactional",
        description="transactional: records + checkpoint in one Kafka transaction (all or "
        "nothing). idempotent: for brokers without transactions; records are flushed, then the "
        "checkpoint, so a crash in between re-appends those records on retry (at-least-once).",
    )
    transactional_id: str | None = Field(
        default=None,
        description="Stable transactional.id for the one writer process (fences zombies and "
        "aborts its unfinished transaction at restart); default: unique per process.",
    )
    compression_type: Literal["none", "gzip", "snappy", "lz4", "zstd"] = "snappy"
    linger_ms: int = Field(default=50, ge=0)
    append_timeout_s: float = Field(
        default=30.0, gt=0, description="How long one append may take before it fails."
    )
    transaction_timeout_s: float = Field(
        default=60.0,
        gt=0,
        description="Broker aborts a transaction left open this long (a crashed writer).",
    )
    read_wait_s: float = Field(
        default=1.0,
        gt=0,
        description="Longest time one read waits for fetches before returning what it has.",
    )
    request_timeout_s: float = Field(
        default=10.0, gt=0, description="Timeout of metadata, offset and admin requests."
    )
    extra: dict[str, str] = Field(
        default_factory=dict, description="Extra librdkafka properties, passed through."
    )

    @model_validator(mode="after")
    def _check_timeouts(self) -> KafkaSettings:
        # librdkafka refuses a transactional producer whose delivery timeout exceeds it.
        if self.transaction_timeout_s < self.append_timeout_s:
            raise ValueError(
                f"transaction_timeout_s ({self.transaction_timeout_s}) must be at least "
                f"append_timeout_s ({self.append_timeout_s})"
            )
        return self


class EventLogSettings(BaseModel):
    """Which durable log sits between ingest and bronze."""

    model_config = ConfigDict(extra="forbid")

    backend: Literal["sqlite", "kafka"] = "sqlite"
    raw_topic: str = RAW_TOPIC
    dlq_topic: str = DLQ_TOPIC
    retention_days: float = Field(default=7.0, gt=0)
    retention_bytes: int | None = Field(default=None, gt=0)
    sqlite_synchronous: Literal["FULL", "NORMAL"] = "FULL"
    kafka: KafkaSettings = Field(default_factory=KafkaSettings)
