"""`wikistream catalog show|check`: the effective catalog settings and a health probe."""

from __future__ import annotations

import typer

from wikistream.cli.common import OUTPUT_OPTION, OutputFormat, render_mapping, state

catalog_app = typer.Typer(help="The Iceberg catalog: effective settings and health.")


@catalog_app.command("show")
def show(ctx: typer.Context, output: OutputFormat = OUTPUT_OPTION) -> None:
    """Print the effective catalog properties (credentials masked)."""
    from wikistream.lake.catalog import catalog_properties
    from wikistream.lake.redact import redact

    settings = state(ctx).settings()
    props = redact(catalog_properties(settings))
    render_mapping({"catalog": settings.lake.catalog_name, **props}, output, title="catalog")


@catalog_app.command("check")
def check(ctx: typer.Context, output: OutputFormat = OUTPUT_OPTION) -> None:
    """Open the catalog, count tables, write/read/delete a probe object; exit 1 when unhealthy."""
    from wikistream.lake.health import check_catalog

    health = check_catalog(state(ctx).settings())
    render_mapping(health.as_dict(), output, title="catalog health")
    if not health.ok:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    """Add the `catalog` command group."""
    app.add_typer(catalog_app, name="catalog")
