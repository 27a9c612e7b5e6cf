"""Lake commands: `bronze` (log → bronze writer), `tables` (inventory), `maintain`."""

from __future__ import annotations

import dataclasses
import logging
import signal
import threading
from types import FrameType
from typing import Annotated

import typer

from wikistream.cli.common import OUTPUT_OPTION, OutputFormat, render_mapping, render_rows, state

log = logging.getLogger("wikistream.bronze")


def bronze(
    ctx: typer.Context,
    once: Annotated[
        bool, typer.Option("--once", help="Process what the log holds now, commit, exit.")
    ] = False,
    rebind_log: Annotated[
        bool,
        typer.Option(
            "--rebind-log",
            help="Accept a different event log (new data dir, retention gap): read it from its "
            "oldest record; events already in bronze are skipped by event_id.",
        ),
    ] = False,
    output: OutputFormat = OUTPUT_OPTION,
) -> None:
    """Write the raw topic of the event log into bronze.raw_events, exactly once."""
    from wikistream.eventlog.registry import open_event_log
    from wikistream.lake.bronze import BronzeWriter
    from wikistream.lake.catalog import open_catalog

    settings = state(ctx).settings()
    event_log = open_event_log(settings)
    writer: BronzeWriter | None = None
    try:
        writer = BronzeWriter(settings, event_log, open_catalog(settings), rebind_log=rebind_log)
        if once:
            result = writer.drain()
            render_mapping(dataclasses.asdict(result), output, title="bronze")
            return
        stop = threading.Event()

        def _stop(signum: int, frame: FrameType | None) -> None:
            stop.set()

        signal.signal(signal.SIGINT, _stop)
        signal.signal(signal.SIGTERM, _stop)
        log.info("bronze writer started at position %s; Ctrl-C to stop", writer.position)
        while not stop.is_set():
            step = writer.step(stop)
            if step.commits:
                log.info(
                    "committed %d rows (%d duplicates, %d to DLQ) in %.0f ms; lag %d",
                    step.rows_written,
                    step.duplicates,
                    step.dead_lettered,
                    step.processing_ms,
                    step.lag,
                )
        log.info("bronze writer stopped at position %s", writer.position)
    finally:
        if writer is not None:
            writer.close()
        event_log.close()


def tables(ctx: typer.Context, output: OutputFormat = OUTPUT_OPTION) -> None:
    """List every lake table: rows, data files, snapshots, last commit, size (from metadata)."""
    from wikistream.lake.catalog import open_catalog
    from wikistream.lake.inventory import list_tables

    settings = state(ctx).settings()
    rows = [info.as_row() for info in list_tables(open_catalog(settings))]
    columns = None
    if output is OutputFormat.table:
        columns = ["table", "rows", "data_files", "snapshots", "size_bytes", "last_commit"]
    render_rows(rows, output, title="lake tables", columns=columns)


def maintain(
    ctx: typer.Context,
    table: Annotated[
        list[str] | None,
        typer.Option("--table", "-t", help="Only this table (repeatable), e.g. bronze.raw_events."),
    ] = None,
    compact: Annotated[bool, typer.Option(help="Compact closed partitions.")] = True,
    expire: Annotated[bool, typer.Option(help="Expire old snapshots.")] = True,
    orphans: Annotated[bool, typer.Option(help="Delete old unreferenced files.")] = True,
    dedup_bronze: Annotated[
        bool,
        typer.Option(
            "--dedup-bronze",
            help="Instead: remove duplicate event_id rows from bronze, keeping the earliest log "
            "position of each (only the affected day partitions are rewritten).",
        ),
    ] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="With --dedup-bronze: only count duplicates.")
    ] = False,
    output: OutputFormat = OUTPUT_OPTION,
) -> None:
    """Compact small files, expire snapshots, remove orphan files; prints what it did."""
    from wikistream.lake.catalog import open_catalog
    from wikistream.lake.maintenance import maintain_lake

    settings = state(ctx).settings()
    if dedup_bronze:
        from wikistream.lake.dedup import deduplicate_bronze

        report = deduplicate_bronze(open_catalog(settings), dry_run=dry_run)
        render_mapping(report.as_dict(), output, title="bronze deduplication")
        return
    if dry_run:
        raise typer.BadParameter("--dry-run applies to --dedup-bronze only", param_hint="--dry-run")
    reports = maintain_lake(
        open_catalog(settings),
        settings.lake,
        table,
        compact=compact,
        expire=expire,
        orphans=orphans,
    )
    rows = [dataclasses.asdict(r) for r in reports]
    columns = None
    if output is OutputFormat.table:
        columns = [
            "table",
            "partitions_compacted",
            "data_files_before",
            "data_files_after",
            "snapshots_expired",
            "snapshots_left",
            "expired_files_deleted",
            "orphans_deleted",
            "audit_rows_deleted",
            "commit_retries",
        ]
    render_rows(rows, output, title="maintenance", columns=columns)


def register(app: typer.Typer) -> None:
    """Add the lake commands."""
    app.command("bronze")(bronze)
    app.command("tables")(tables)
    app.command("maintain")(maintain)
