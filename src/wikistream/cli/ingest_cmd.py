"""`wikistream ingest`: live EventStreams (or a replay file) into the event log."""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from wikistream.cli.common import OUTPUT_OPTION, OutputFormat, render_rows, state, to_json
from wikistream.errors import ConfigError

if TYPE_CHECKING:
    from wikistream.ingest.source import EventSource
    from wikistream.ingest.summary import IngestSummary
    from wikistream.settings import Settings

logger = logging.getLogger(__name__)


def _live_source(settings: Settings, since: str | None) -> EventSource:
    """The EventStreams SSE source, starting at ``since`` when given."""
    from wikistream.ingest.since import parse_since
    from wikistream.ingest.sse_source import SseSource

    start = parse_since(since, settings.ingest.retention_days) if since is not None else None
    source: EventSource = SseSource(settings.ingest, since=start)
    return source


def ingest(
    ctx: typer.Context,
    replay: Annotated[
        Path | None,
        typer.Option(
            "--replay",
            help="Read events from this JSONL(.gz) file instead of the live stream.",
            dir_okay=False,
        ),
    ] = None,
    speed: Annotated[
        str,
        typer.Option(
            "--speed", help="Replay pace: 1 = original meta.dt gaps, 10 = ten times faster, max."
        ),
    ] = "1",
    since: Annotated[
        str | None,
        typer.Option(
            "--since",
            help="Live only: start this far back (2h, 3d, or ISO time; ≤ 7 days) instead of "
            "resuming after the stored SSE id.",
        ),
    ] = None,
    once: Annotated[
        bool,
        typer.Option(
            "--once", help="Replay only: stop at the end of the file (default: follow it)."
        ),
    ] = False,
    log_backend: Annotated[
        str | None,
        typer.Option("--log", help="Event log backend: sqlite (default) or kafka."),
    ] = None,
    output: OutputFormat = OUTPUT_OPTION,
) -> None:
    """Ingest recentchange events: validate, drop canaries/duplicates/other wikis, append.

    Runs until SIGINT/SIGTERM (or, with --replay --once, the end of the file), then appends what
    it read and prints a summary. A restart resumes right after the last stored event.
    """
    from wikistream.eventlog.registry import open_event_log
    from wikistream.ingest.ingestor import LIVE_RESUME_KEY, Ingestor
    from wikistream.ingest.lock import hold_ingest_lock
    from wikistream.ingest.replay import ReplaySource, parse_speed
    from wikistream.ingest.signals import stop_on_signals

    overrides = {"log": {"backend": log_backend}} if log_backend is not None else {}
    settings = state(ctx).settings(**overrides)
    source: EventSource
    if replay is not None:
        if since is not None:
            raise ConfigError("--since applies to the live stream, not to --replay", key="since")
        replay_source = ReplaySource(
            replay,
            parse_speed(speed),
            follow=not once,
            max_gap_s=settings.ingest.replay_max_gap_s,
        )
        source, resume_key = replay_source, replay_source.resume_key
    else:
        if once:
            raise ConfigError(
                "--once applies to --replay; live ingest runs until stopped", key="once"
            )
        source, resume_key = _live_source(settings, since), LIVE_RESUME_KEY
    with hold_ingest_lock(settings.data_dir):
        log = open_event_log(settings)
        try:
            ingestor = Ingestor(settings, log, resume_key=resume_key)
            if since is not None and ingestor.resume_id is not None:
                logger.warning(
                    "--since given: not resuming after the stored SSE id %s", ingestor.resume_id
                )
                ingestor.resume_id = None
            with stop_on_signals(threading.Event()) as stop:
                summary = ingestor.run(source, stop)
        finally:
            log.close()
    render_summary(summary, output)


def render_summary(summary: IngestSummary, output: OutputFormat) -> None:
    """Print the run summary: one line of facts, then counters for this run and in total."""
    if output is OutputFormat.json:
        typer.echo(to_json(summary.as_dict()))
        return
    run, total = summary.run.as_dict(), summary.total.as_dict()
    rows = [{"counter": name, "this run": run[name], "total": total[name]} for name in run]
    if output is OutputFormat.table:
        typer.echo(
            f"ingest {summary.reason} after {summary.duration_s:.1f} s "
            f"({summary.events_per_s:,.0f} events/s, {summary.events_per_cpu_s:,.0f} per CPU "
            f"second, {summary.appends} appends); "
            f"resume id [{summary.resume_key}]: {summary.resume_id}"
        )
    render_rows(rows, output, title="ingest counters")


def register(app: typer.Typer) -> None:
    """Add `wikistream ingest`."""
    app.command("ingest")(ingest)
