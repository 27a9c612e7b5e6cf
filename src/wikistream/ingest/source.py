"""Where ingest gets events from: the live EventStreams SSE feed or a replay file.

Both implement :class:`EventSource`; everything after SSE parsing (validation, filtering, DLQ,
appending to the log) is shared, so a replay exercises exactly the live path.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import NamedTuple, Protocol, runtime_checkable


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


BLANK = b" \t\n\r\x0b\x0c"
"""ASCII whitespace: a file line of nothing else is no event (skipped, not counted)."""


def is_blank(line: bytes) -> bool:
    """True for a file line of ASCII whitespace only (or nothing)."""
    return not line.strip(BLANK)


class EventBlock(NamedTuple):
    """Consecutive lines of a file source, read in one go (the fast path).

    ``lines[i]`` is the raw UTF-8 data (no line end) of line ``first_number + i``. Blank lines
    are included (they keep the numbering) and are not events. Bytes, not text: the checker
    validates UTF-8 itself, and most events never need to be decoded to ``str``.
    """

    lines: list[bytes]
    first_number: int


@runtime_checkable
class BlockSource(EventSource, Protocol):
    """An :class:`EventSource` that can also hand over its events in blocks (file replays).

    :meth:`blocks` follows the rules of :meth:`EventSource.events` (order, resume, ``None``
    ticks, stop); the ingestor uses it to skip one ``SseEvent`` per line.
    """

    def blocks(self, resume_id: str | None, stop: threading.Event) -> Iterator[EventBlock | None]:
        """Yield the events after ``resume_id`` as blocks of lines (``None``: an idle tick)."""
        ...

    def event_id(self, number: int) -> str:
        """The SSE id of the event on line ``number`` of a block."""
        ...
