"""Settings of the dashboard and query API (section ``[serve]``)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, SecretStr


class ServeSettings(BaseModel):
    """Web dashboard and SQL query sandbox."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    host: str = Field(
        default="127.0.0.1",
        description="Address to bind. Anything but loopback requires serve.token.",
    )
    port: int = Field(default=8050, ge=0, le=65535)
    token: SecretStr | None = Field(
        default=None,
        description="Bearer token required by every page and API call (needed off loopback).",
    )
    refresh_s: float = Field(default=2.0, gt=0, description="How often open pages poll.")
    query_row_limit: int = Field(default=10_000, gt=0)
    query_timeout_s: float = Field(default=10.0, gt=0)
    query_max_chars: int = Field(default=20_000, gt=0)
    query_memory_mb: int = Field(default=1024, ge=64, description="DuckDB memory cap per query.")
    query_concurrency: int = Field(default=2, gt=0, description="Queries running at once.")
