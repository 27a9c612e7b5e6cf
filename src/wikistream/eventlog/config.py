"""Settings of the event log (section ``[log]``)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr

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
    client_id: str = "wikistream"
    extra: dict[str, str] = Field(
        default_factory=dict, description="Extra librdkafka properties, passed through."
    )


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
