"""Where ingest gets events from: the live EventStreams SSE feed or a replay file.

Both implement :class:`EventSource`; everything after SSE parsing (validation, filtering, DLQ,
appending to the log) is shared, so a replay exercises exactly the live path.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True, slots=True)
class SseEvent:
    """One server-sent event: its ``data`` text, its ``id`` (opaque resume token) and type."""

    data: str
    id: str | None
    event: str = "message"


@dataclass
class SourceStatus:
    """What a source reports for the live status line and `wikistream status`."""

    connected: bool = False
    connects: int = 0
    reconnects: int = 0
    last_error: str | None = None
    last_event_at: datetime | None = None
    last_sent_event_id: str | None = None
    sent_event_ids: list[str | None] = field(default_factory=list)
    finished: bool = False


class EventSource(Protocol):
    """A resumable, ordered source of SSE events."""

    status: SourceStatus

    def events(self, resume_id: str | None, stop: threading.Event) -> Iterator[SseEvent | None]:
        """Yield events in source order, starting right *after* ``resume_id`` (None: the start).

        Yields ``None`` at least every 0.25 s while no event arrives, so the consumer can flush
        and look at ``stop``. Returns within 2 s once ``stop`` is set, and returns by itself when
        a finite source (a replay file) is exhausted. Reconnects internally; each reconnect
        resumes after the last event *yielded*, so within one process nothing is skipped.
        """
        ...
