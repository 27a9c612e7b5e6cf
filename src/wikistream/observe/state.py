"""What the alert rules look at: a point-in-time snapshot of the pipeline's signals.

:class:`~wikistream.observe.metrics.PipelineMetrics` keeps these beside its Prometheus series and
hands out an immutable :class:`PipelineState` from ``snapshot()``; rules never touch the registry.
Counters in the snapshot are cumulative since the process started, so rules turn them into rates
by comparing successive snapshots.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

# Check statuses that make a gate fail (SEED-FACTS §5.1).
BLOCKING_STATUSES = frozenset({"FAILED", "ERROR"})


class CheckOutcome(Protocol):
    """One data-quality check result, as the quality stage reports it (SEED-FACTS §5.1 fields)."""

    @property
    def check_name(self) -> str: ...

    @property
    def check_type(self) -> str: ...

    @property
    def status(self) -> str:
        """PASSED, FAILED, WARNING, ERROR or SKIPPED (a ``StrEnum`` is fine)."""
        ...

    @property
    def metric_value(self) -> float | None: ...

    @property
    def threshold_value(self) -> float | None: ...

    @property
    def message(self) -> str | None: ...

    @property
    def check_duration_ms(self) -> float | None: ...


def status_text(value: object) -> str:
    """Normalise a status given as str, ``StrEnum`` or plain ``Enum`` to upper-case text."""
    raw = getattr(value, "value", value)
    return str(raw).upper()


@dataclass(frozen=True, slots=True)
class CheckFailure:
    """A FAILED or ERROR check, kept for the gate-failure alert."""

    name: str
    check_type: str
    status: str
    message: str | None
    metric_value: float | None
    threshold: float | None


@dataclass(frozen=True, slots=True)
class GateOutcome:
    """The latest gate run of one table."""

    layer: str
    table: str
    run_id: str
    passed: bool
    at: datetime
    total_checks: int
    passed_checks: int
    failed_checks: int
    warnings: int
    failures: tuple[CheckFailure, ...]


@dataclass(frozen=True, slots=True)
class CycleOutcome:
    """How the latest batch cycle (bronze gate → silver → gate → gold → gate) ended."""

    ok: bool
    at: datetime
    run_id: str | None = None
    duration_s: float | None = None
    failed_layer: str | None = None
    failed_step: str | None = None
    error: str | None = None


@dataclass(frozen=True, slots=True)
class RestartRecord:
    """One automatic restart of a stage by the supervisor."""

    stage: str
    at: datetime
    ok: bool
    reason: str = ""
    error: str | None = None


@dataclass(frozen=True, slots=True)
class DriftObservation:
    """The latest drift measurement of one profiled column."""

    layer: str
    table: str
    column: str
    metric: str
    current: float
    baseline: float
    at: datetime

    @property
    def difference(self) -> float:
        """Absolute distance between current value and baseline."""
        return abs(self.current - self.baseline)


@dataclass(frozen=True, slots=True)
class PipelineState:
    """Signals at one instant; counters are cumulative since ``started_at``."""

    at: datetime
    started_at: datetime
    events_received: int = 0
    events_appended: int = 0
    dlq_records: int = 0
    bronze_records: int = 0
    cpu_seconds: float | None = None
    last_event_at: datetime | None = None
    last_canary_at: datetime | None = None
    consumer_lag: Mapping[str, int] = field(default_factory=dict)
    last_commit_at: Mapping[str, datetime] = field(default_factory=dict)
    gates: Mapping[tuple[str, str], GateOutcome] = field(default_factory=dict)
    last_cycle: CycleOutcome | None = None
    restarts: tuple[RestartRecord, ...] = ()
    drift: Mapping[tuple[str, str], DriftObservation] = field(default_factory=dict)
    stage_states: Mapping[str, str] = field(default_factory=dict)
