"""`wikistream serve`, `wikistream query` and `wikistream report`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from wikistream.cli.common import OUTPUT_OPTION, OutputFormat, render_mapping, render_rows, state


def serve(
    ctx: typer.Context,
    host: Annotated[
        str | None, typer.Option("--host", help="Address to bind [default: serve.host].")
    ] = None,
    port: Annotated[
        int | None, typer.Option("--port", help="Port [default: serve.port, 8050].")
    ] = None,
) -> None:
    """Serve the dashboard and the SQL API (http://127.0.0.1:8050) until Ctrl+C."""
    import threading

    from wikistream.ingest.signals import stop_on_signals
    from wikistream.serve.server import start_server

    settings = state(ctx).settings()
    with stop_on_signals(threading.Event()) as stop:
        handle = start_server(settings, host=host, port=port)
        suffix = "?token=<serve.token>" if settings.serve.token is not None else ""
        typer.echo(f"WikiStream dashboard on {handle.url}{suffix} (Ctrl+C to stop)")
        try:
            # SIGINT/SIGTERM set ``stop``: the shutdown runs in the normal flow, never from a
            # KeyboardInterrupt raised inside a wait
            while not stop.wait(0.5) and handle.running():
                pass
            typer.echo("stopping the dashboard")
        finally:
            handle.close()


def query(
    ctx: typer.Context,
    sql: Annotated[
        str, typer.Argument(help="One SELECT over bronze.*, silver.*, gold.*, dq_audit.*")
    ],
    as_of: Annotated[
        str | None,
        typer.Option("--as-of", help="Time travel: an ISO-8601 timestamp or a snapshot id."),
    ] = None,
    limit: Annotated[
        int | None, typer.Option("--limit", help="Row limit [default: serve.query_row_limit].")
    ] = None,
    timeout: Annotated[
        float | None,
        typer.Option(
            "--timeout", help="Seconds before the query is stopped [serve.query_timeout_s]."
        ),
    ] = None,
    output: OutputFormat = OUTPUT_OPTION,
) -> None:
    """Run one read-only SQL query (DuckDB) over the Iceberg tables."""
    from wikistream.lake.catalog import open_catalog
    from wikistream.serve.lakeread import LakeReader, parse_as_of
    from wikistream.serve.query import QuerySandbox

    settings = state(ctx).settings()
    sandbox = QuerySandbox(LakeReader(open_catalog(settings)), settings.serve)
    result = sandbox.run(sql, as_of=parse_as_of(as_of), row_limit=limit, timeout_s=timeout)
    render_rows(result.records(), output, columns=result.columns)
    if output is OutputFormat.table:
        read = ", ".join(
            f"{k}@{v if v is not None else 'empty'}" for k, v in result.snapshots.items()
        )
        note = f" (truncated at {result.row_limit}; use --limit)" if result.truncated else ""
        typer.echo(
            f"{len(result.rows)} rows{note} in {result.elapsed_ms:.0f} ms; read {read}", err=True
        )


def report(
    ctx: typer.Context,
    out: Annotated[Path, typer.Option("--out", help="HTML file to write.")] = Path("report.html"),
    output: OutputFormat = OUTPUT_OPTION,
) -> None:
    """Write a self-contained HTML report of every dashboard page (charts and data inlined)."""
    from wikistream.serve.report import write_report

    summary = write_report(state(ctx).settings(), out)
    render_mapping(summary, output, title="report")


def register(app: typer.Typer) -> None:
    """Add the commands of this module."""
    app.command("serve")(serve)
    app.command("query")(query)
    app.command("report")(report)
