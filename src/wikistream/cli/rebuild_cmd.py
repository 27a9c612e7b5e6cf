"""`wikistream rebuild`: recompute silver or gold for a date range (or everything) from upstream."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Annotated

import typer

from wikistream.cli.common import OUTPUT_OPTION, OutputFormat, render_mapping, state
from wikistream.errors import ConfigError


class Engine(StrEnum):
    """Where a rebuild runs."""

    DUCKDB = "duckdb"
    SPARK = "spark"


def parse_day(value: str | None, option: str) -> date | None:
    """``YYYY-MM-DD`` → date; a clear error naming the option otherwise."""
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ConfigError(
            f"{option} {value!r} is not a date; use YYYY-MM-DD (UTC), e.g. 2026-02-26",
            key=option,
        ) from None


def register(app: typer.Typer) -> None:
    """Add the `rebuild` command to ``app``."""

    @app.command("rebuild")
    def rebuild_command(
        ctx: typer.Context,
        layer: Annotated[
            str, typer.Option("--layer", help="silver (from bronze) or gold (from silver).")
        ],
        date_from: Annotated[
            str | None, typer.Option("--from", help="First UTC date, YYYY-MM-DD.")
        ] = None,
        date_to: Annotated[
            str | None, typer.Option("--to", help="Last UTC date (included), YYYY-MM-DD.")
        ] = None,
        engine: Annotated[
            Engine,
            typer.Option(
                "--engine",
                help="duckdb (this process) or spark (backfills at scale; see the spark settings).",
            ),
        ] = Engine.DUCKDB,
        output: OutputFormat = OUTPUT_OPTION,
    ) -> None:
        """Recompute a layer from the layer below it; without dates, every date."""
        first, last = parse_day(date_from, "--from"), parse_day(date_to, "--to")
        settings = state(ctx).settings()
        if engine is Engine.SPARK:
            from wikistream.spark.steps import rebuild_on_spark

            on_spark = rebuild_on_spark(settings, layer, first, last)
            render_mapping(on_spark.as_dict(), output, title=f"rebuild {layer} (spark)")
            return
        from wikistream.lake.refresh import rebuild

        result = rebuild(settings, layer, first, last)
        render_mapping(result.as_dict(), output, title=f"rebuild {layer}")
