"""Settings of the data-quality gates (section ``[quality]``)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class QualitySettings(BaseModel):
    """Data-quality gate behaviour."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    timeliness_p95_s: float = Field(default=180.0, gt=0)
    drift_warn: float = Field(default=0.10, ge=0)
    drift_alert: float = Field(default=0.20, ge=0)
    drift_baseline_days: int = Field(default=7, ge=1)
