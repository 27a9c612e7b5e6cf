"""Settings of metrics and alerting (section ``[observe]``)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, SecretStr


class ObserveSettings(BaseModel):
    """Prometheus endpoint, alert rules and alert sinks."""

    model_config = ConfigDict(extra="forbid")

    metrics_enabled: bool = True
    metrics_host: str = "127.0.0.1"
    metrics_port: int = Field(default=9108, ge=0, le=65535)

    alert_cooldown_s: float = Field(
        default=900.0, ge=0, description="A persisting alert is repeated at most this often."
    )
    alert_interval_s: float = Field(default=30.0, gt=0, description="How often rules run.")
    alert_send_resolved: bool = Field(
        default=True, description="Send a 'resolved' message when a condition clears."
    )
    dlq_alert_per_minute: float = Field(default=10.0, ge=0)
    dlq_alert_minutes: int = Field(default=2, ge=1)
    source_stale_s: float = Field(
        default=600.0, gt=0, description="No event and no canary for this long: source stale."
    )
    cpu_alert_percent: float = Field(
        default=80.0, gt=0, description="Process CPU, percent of one core."
    )
    cpu_alert_period_s: float = Field(default=300.0, gt=0)
    cpu_alert_periods: int = Field(default=2, ge=1)
    restart_alert_window_s: float = Field(default=600.0, gt=0)

    webhook_url: SecretStr | None = None
    webhook_timeout_s: float = Field(default=10.0, gt=0)
    webhook_attempts: int = Field(default=3, ge=1)
    webhook_backoff_s: float = Field(default=1.0, ge=0)

    smtp_host: str | None = None
    smtp_port: int = Field(default=25, ge=1, le=65535)
    smtp_from: str = "wikistream@localhost"
    smtp_to: list[str] = Field(default_factory=list)
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = False
    smtp_timeout_s: float = Field(default=10.0, gt=0)

    sns_topic_arn: str | None = None
    aws_region: str | None = None
    sns_endpoint_url: str | None = Field(
        default=None, description="Custom SNS endpoint (LocalStack, moto); normally unset."
    )
