"""Exactly-once bookkeeping: upstream offsets, a recent-id set, and the coverage ledger.

EventStreams delivers at least once around reconnects. Every event carries its upstream Kafka
position (``meta.topic``, ``meta.partition``, ``meta.offset``); within one topic/partition the
stream is in offset order, so an offset at or below the last one seen is a duplicate. Events
without a position fall back to a bounded set of recently seen ``meta.id`` values.

The same offsets give the *coverage ledger*: per UTC hour of ``meta.dt`` and per upstream
topic/partition, how many events arrived, how many offsets were skipped (a gap between two
consecutive offsets: events the stream never delivered to us) and how many duplicates were
dropped. Both live in the ingest checkpoint, so they commit atomically with the appended records
and survive restarts.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

NO_POSITION = "(no offsets)|-1"
"""Ledger key for events that carry no upstream position."""

_RECEIVED, _SKIPPED, _DUPLICATES = 0, 1, 2


def partition_key(topic: str, partition: int) -> str:
    """Key of a topic/partition in the checkpoint: ``<topic>|<partition>``."""
    return f"{topic}|{partition}"


@dataclass(frozen=True, slots=True)
class CoverageRow:
    """One ledger line: an hour, an upstream topic/partition and its counts."""

    hour: str
    topic: str
    partition: int
    received: int
    skipped: int
    duplicates: int

    @property
    def coverage(self) -> float | None:
        """Share of the upstream offsets of this hour that reached us (None: no offsets)."""
        total = self.received + self.skipped
        return None if total == 0 or self.partition < 0 else self.received / total


class SourceCoverage:
    """Last offset per upstream topic/partition, and per-hour received/skipped/duplicate counts."""

    def __init__(self, retention_hours: int, state: dict[str, Any] | None = None) -> None:
        self.retention_hours = retention_hours
        state = state or {}
        self.last_offsets: dict[str, int] = {
            str(k): int(v) for k, v in dict(state.get("offsets", {})).items()
        }
        self._hours: dict[str, dict[str, list[int]]] = {
            str(hour): {str(k): [int(x) for x in v] for k, v in parts.items()}
            for hour, parts in dict(state.get("hours", {})).items()
        }
        # (hour, topic, partition, scope) -> (its counts in _hours, its key in last_offsets): one
        # dict look-up per event instead of formatting the keys and two nested look-ups.
        self._slots: dict[tuple[str, str, int, str], tuple[list[int], str]] = {}

    def observe(self, topic: str, partition: int, offset: int, hour: str, scope: str = "") -> bool:
        """Count one delivered event; return True when it is a duplicate (drop it).

        ``scope`` names the delivery whose offsets are in order (empty: the live stream; a
        replay file has its own), so each scope keeps its own last offset per topic/partition.
        """
        slot = self._slots.get((hour, topic, partition, scope))
        if slot is None:
            key = partition_key(topic, partition)
            mark = f"{scope} {key}" if scope else key
            slot = self._slots[(hour, topic, partition, scope)] = (self._counts(hour, key), mark)
        counts, mark = slot
        last = self.last_offsets.get(mark)
        if last is not None:
            if offset <= last:
                counts[_DUPLICATES] += 1
                return True
            if offset > last + 1:
                counts[_SKIPPED] += offset - last - 1
        counts[_RECEIVED] += 1
        self.last_offsets[mark] = offset
        return False

    def observe_unpositioned(self, hour: str, *, duplicate: bool) -> None:
        """Count an event that had no upstream offsets."""
        self._counts(hour, NO_POSITION)[_DUPLICATES if duplicate else _RECEIVED] += 1

    def _counts(self, hour: str, key: str) -> list[int]:
        parts = self._hours.get(hour)
        if parts is None:
            parts = self._hours[hour] = {}
        counts = parts.get(key)
        if counts is None:
            counts = parts[key] = [0, 0, 0]
        return counts

    def prune(self, now: datetime) -> None:
        """Forget hours older than the retention window before the newest hour (capped at now)."""
        if not self._hours:
            return
        newest = min(max(self._hours), (now + timedelta(hours=1)).strftime("%Y-%m-%dT%H"))
        try:
            anchor = datetime.strptime(newest, "%Y-%m-%dT%H").replace(tzinfo=UTC)
        except ValueError:  # pragma: no cover - keys are always produced by utc_hour
            return
        cutoff = (anchor - timedelta(hours=self.retention_hours)).strftime("%Y-%m-%dT%H")
        for hour in [h for h in self._hours if h <= cutoff]:
            del self._hours[hour]
        self._slots.clear()

    def rows(self) -> list[CoverageRow]:
        """Ledger lines, newest hour first."""
        return _ledger_rows(self._hours)

    def state(self) -> dict[str, Any]:
        """JSON-able state for the checkpoint."""
        return {"offsets": dict(self.last_offsets), "hours": self._hours}


def rows_from_state(state: dict[str, Any] | None) -> list[CoverageRow]:
    """Ledger lines from a stored checkpoint's ``coverage`` entry, newest hour first.

    Read for display, so a malformed entry (not ``"<topic>|<partition>": [received, skipped,
    duplicates, ...]`` under an hour) is skipped instead of failing the whole report.
    """
    hours = (state or {}).get("hours")
    return _ledger_rows(hours if isinstance(hours, dict) else {})


def _ledger_rows(hours: Mapping[str, Any]) -> list[CoverageRow]:
    result = []
    for hour in sorted(hours, reverse=True):
        parts = hours[hour]
        if not isinstance(parts, dict):
            continue
        for key, counts in sorted(parts.items()):
            row = _ledger_row(str(hour), str(key), counts)
            if row is not None:
                result.append(row)
    return result


def _ledger_row(hour: str, key: str, counts: Any) -> CoverageRow | None:
    if not isinstance(counts, list) or len(counts) < 3:
        return None
    topic, _, part = key.rpartition("|")
    try:
        received, skipped, duplicates = (int(x) for x in counts[:3])
        return CoverageRow(hour, topic, int(part), received, skipped, duplicates)
    except (TypeError, ValueError):
        return None


class RecentIds:
    """A bounded set of the most recent ``meta.id`` values (oldest forgotten first)."""

    def __init__(self, capacity: int, ids: Iterable[str] = ()) -> None:
        self.capacity = capacity
        self._order: deque[str] = deque()
        self._set: set[str] = set()
        for event_id in ids:
            self.seen(event_id)

    def seen(self, event_id: str) -> bool:
        """Return True when ``event_id`` was seen recently; remember it otherwise."""
        if event_id in self._set:
            return True
        if self.capacity <= 0:
            return False
        self._set.add(event_id)
        self._order.append(event_id)
        if len(self._order) > self.capacity:
            self._set.discard(self._order.popleft())
        return False

    def state(self) -> list[str]:
        """The remembered ids, oldest first."""
        return list(self._order)

    def __len__(self) -> int:
        return len(self._order)
