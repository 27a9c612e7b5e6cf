"""What one ingest run did (:class:`IngestSummary`), as the CLI and the supervisor report it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from wikistream.ingest.checkpoint import IngestCounters


@dataclass(frozen=True)
class IngestSummary:
    """What one :meth:`Ingestor.run` did: this run's counters, the totals, where it stopped."""

    started_at: datetime
    finished_at: datetime
    reason: str  # "stopped" (stop was set) or "exhausted" (a finite source ended)
    run: IngestCounters
    total: IngestCounters
    resume_key: str
    resume_id: str | None
    appends: int
    cpu_s: float = 0.0  # CPU seconds of this process during the run (all threads)

    @property
    def duration_s(self) -> float:
        """Wall time of the run in seconds."""
        return (self.finished_at - self.started_at).total_seconds()

    @property
    def events_per_s(self) -> float:
        """Received events per second of wall time."""
        return self.run.received / self.duration_s if self.duration_s > 0 else 0.0

    @property
    def events_per_cpu_s(self) -> float:
        """Received events per CPU second: the throughput a busy machine does not distort."""
        return self.run.received / self.cpu_s if self.cpu_s > 0 else 0.0

    def as_dict(self) -> dict[str, Any]:
        """Summary as a JSON-able mapping."""
        return {
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "duration_s": round(self.duration_s, 3),
            "events_per_s": round(self.events_per_s, 1),
            "cpu_s": round(self.cpu_s, 3),
            "events_per_cpu_s": round(self.events_per_cpu_s, 1),
            "reason": self.reason,
            "run": self.run.as_dict(),
            "total": self.total.as_dict(),
            "balanced": self.total.balanced(),
            "resume_key": self.resume_key,
            "resume_id": self.resume_id,
            "appends": self.appends,
        }
