"""Settings of the dashboard and query API (section ``[serve]``)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, SecretStr


class ServeSettings(BaseModel):
    """Web dashboard and SQL query sandbox."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    host: str = "127.0.0.1"
    port: int = Field(default=8050, ge=0, le=65535)
    token: SecretStr | None = None
    query_row_limit: int = Field(default=10_000, gt=0)
    query_timeout_s: float = Field(default=10.0, gt=0)
