"""Ground-truth counts of a generated file, gathered while it is written."""

from __future__ import annotations

import time
from typing import Any

from wikistream.ingest.synth.users import KINDS
from wikistream.ingest.synth.wikis import Wiki

TYPES = ("edit", "new", "log", "categorize")
DAY_MS = 86_400_000
LARGE_DELETION = -5000


def ms_to_iso(ms: int) -> str:
    """Format epoch milliseconds as ``YYYY-MM-DDTHH:MM:SS.mmmZ``."""
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ms // 1000)) + f".{ms % 1000:03d}Z"


def day_to_date(day: int) -> str:
    """Format a UTC day number (epoch ms // DAY_MS) as ``YYYY-MM-DD``."""
    return time.strftime("%Y-%m-%d", time.gmtime(day * 86_400))


class Tally:
    """Counts per wiki and type, user kind, UTC date; canaries, late events, duplicates."""

    def __init__(self, wikis: tuple[Wiki, ...]) -> None:
        self.wikis = wikis
        self.by_wiki_type = [0] * (len(wikis) * len(TYPES))
        self.kinds = dict.fromkeys(KINDS, 0)
        self.target_by_day: dict[int, int] = {}
        self.large_deletions = 0
        self.target_large_deletions = 0
        self.late = 0
        self.canaries = 0
        self.duplicates = 0
        self.target_duplicates = 0
        self.min_event_ms: int | None = None
        self.max_event_ms: int | None = None

    def add(self, wiki: Wiki, type_index: int, kind: str, event_ms: int, delta: int | None) -> None:
        """Count one original (non-canary, non-duplicate) event."""
        self.by_wiki_type[wiki.index * 4 + type_index] += 1
        self.kinds[kind] += 1
        large = delta is not None and delta < LARGE_DELETION
        if large:
            self.large_deletions += 1
        if wiki.is_target:
            day = event_ms // DAY_MS
            self.target_by_day[day] = self.target_by_day.get(day, 0) + 1
            if large:
                self.target_large_deletions += 1
        if self.min_event_ms is None or event_ms < self.min_event_ms:
            self.min_event_ms = event_ms
        if self.max_event_ms is None or event_ms > self.max_event_ms:
            self.max_event_ms = event_ms

    @property
    def events(self) -> int:
        """Original events, excluding canaries and duplicates."""
        return sum(self.by_wiki_type)

    def summary(self) -> dict[str, Any]:
        """Return the counting part of the manifest."""
        n_types = len(TYPES)
        by_type = {t: 0 for t in TYPES}
        by_domain: dict[str, int] = {}
        target_by_type = {t: 0 for t in TYPES}
        for wiki in self.wikis:
            row = self.by_wiki_type[wiki.index * n_types : (wiki.index + 1) * n_types]
            if sum(row):
                by_domain[wiki.domain] = sum(row)
            for t, count in zip(TYPES, row, strict=True):
                by_type[t] += count
                if wiki.is_target:
                    target_by_type[t] += count
        return {
            "events": self.events,
            "canaries": self.canaries,
            "duplicates": self.duplicates,
            "late_events": self.late,
            "counts_by_type": by_type,
            "counts_by_domain": dict(sorted(by_domain.items(), key=lambda kv: -kv[1])),
            "counts_by_user_kind": dict(self.kinds),
            "bot_events": self.kinds["bot"],
            "target_events": sum(target_by_type.values()),
            "target_events_by_type": target_by_type,
            "target_events_by_date": {
                day_to_date(d): n for d, n in sorted(self.target_by_day.items())
            },
            "target_duplicates": self.target_duplicates,
            "large_deletions": self.large_deletions,
            "target_large_deletions": self.target_large_deletions,
            "event_time_range": {
                "min": None if self.min_event_ms is None else ms_to_iso(self.min_event_ms),
                "max": None if self.max_event_ms is None else ms_to_iso(self.max_event_ms),
            },
        }
