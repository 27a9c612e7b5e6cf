"""The dashboard's data: every page's JSON, computed from the lake, the event log and run files.

One :class:`Dashboard` serves all HTTP handler threads. A page's JSON is kept for a short time
(``serve.refresh_s / 2``), so several open browsers polling together cost one computation, and
table reads are reused while a table's snapshot does not change (see :class:`LakeReader`).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from wikistream import __version__
from wikistream.clock import to_iso, utc_now
from wikistream.errors import WikiStreamError
from wikistream.eventlog.base import EventLog
from wikistream.eventlog.registry import open_event_log
from wikistream.lake.catalog import open_catalog
from wikistream.serve import panels, pipeline
from wikistream.serve.lakeread import TABLES, LakeReader
from wikistream.serve.query import QuerySandbox

if TYPE_CHECKING:
    from wikistream.settings import Settings

log = logging.getLogger(__name__)


class Dashboard:
    """Computes (and briefly caches) the JSON of each page."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.reader = LakeReader(open_catalog(settings))
        self.sandbox = QuerySandbox(self.reader, settings.serve)
        self._ttl = settings.serve.refresh_s / 2
        self._cache: dict[tuple[str, ...], tuple[float, dict[str, Any]]] = {}
        self._locks: dict[tuple[str, ...], threading.Lock] = {}
        self._guard = threading.Lock()
        self._log: EventLog | None = None

    def close(self) -> None:
        """Close the event log handle."""
        with self._guard:
            if self._log is not None:
                self._log.close()
                self._log = None

    def _cached(
        self, key: tuple[str, ...], compute: Callable[[], dict[str, Any]]
    ) -> dict[str, Any]:
        with self._guard:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:  # one computation per key at a time; the others reuse its result
            hit = self._cache.get(key)
            if hit is not None and hit[0] > time.monotonic():
                return hit[1]
            value = compute()
            self._cache[key] = (time.monotonic() + self._ttl, value)
            return value

    def _event_log(self) -> EventLog | None:
        with self._guard:
            if self._log is None:
                try:
                    self._log = open_event_log(self.settings, readonly=True)
                except WikiStreamError as exc:
                    log.warning("dashboard: event log unavailable: %s", exc)
                    return None
            return self._log

    def meta(self) -> dict[str, Any]:
        """Version, refresh interval and the queryable tables with their columns."""
        return {
            "version": __version__,
            "refresh_s": self.settings.serve.refresh_s,
            "row_limit": self.settings.serve.query_row_limit,
            "tables": self.tables(),
        }

    def tables(self) -> list[dict[str, Any]]:
        """Every table: name, columns with types, and its current snapshot (if any)."""
        result = []
        for name, definition in sorted(TABLES.items()):
            table = self.reader.load(name)
            snap = table.current_snapshot() if table is not None else None
            result.append(
                {
                    "name": name,
                    "columns": [
                        {"name": col, "type": str(typ)} for col, typ, _ in definition.columns
                    ],
                    "snapshot_id": None if snap is None else str(snap.snapshot_id),
                    "committed_at": None if snap is None else snap.timestamp_ms,
                }
            )
        return result

    def pipeline(self) -> dict[str, Any]:
        """The Pipeline page."""
        return self._cached(("pipeline",), self._compute_pipeline)

    def _compute_pipeline(self) -> dict[str, Any]:
        now = utc_now()
        cfg = self.settings.log
        event_log = self._event_log()
        try:
            from_log = pipeline.log_figures(event_log, self.reader, cfg.raw_topic, cfg.dlq_topic)
        except Exception as exc:  # a broken log handle: reopen on the next poll
            log.warning("dashboard: event log read failed, reopening: %s", exc)
            self.close()
            from_log = {"available": False, "error": str(exc)}
        try:
            from_lake = pipeline.lake_figures(self.reader)
        except WikiStreamError as exc:  # the catalog is down: the rest of the page still helps
            log.warning("dashboard: cannot read the lake: %s", exc)
            from_lake = {"error": str(exc)}
        return {
            "generated_at": to_iso(now),
            "stages": pipeline.stage_rows(self.settings.data_dir, now),
            "alarms": pipeline.read_alarms(self.settings.data_dir),
            "log": from_log,
            "lake": from_lake,
        }

    def activity(self, day: str | None = None) -> dict[str, Any]:
        """The Activity page for one day (default: today, else the latest day)."""
        return self._cached(
            ("activity", day or ""), lambda: _stamp(panels.activity_panel(self.reader, day))
        )

    def risk(self, day: str | None = None) -> dict[str, Any]:
        """The Risk page for one day (default: today, else the latest day)."""
        return self._cached(
            ("risk", day or ""), lambda: _stamp(panels.risk_panel(self.reader, day))
        )

    def daily(self) -> dict[str, Any]:
        """The Daily page."""
        return self._cached(("daily",), lambda: _stamp(panels.daily_panel(self.reader)))

    def snapshot(self) -> dict[str, Any]:
        """Every page at once (for the static report)."""
        return {
            "generated_at": to_iso(utc_now()),
            "meta": self.meta(),
            "pipeline": self.pipeline(),
            "activity": self.activity(),
            "risk": self.risk(),
            "daily": self.daily(),
        }


def _stamp(body: dict[str, Any]) -> dict[str, Any]:
    return body | {"generated_at": to_iso(utc_now())}
