"""Settings of the data-quality gates (section ``[quality]``)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class QualitySettings(BaseModel):
    """Data-quality gate behaviour."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    timeliness_p95_s: float = Field(
        default=180.0, gt=0, description="Bronze P95 event→bronze latency limit (warning)."
    )
    future_skew_s: float = Field(
        default=300.0, ge=0, description="Allowed clock skew before an event counts as 'future'."
    )
    drift_warn: float = Field(
        default=0.10, ge=0, description="Absolute null-rate change that is a drift warning."
    )
    drift_alert: float = Field(
        default=0.20, ge=0, description="Absolute null-rate change that is a drift alert."
    )
    drift_z_warn: float = Field(
        default=2.0, gt=0, description="|z| of the null rate vs baseline runs for a warning."
    )
    drift_z_alert: float = Field(
        default=3.0, gt=0, description="|z| of the null rate vs baseline runs for an alert."
    )
    drift_min_diff: float = Field(
        default=0.01, ge=0, description="Smaller null-rate changes are never drift (noise floor)."
    )
    drift_baseline_days: int = Field(default=7, ge=1)
