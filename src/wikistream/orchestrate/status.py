"""Stage status files: how workers tell the supervisor and `wikistream status` how they are.

Each stage writes ``<data-dir>/run/<stage>.status.json`` about once a second, replacing it
atomically (write to a temp file, then rename), so a reader never sees half a file.
``heartbeat_at`` proves the process is alive; ``progress_at`` moves only when the stage did work,
and ``pending`` says whether it has input waiting — the watchdog restarts a stage whose
``pending`` input has not moved ``progress_at`` for the stall timeout.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from wikistream.atomic_file import write_text_atomic
from wikistream.clock import parse_iso_utc, utc_now

RUN_DIR = "run"
FINAL_STATES = frozenset({"stopped", "done", "failed", "scheduled"})
STALE_AFTER_S = 15.0
"""A stage that has not finished and has not beaten its heartbeat (about 1/s) for this long is
stale: its process is gone or frozen."""


@dataclass
class StageStatus:
    """What one stage reports about itself."""

    stage: str
    # starting | running | idle | blocked | failed | stopped | done | scheduled (a run of a
    # periodic stage finished; the supervisor starts the next one at details["next_run_at"])
    state: str = "starting"
    pid: int = field(default_factory=os.getpid)
    started_at: datetime = field(default_factory=utc_now)
    heartbeat_at: datetime = field(default_factory=utc_now)
    progress_at: datetime | None = None
    pending: bool = False
    message: str = ""
    last_error: str | None = None
    counters: dict[str, float] = field(default_factory=dict)
    details: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> str:
        """Serialize with ISO-8601 UTC timestamps."""
        body = asdict(self)
        for key in ("started_at", "heartbeat_at", "progress_at"):
            value = body[key]
            body[key] = value.isoformat() if isinstance(value, datetime) else None
        return json.dumps(body, default=str, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> StageStatus:
        """Parse a status file written by :meth:`to_json`."""
        body = json.loads(text)
        for key in ("started_at", "heartbeat_at", "progress_at"):
            if body.get(key):
                body[key] = parse_iso_utc(body[key])
        known = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in body.items() if k in known})


def is_stale(status: StageStatus, now: datetime) -> bool:
    """True when a stage that has not finished has no heartbeat for :data:`STALE_AFTER_S`."""
    if status.state in FINAL_STATES or status.heartbeat_at is None:  # a file with a null time
        return False
    return (now - status.heartbeat_at).total_seconds() > STALE_AFTER_S


def status_dir(data_dir: Path) -> Path:
    """The directory holding status, lock and pid files."""
    path = data_dir / RUN_DIR
    path.mkdir(parents=True, exist_ok=True)
    return path


def write_status(data_dir: Path, status: StageStatus) -> None:
    """Replace the stage's status file atomically."""
    status.heartbeat_at = utc_now()
    write_text_atomic(status_dir(data_dir) / f"{status.stage}.status.json", status.to_json())


def read_status(data_dir: Path, stage: str) -> StageStatus | None:
    """Read one stage's status, or None when it never ran (or the file is unreadable)."""
    path = data_dir / RUN_DIR / f"{stage}.status.json"
    try:
        return StageStatus.from_json(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, TypeError):
        return None


def read_all_status(data_dir: Path) -> dict[str, StageStatus]:
    """Every stage status file under the data dir, by stage name."""
    directory = data_dir / RUN_DIR
    if not directory.is_dir():
        return {}
    result: dict[str, StageStatus] = {}
    for path in sorted(directory.glob("*.status.json")):
        status = read_status(data_dir, path.name.removesuffix(".status.json"))
        if status is not None:
            result[status.stage] = status
    return result
