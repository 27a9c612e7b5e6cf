"""The ingest checkpoint: everything ingest must remember, stored atomically with each append.

Stored in the event log under the name ``ingest`` (``EventLog.append(batch, checkpoint=...)``), so
the resume ids, counters, duplicate-detection state and coverage ledger always describe exactly
the records in the log — a crash can lose neither records nor the state that goes with them.

Counters (cumulative over every run; the invariant holds after every append)::

    received = appended + dead_lettered + filtered + canary + duplicates

``received``      every SSE ``message`` event with non-blank data (a non-blank replay line)
``appended``      written to the raw topic (valid, target domain, first delivery)
``dead_lettered`` written to the DLQ topic (oversize, not JSON, schema or seed rule broken)
``filtered``      valid, first delivery, ``meta.domain`` not in ``ingest.target_domains``
``canary``        ``meta.domain == "canary"`` heartbeats (dropped, counted, time kept)
``duplicates``    redelivered events (upstream offset already seen, or a recent ``meta.id``)
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any

from wikistream.errors import IngestError

CHECKPOINT_NAME = "ingest"
CHECKPOINT_VERSION = 1


@dataclass
class IngestCounters:
    """What happened to every event received (see the module docstring for the invariant)."""

    received: int = 0
    appended: int = 0
    dead_lettered: int = 0
    filtered: int = 0
    canary: int = 0
    duplicates: int = 0

    def balanced(self) -> bool:
        """True when every received event is accounted for exactly once."""
        return self.received == (
            self.appended + self.dead_lettered + self.filtered + self.canary + self.duplicates
        )

    def minus(self, other: IngestCounters) -> IngestCounters:
        """Counts of this minus ``other`` (e.g. totals now minus totals at start = this run)."""
        return IngestCounters(
            **{f.name: getattr(self, f.name) - getattr(other, f.name) for f in fields(self)}
        )

    def copy(self) -> IngestCounters:
        """An independent copy."""
        return IngestCounters(**asdict(self))

    def as_dict(self) -> dict[str, int]:
        """Counters as a plain mapping."""
        return asdict(self)


@dataclass
class CanaryHeartbeat:
    """The last canary event seen: when it arrived, its ``meta.dt`` and how many so far."""

    count: int = 0
    last_received_at: str | None = None
    last_event_dt: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """Heartbeat as a plain mapping."""
        return asdict(self)


@dataclass
class IngestState:
    """The decoded ``ingest`` checkpoint."""

    resume: dict[str, str] = field(default_factory=dict)
    counters: IngestCounters = field(default_factory=IngestCounters)
    canary: CanaryHeartbeat = field(default_factory=CanaryHeartbeat)
    coverage: dict[str, Any] = field(default_factory=dict)
    recent_ids: list[str] = field(default_factory=list)
    updated_at: str | None = None

    @classmethod
    def from_body(cls, body: dict[str, Any] | None) -> IngestState:
        """Decode a stored checkpoint (None: a fresh start); refuse one we do not understand."""
        if body is None:
            return cls()
        version = body.get("version")
        if version != CHECKPOINT_VERSION:
            raise IngestError(
                f"the ingest checkpoint has version {version!r}, this WikiStream reads version "
                f"{CHECKPOINT_VERSION}; run the WikiStream version that wrote it, or start over "
                "with a new --data-dir"
            )
        try:
            return cls(
                resume={str(k): str(v) for k, v in dict(body.get("resume") or {}).items()},
                counters=IngestCounters(**dict(body.get("counters") or {})),
                canary=CanaryHeartbeat(**dict(body.get("canary") or {})),
                coverage=dict(body.get("coverage") or {}),
                recent_ids=[str(x) for x in body.get("recent_ids") or []],
                updated_at=body.get("updated_at"),
            )
        except (TypeError, ValueError) as exc:
            raise IngestError(
                f"the ingest checkpoint in the event log is malformed ({exc}); restore the "
                "event log from a backup or start over with a new --data-dir"
            ) from exc

    def to_body(self) -> dict[str, Any]:
        """Encode for ``EventLog.append(..., checkpoint=(CHECKPOINT_NAME, body))``."""
        return {
            "version": CHECKPOINT_VERSION,
            "resume": self.resume,
            "counters": self.counters.as_dict(),
            "canary": self.canary.as_dict(),
            "coverage": self.coverage,
            "recent_ids": self.recent_ids,
            "updated_at": self.updated_at,
        }
