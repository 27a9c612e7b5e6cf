"""`wikistream run`, `wikistream status` and the internal `wikistream worker`."""

from __future__ import annotations

import json
import threading
from typing import Annotated

import typer

from wikistream.cli.common import state
from wikistream.orchestrate.stages import resolve_stage, stage_label
from wikistream.orchestrate.worker import die_with_parent, install_stop_signals, run_stage


def worker(
    ctx: typer.Context,
    stage: Annotated[str, typer.Argument(help="Stage to run (ingest, bronze, refine, maintain).")],
    options: Annotated[str, typer.Option("--options", help="JSON options for the stage.")] = "{}",
    parent_pid: Annotated[
        int | None, typer.Option("--parent-pid", help="Exit when this process dies.")
    ] = None,
) -> None:
    """Run one pipeline stage in this process (started by `wikistream run`)."""
    die_with_parent(parent_pid)
    settings = state(ctx).settings()
    stop = threading.Event()
    install_stop_signals(stop)
    function = resolve_stage(stage)
    run_stage(settings, stage_label(stage), function, options=json.loads(options), stop=stop)


def register(app: typer.Typer) -> None:
    """Add the commands of this module."""
    app.command("worker", hidden=True)(worker)
