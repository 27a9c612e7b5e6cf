"""`wikistream dq …`: run a layer's gate, read audit results, list runs, accept a failed slice."""

from __future__ import annotations

import contextlib
import json
from enum import StrEnum
from typing import Annotated, Any

import typer

from wikistream.cli.common import OUTPUT_OPTION, OutputFormat, render_rows, state, to_json

dq_app = typer.Typer(
    name="dq",
    help="Data-quality gates: run checks, read results, accept a failed slice.",
    no_args_is_help=True,
)


class LayerName(StrEnum):
    """Layers that have a gate."""

    bronze = "bronze"
    silver = "silver"
    gold = "gold"


RESULT_COLUMNS = (
    "table_name",
    "check_name",
    "status",
    "severity",
    "metric_value",
    "threshold_value",
    "records_failed",
    "message",
)


def _number(value: float | None) -> str:
    """Six significant digits: a 0.9999 metric must not print as 1.00."""
    return "" if value is None else f"{value:.6g}"


def _decoded(row: dict[str, Any]) -> dict[str, Any]:
    """An audit row with its JSON columns (evidence, slice) as objects."""
    out = dict(row)
    for key in ("evidence", "slice"):
        if isinstance(out.get(key), str):
            with contextlib.suppress(ValueError):  # malformed: keep the stored text
                out[key] = json.loads(out[key])
    return out


@dq_app.command("run")
def run_command(
    ctx: typer.Context,
    layer: Annotated[LayerName, typer.Option("--layer", "-l", help="Layer to check.")],
    date: Annotated[
        list[str] | None,
        typer.Option(
            "--date", "-d", help="UTC date YYYY-MM-DD to check (repeatable); default all."
        ),
    ] = None,
    batch_id: Annotated[
        str | None, typer.Option("--batch-id", help="Pipeline batch this run belongs to.")
    ] = None,
    output: OutputFormat = OUTPUT_OPTION,
) -> None:
    """Run the gate over the layer's data (or --date slices); exit 1 when it fails."""
    from wikistream.lake.catalog import open_lake  # pyiceberg: slow to import
    from wikistream.quality.gate import run_gate
    from wikistream.quality.slices import SliceSpec

    settings = state(ctx).settings()
    spec = SliceSpec(tuple(date or ()), batch_id)
    catalog = open_lake(settings)
    result = run_gate(settings, catalog, layer.value, spec)
    if output is OutputFormat.json:
        data: dict[str, Any] = result.to_dict()
        if not result.passed:
            data["alert"] = result.alert_payload()
        typer.echo(to_json(data))
    else:
        rows = [
            {
                "table_name": r.table_name,
                "check_name": r.check_name,
                "status": r.status.value,
                "severity": r.level.value,
                "metric_value": _number(r.metric_value),
                "threshold_value": _number(r.threshold_value),
                "records_failed": r.records_failed,
                "message": r.message,
            }
            for r in result.results
        ]
        render_rows(rows, output, title=f"{layer.value} gate — {spec.describe()}")
        for finding in result.drift:
            typer.echo(f"drift {finding.level}: {finding.message}", err=True)
        typer.echo(result.summary, err=output is not OutputFormat.table)
    if not result.passed:
        if output is not OutputFormat.table:
            typer.echo(result.summary, err=True)
        raise typer.Exit(1)


@dq_app.command("results")
def results_command(
    ctx: typer.Context,
    run_id: Annotated[str | None, typer.Option("--run-id", help="Run to show.")] = None,
    layer: Annotated[
        LayerName | None, typer.Option("--layer", "-l", help="Latest run of this layer only.")
    ] = None,
    failed: Annotated[
        bool, typer.Option("--failed", help="Only checks that did not pass, and overrides.")
    ] = False,
    output: OutputFormat = OUTPUT_OPTION,
) -> None:
    """Show the checks of a run (default: the latest run of each layer)."""
    from wikistream.lake.catalog import open_catalog  # pyiceberg: slow to import
    from wikistream.quality.audit import read_results

    catalog = open_catalog(state(ctx).settings())
    rows = read_results(
        catalog, run_id=run_id, layer=layer.value if layer else None, failed_only=failed
    )
    if output is OutputFormat.json:
        render_rows([_decoded(r) for r in rows], output)
        return
    shown = [r | {k: _number(r[k]) for k in ("metric_value", "threshold_value")} for r in rows]
    columns = ("run_id", "layer", *RESULT_COLUMNS)
    render_rows(shown, output, columns=columns, title="data-quality results")


@dq_app.command("runs")
def runs_command(
    ctx: typer.Context,
    layer: Annotated[LayerName | None, typer.Option("--layer", "-l")] = None,
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, help="Newest N runs.")] = 20,
    output: OutputFormat = OUTPUT_OPTION,
) -> None:
    """List gate runs, newest first (ordered by run_timestamp)."""
    from wikistream.lake.catalog import open_catalog  # pyiceberg: slow to import
    from wikistream.quality.audit import list_runs

    catalog = open_catalog(state(ctx).settings())
    runs = list_runs(catalog, layer.value if layer else None)[::-1][:limit]
    if output is OutputFormat.json:
        render_rows([r.to_dict() for r in runs], output)
        return
    rows = [
        {
            "run_id": r.run_id,
            "layer": r.layer,
            "run_timestamp": r.run_timestamp,
            "status": r.status,
            "checks": r.counts_text,
            "dates": " ".join(sorted(r.data_dates)),
            "batch_id": r.batch_id,
        }
        for r in runs
    ]
    render_rows(rows, output, title="data-quality runs (newest first)")


@dq_app.command("override")
def override_command(
    ctx: typer.Context,
    run_id: Annotated[str, typer.Option("--run-id", help="The failed run to accept.")],
    reason: Annotated[str, typer.Option("--reason", help="Why the slice is acceptable.")],
    operator: Annotated[
        str | None, typer.Option("--operator", help="Who accepts it [default: login name].")
    ] = None,
    output: OutputFormat = OUTPUT_OPTION,
) -> None:
    """Accept a failed slice explicitly; recorded as an OVERRIDDEN row of that run."""
    from wikistream.lake.catalog import open_catalog  # pyiceberg: slow to import
    from wikistream.quality.audit import record_override

    catalog = open_catalog(state(ctx).settings())
    rows = record_override(catalog, run_id, reason, operator=operator)
    if output is OutputFormat.json:
        render_rows(rows, output)
        return
    tables = ", ".join(r["table_name"] for r in rows)
    typer.echo(f"run {run_id} accepted by override ({tables}): {reason.strip()}")


@dq_app.command("checks")
def checks_command(
    ctx: typer.Context,
    layer: Annotated[LayerName | None, typer.Option("--layer", "-l")] = None,
    sql: Annotated[bool, typer.Option("--sql", help="Print the compiled queries.")] = False,
    output: OutputFormat = OUTPUT_OPTION,
) -> None:
    """List the declared checks per table (name, type, level, rule, threshold)."""
    from wikistream.quality.engine import compile_checks
    from wikistream.quality.gate import LAYERS

    settings = state(ctx).settings()
    rows: list[dict[str, Any]] = []
    for name, gates in LAYERS.items():
        if layer is not None and layer.value != name:
            continue
        for gate in gates:
            checks = gate.checks(settings)
            if sql:
                for query in compile_checks(checks):
                    typer.echo(f"-- {gate.table.identifier}\n{query.sql};\n")
                continue
            rows.extend(
                {
                    "layer": name,
                    "table_name": gate.table.identifier,
                    "check_name": c.name,
                    "check_type": c.check_type.value,
                    "level": c.level.value,
                    "comparison": c.constraint.comparison,
                    "threshold": c.constraint.threshold,
                    "rule": c.description,
                }
                for c in checks
            )
    if not sql:
        render_rows(rows, output, title="data-quality checks")


def register(app: typer.Typer) -> None:
    """Add the `dq` command group."""
    app.add_typer(dq_app, name="dq")
