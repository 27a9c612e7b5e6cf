"""`wikistream log stats` and `wikistream dlq show`: look inside the event log."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from wikistream.cli.common import OUTPUT_OPTION, OutputFormat, render_rows, state, to_json

log_app = typer.Typer(help="Inspect the event log: topics, consumer lag, ingest counters.")
dlq_app = typer.Typer(help="Inspect dead-lettered events.")


@log_app.command("stats")
def stats(ctx: typer.Context, output: OutputFormat = OUTPUT_OPTION) -> None:
    """Topics, consumer groups and lag, ingest counters, canary heartbeat, coverage per hour."""
    from wikistream.eventlog.registry import open_event_log
    from wikistream.ingest.report import log_report

    settings = state(ctx).settings()
    log = open_event_log(settings, readonly=True)
    try:
        report = log_report(log, settings)
    finally:
        log.close()
    if output is OutputFormat.json:
        typer.echo(to_json(report))
        return
    _render_report(report, output)


def _offsets(first: dict[int, int], last: dict[int, int]) -> str:
    return " ".join(f"p{p}:{first.get(p, '?')}..{o}" for p, o in sorted(last.items())) or "-"


def _render_report(report: dict[str, Any], output: OutputFormat) -> None:
    topics = [
        {
            "topic": t["topic"],
            "records": t["records"],
            "offsets": _offsets(t["first_offsets"], t["last_offsets"]),
            "newest_age_s": t["newest_age_s"],
            "size_bytes": t["size_bytes"],
        }
        for t in report["topics"]
    ]
    render_rows(topics, output, title="topics")
    if report["groups"]:
        cols = ["group", "topic", "partition", "committed", "head", "lag", "updated"]
        render_rows(report["groups"], output, title="consumer groups", columns=cols)
    ingest, canary = report["ingest"], report["canary"]
    facts = [{"item": k, "value": v} for k, v in ingest["counters"].items()]
    facts += [
        {"item": "balanced", "value": ingest["balanced"]},
        {"item": "checkpoint updated", "value": ingest["checkpoint_updated_at"]},
        *({"item": f"resume id [{k}]", "value": v} for k, v in ingest["resume_ids"].items()),
        {"item": "canaries seen", "value": canary["count"]},
        {"item": "last canary received", "value": canary["last_received_at"]},
        {"item": "last canary age (s)", "value": canary["age_s"]},
    ]
    render_rows(
        facts, output, title="ingest (received = appended+dead_lettered+filtered+canary+duplicates)"
    )
    if report["coverage"]:
        rows = [
            {**row, "coverage": "-" if row["coverage"] is None else f"{row['coverage']:.2%}"}
            for row in report["coverage"]
        ]
        render_rows(rows, output, title="source coverage per UTC hour of meta.dt")


@dlq_app.command("show")
def show(
    ctx: typer.Context,
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, help="How many records.")] = 20,
    output: OutputFormat = OUTPUT_OPTION,
) -> None:
    """The latest dead-letter records: time, error type, message, SSE id, payload preview."""
    from wikistream.eventlog.registry import open_event_log
    from wikistream.ingest.report import latest_dlq

    settings = state(ctx).settings()
    log = open_event_log(settings, readonly=True)
    try:
        rows = latest_dlq(log, settings.log.dlq_topic, limit)
    finally:
        log.close()
    if output is OutputFormat.json:
        typer.echo(to_json(rows))
        return
    cols = ["offset", "received_at", "error_type", "error", "sse_id", "preview"]
    render_rows(rows, output, title=f"latest {len(rows)} dead-letter records", columns=cols)


def register(app: typer.Typer) -> None:
    """Add the `log` and `dlq` command groups."""
    app.add_typer(log_app, name="log")
    app.add_typer(dlq_app, name="dlq")
