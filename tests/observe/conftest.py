"""Observe test fixtures: a settable clock, check results shaped like the quality stage's."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from wikistream.observe.metrics import PipelineMetrics

T0 = datetime(2026, 2, 26, 12, 0, tzinfo=UTC)


class FakeClock:
    """A clock tests move by hand."""

    def __init__(self, start: datetime = T0) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> datetime:
        self.now += timedelta(seconds=seconds)
        return self.now


@dataclass(frozen=True)
class CheckResult:
    """Same field names as SEED-FACTS §5.1 (what the quality stage produces)."""

    check_name: str
    check_type: str
    status: str
    metric_value: float | None = None
    threshold_value: float | None = None
    message: str | None = None
    check_duration_ms: int | None = None


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


class FakeCpu:
    """Process CPU seconds, set by the test."""

    def __init__(self) -> None:
        self.seconds = 0.0

    def __call__(self) -> float:
        return self.seconds


@pytest.fixture
def cpu() -> FakeCpu:
    return FakeCpu()


@pytest.fixture
def metrics(clock: FakeClock, cpu: FakeCpu) -> PipelineMetrics:
    return PipelineMetrics(clock=clock, cpu_seconds=cpu)
