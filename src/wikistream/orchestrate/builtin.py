"""The built-in stages, each a loop run by a worker process until it is told to stop.

Every stage reports through :meth:`StageContext.report`: counters, whether it has input waiting
(``pending``) and whether it progressed, so the supervisor's watchdog can tell idle from stalled.
Stage options are the :class:`~wikistream.orchestrate.pipeline.RunOptions` of `wikistream run`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from wikistream.clock import utc_now
from wikistream.ingest.source import EventSource, SourceStatus, SseEvent
from wikistream.orchestrate.feed import gate_record
from wikistream.orchestrate.pipeline import RunOptions, open_source
from wikistream.orchestrate.worker import StageContext

if TYPE_CHECKING:  # the quality engine pulls in pyiceberg/duckdb: not for every CLI call
    from wikistream.quality.gate import GateResult

log = logging.getLogger(__name__)

_REPORT_EVERY_S = 0.5
_REFINE_IDLE_S = 1.0


@dataclass
class _ReportingSource:
    """Wraps an event source so the ingest stage reports while events flow (and while idle)."""

    inner: EventSource
    ctx: StageContext
    ingestor: Any = None

    def __post_init__(self) -> None:
        self.status: SourceStatus = self.inner.status

    def events(self, resume_id: str | None, stop: threading.Event) -> Iterator[SseEvent | None]:
        last = 0.0
        seen = 0
        for item in self.inner.events(resume_id, stop):
            if item is not None:
                seen += 1
            yield item
            now = time.monotonic()
            if now - last >= _REPORT_EVERY_S:
                last = now
                status = self.inner.status
                counters = self.ingestor.counters.as_dict() if self.ingestor else {}
                self.ctx.status.details["source"] = {
                    "connected": status.connected,
                    "reconnects": status.reconnects,
                    "last_error": status.last_error,
                    "last_event_at": status.last_event_at.isoformat()
                    if status.last_event_at
                    else None,
                }
                if self.ingestor is not None:
                    self.ctx.status.details["canary"] = self.ingestor.canary.as_dict()
                self.ctx.report(progressed=seen > 0, pending=False, counters=counters)
                seen = 0


def ingest_stage(ctx: StageContext) -> None:
    """Live stream or replay file → event log, until stopped (or the replay file ends)."""
    from wikistream.eventlog.registry import open_event_log
    from wikistream.ingest.ingestor import Ingestor
    from wikistream.ingest.lock import hold_ingest_lock

    options = RunOptions.from_dict(ctx.options)
    settings = ctx.settings
    source, resume_key = open_source(settings, options, follow=False)
    with hold_ingest_lock(settings.data_dir):
        event_log = open_event_log(settings)
        try:
            ingestor = Ingestor(settings, event_log, resume_key=resume_key)
            wrapped = _ReportingSource(source, ctx, ingestor)
            summary = ingestor.run(wrapped, ctx.stop)
            ctx.status.details["canary"] = ingestor.canary.as_dict()
            ctx.report(progressed=True, force=True, counters=summary.total.as_dict())
        finally:
            event_log.close()


def bronze_stage(ctx: StageContext) -> None:
    """Event log → bronze.raw_events, committing on the row/time triggers, until stopped."""
    from wikistream.eventlog.registry import open_event_log
    from wikistream.lake.bronze import BronzeWriter
    from wikistream.lake.catalog import open_lake
    from wikistream.lake.transform import use_memory_pool

    settings = ctx.settings
    use_memory_pool(settings.lake.arrow_memory_pool)  # before the first Arrow allocation
    event_log = open_event_log(settings)
    catalog = open_lake(settings)
    writer = BronzeWriter(settings, event_log, catalog)
    try:
        while not ctx.stop.is_set():
            result = writer.step(ctx.stop)
            stats = writer.stats
            if result.commits:
                ctx.status.details["last_batch"] = {
                    "at": utc_now().isoformat(),
                    "rows": result.rows_written,
                    "event_times": stats.last_event_times,
                    "processing_ms": round(result.processing_ms, 1),
                    # the latest batches' times, newest last: with ``batches`` the supervisor
                    # observes each batch once, however many commits fall between two reads
                    "recent_processing_ms": list(stats.recent_processing_ms),
                }
            ctx.report(
                progressed=result.records_read > 0 or result.commits > 0,
                pending=result.lag > 0,
                records=stats.records_read,
                rows=stats.rows_committed,
                batches=stats.batches,
                duplicates=stats.duplicates_skipped,
                dlq=stats.dead_lettered,
                lag=stats.lag,
                force=bool(result.commits),
            )
    finally:
        writer.close()
        event_log.close()


def refine_stage(ctx: StageContext) -> None:
    """Gates, silver and gold behind bronze, each advancing as soon as its input has new data."""
    from wikistream.lake.catalog import open_lake
    from wikistream.orchestrate.refine import Refiner

    options = RunOptions.from_dict(ctx.options)
    settings = ctx.settings
    catalog = open_lake(settings)
    gates: dict[str, Any] = {}

    def on_gate(result: GateResult) -> None:
        gates[result.layer] = gate_record(result)
        ctx.status.details["gates"] = dict(gates)

    refiner = Refiner(
        settings,
        catalog,
        on_gate=on_gate,
        gates=settings.quality.enabled and "dq" in options.stages,
        layers=options.refine_layers,
    )
    totals = {"silver_rows": 0, "gold_groups": 0, "passes": 0}
    # gold aggregates the newest silver rows: their event times sample gold's latency too
    newest_silver: list[float] = []
    while not ctx.stop.is_set():
        outcome = refiner.run_once()
        totals["passes"] += 1
        for layer, step in (("silver", outcome.silver), ("gold", outcome.gold)):
            if step is not None and not step.noop:
                if layer == "silver":
                    times = step.event_times
                    newest_silver = (newest_silver + times)[-100:]
                else:  # each silver sample counts once, at the gold commit that absorbed it
                    times, newest_silver = newest_silver, []
                ctx.status.details[f"last_{layer}"] = {
                    "at": utc_now().isoformat(),
                    "rows_out": step.rows_out,
                    "dates": list(step.dates),
                    "duration_s": round(step.duration_s, 3),
                    "event_times": times,
                }
        if outcome.silver is not None:
            totals["silver_rows"] += outcome.silver.rows_out
        if outcome.gold is not None:
            totals["gold_groups"] += sum(outcome.gold.groups.values())
        ctx.status.details["blocked"] = dict(outcome.blocked)
        ctx.report(
            progressed=outcome.progressed or bool(outcome.blocked),
            pending=False,
            state="blocked" if outcome.blocked else "running",
            force=outcome.progressed or bool(outcome.gates),
            counters=totals,
        )
        if not outcome.progressed:
            ctx.wait(_REFINE_IDLE_S)


def maintain_stage(ctx: StageContext) -> None:
    """Table maintenance every ``lake.maintenance_interval_s`` (compaction, expiry, orphans).

    With the option ``periodic`` (how `wikistream run` starts it) one run per process: the
    stage exits in state ``scheduled`` and the supervisor starts it again when the next run is
    due, so the ~130 MB of a lake process are not held between hourly runs.
    """
    from wikistream.lake.catalog import open_catalog
    from wikistream.lake.maintenance import maintain_lake
    from wikistream.lake.transform import use_memory_pool

    settings = ctx.settings
    use_memory_pool(settings.lake.arrow_memory_pool)
    interval = settings.lake.maintenance_interval_s
    runs = 0
    last: float | None = None
    while True:
        if last is None or time.monotonic() - last >= interval:
            reports = maintain_lake(open_catalog(settings), settings.lake)
            last = time.monotonic()
            runs += 1
            ctx.status.details["last_run"] = utc_now().isoformat()
            ctx.report(progressed=True, force=True, runs=runs, tables=len(reports))
            if ctx.options.get("periodic"):
                due = utc_now() + timedelta(seconds=interval)
                ctx.status.details["next_run_at"] = due.isoformat()
                ctx.final_state = "scheduled"
                return
        else:
            ctx.report()
        if ctx.wait(min(interval, 5.0)):
            return


def serve_stage(ctx: StageContext) -> None:
    """The dashboard and query API, served from the shared worker until stopped.

    Its address goes into the stage status (``details.url``), where the supervisor reads it. A
    port that cannot be bound is reported in the status and the log, and the stage idles: the
    lake stages beside it keep running.
    """
    from wikistream.errors import WikiStreamError
    from wikistream.lake.transform import use_memory_pool
    from wikistream.serve.server import start_server

    use_memory_pool(ctx.settings.lake.arrow_memory_pool)
    try:
        server = start_server(ctx.settings)
    except WikiStreamError as exc:
        log.error("dashboard not served: %s", exc)
        ctx.status.last_error = f"{type(exc).__name__}: {exc}"
        ctx.report(state="failed", message="dashboard not served", force=True)
        ctx.stop.wait()
        return
    try:
        ctx.status.details["url"] = server.url
        ctx.report(progressed=True, force=True)
        while not ctx.wait(_REPORT_EVERY_S * 4):
            ctx.report()
    finally:
        server.close()
