"""`wikistream generate`: write realistic synthetic recentchange events to a JSONL file."""

from __future__ import annotations

import time
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer

from wikistream.cli.common import OUTPUT_OPTION, OutputFormat, render_mapping, state
from wikistream.clock import parse_iso_utc
from wikistream.errors import ConfigError
from wikistream.ingest import calibration as cal


def _parse_start(text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        return parse_iso_utc(text)
    except ValueError as exc:
        raise ConfigError(
            f"--start {text!r} is not an ISO-8601 time; use e.g. 2026-02-26T15:00:00Z",
            key="--start",
        ) from exc


def register(app: typer.Typer) -> None:
    """Add the ``generate`` command to ``app``."""

    @app.command("generate")
    def generate(
        ctx: typer.Context,
        events: Annotated[int, typer.Option("--events", "-n", help="Lines to write.")],
        out: Annotated[Path, typer.Option("--out", help="Output FILE.jsonl or FILE.jsonl.gz.")],
        seed: Annotated[int, typer.Option(help="Random seed; same seed → same file.")] = 0,
        start: Annotated[
            str | None,
            typer.Option(help="ISO time of the first event [default: now minus the span]."),
        ] = None,
        rate: Annotated[
            float, typer.Option(help="Simulated events per second.")
        ] = cal.DEFAULT_RATE,
        vandals: Annotated[
            int, typer.Option(help="Planted users the seed risk rules score HIGH.")
        ] = 0,
        medium: Annotated[
            int | None,
            typer.Option(help="Planted users scored MEDIUM [default: same as --vandals]."),
        ] = None,
        late_fraction: Annotated[
            float, typer.Option(help="Share of events stamped up to 3 days in the past.")
        ] = 0.0,
        duplicate_fraction: Annotated[
            float, typer.Option(help="Share of lines that re-send an earlier event verbatim.")
        ] = 0.0,
        manifest: Annotated[
            bool, typer.Option("--manifest", help="Also write FILE.manifest.json (ground truth).")
        ] = False,
        output: OutputFormat = OUTPUT_OPTION,
    ) -> None:
        """Write realistic, schema-valid recentchange events (deterministic for a seed)."""
        from wikistream.ingest.generate import GenerateOptions, manifest_path, write_events

        settings = state(ctx).settings()
        options = GenerateOptions(
            events=events,
            seed=seed,
            start=_parse_start(start),
            rate=rate,
            vandals=vandals,
            medium=medium,
            late_fraction=late_fraction,
            duplicate_fraction=duplicate_fraction,
            target_domains=tuple(settings.ingest.target_domains),
        )
        began = time.perf_counter()
        result = write_events(options, out, manifest=manifest)
        seconds = time.perf_counter() - began
        summary = {
            "file": str(out),
            "manifest": str(manifest_path(out)) if manifest else None,
            "lines": result["lines"],
            "events": result["events"],
            "target_events": result["target_events"],
            "canaries": result["canaries"],
            "duplicates": result["duplicates"],
            "late_events": result["late_events"],
            "vandals": [u["user"] for u in result["vandals"]],
            "medium_users": [u["user"] for u in result["medium_users"]],
            "first_dt": result["arrival_time_range"]["first"],
            "last_dt": result["arrival_time_range"]["last"],
            "seconds": round(seconds, 3),
            "events_per_second": round(result["lines"] / seconds) if seconds > 0 else None,
        }
        render_mapping(summary, output, title="generated")
