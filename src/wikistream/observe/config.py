"""Settings of metrics and alerting (section ``[observe]``)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, SecretStr


class ObserveSettings(BaseModel):
    """Prometheus endpoint and alert sinks."""

    model_config = ConfigDict(extra="forbid")

    metrics_enabled: bool = True
    metrics_host: str = "127.0.0.1"
    metrics_port: int = Field(default=9108, ge=0, le=65535)
    alert_cooldown_s: float = Field(default=900.0, ge=0)
    webhook_url: SecretStr | None = None
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_from: str = "wikistream@localhost"
    smtp_to: list[str] = Field(default_factory=list)
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = False
    sns_topic_arn: str | None = None
    aws_region: str | None = None
