"""Settings of the orchestrator (section ``[orchestrate]``)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class OrchestrateSettings(BaseModel):
    """How `wikistream run` schedules the stages."""

    model_config = ConfigDict(extra="forbid")

    mode: Literal["continuous", "cycle"] = "continuous"
    cycle_interval_s: float = Field(default=600.0, gt=0)
    step_timeout_s: float = Field(default=900.0, gt=0)
    step_retries: int = Field(default=2, ge=0)
    stall_timeout_s: float = Field(default=300.0, gt=0)
    bronze_silence_alarm_s: float = Field(default=600.0, gt=0)
    # "shared": every stage (ingest, bronze, refine, maintenance, dashboard) is a thread of one
    # worker process: one Python and one copy of pyarrow/DuckDB/pyiceberg in memory.
    # "per_stage": one worker process per stage, each restarted on its own.
    workers: Literal["shared", "per_stage"] = "shared"
