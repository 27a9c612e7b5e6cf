"""`wikistream run` (the main job), `wikistream status`, and the internal `wikistream worker`."""

from __future__ import annotations

import contextlib
import json
import os
import threading
from pathlib import Path
from typing import Annotated, Any

import typer

from wikistream.cli.common import OUTPUT_OPTION, OutputFormat, render_rows, state, to_json
from wikistream.errors import ConfigError, LockHeldError
from wikistream.orchestrate.pipeline import DEFAULT_STAGES, RunOptions
from wikistream.orchestrate.stages import resolve_stage, stage_label
from wikistream.orchestrate.status import status_dir
from wikistream.orchestrate.worker import (
    die_with_parent,
    install_stop_signals,
    run_stages,
    stage_lock,
)
from wikistream.settings import ENV_PREFIX, Settings

RUN_LOCK = "run"  # run/run.lock: held by the `wikistream run` process of a data dir
EXIT_BLOCKED = 3  # `run --once` finished, but a failed DQ gate holds a layer back


def run(
    ctx: typer.Context,
    replay: Annotated[
        Path | None,
        typer.Option(
            "--replay", help="Read events from this JSONL(.gz) file, not the live stream."
        ),
    ] = None,
    speed: Annotated[
        str | None,
        typer.Option(
            "--speed",
            help="Replay pace: 1 (original), 10 (10x faster) or max [default: max with --once, "
            "else 1].",
        ),
    ] = None,
    since: Annotated[
        str | None,
        typer.Option("--since", help="Live: start this far back (2h, 3d or ISO time; ≤ 7 days)."),
    ] = None,
    once: Annotated[
        bool,
        typer.Option(
            "--once",
            help="Process all available input (with --replay: the whole file) through every "
            "stage, then exit: 0, or 3 when a failed DQ gate holds a layer back.",
        ),
    ] = False,
    mode: Annotated[
        str | None,
        typer.Option("--mode", help="continuous (default) or cycle (the seed's batch sequence)."),
    ] = None,
    interval: Annotated[
        str | None,
        typer.Option("--interval", help="Cycle mode: wait between cycles, e.g. 10m, 600s."),
    ] = None,
    stages: Annotated[
        str,
        typer.Option(
            "--stages", help="Comma-separated subset of ingest,bronze,silver,gold,dq,maintain."
        ),
    ] = ",".join(DEFAULT_STAGES),
    log_backend: Annotated[
        str | None, typer.Option("--log", help="Event log backend: sqlite (default) or kafka.")
    ] = None,
    output: OutputFormat = OUTPUT_OPTION,
) -> None:
    """Run the pipeline: ingest → event log → bronze → gates → silver → gold, with status.

    Continuous mode runs every stage as a thread of one worker process (orchestrate.workers =
    per_stage: a process each), restarts stalled or crashed stages, serves /metrics and the
    dashboard, and stops cleanly on Ctrl-C. `make run` runs this on the
    live Wikipedia stream.
    """
    cli = state(ctx)
    overrides: dict[str, Any] = {}
    if log_backend is not None:
        overrides["log"] = {"backend": log_backend}
    if mode is not None or interval is not None:
        overrides["orchestrate"] = {}
        if mode is not None:
            overrides["orchestrate"]["mode"] = mode
        if interval is not None:
            overrides["orchestrate"]["cycle_interval_s"] = _seconds(interval)
    settings = cli.settings(**overrides)
    with contextlib.ExitStack() as held:
        hold_run_lock(held, settings.data_dir)
        _run(settings, cli.config_file, overrides, replay, speed, since, once, stages, output)


def hold_run_lock(stack: contextlib.ExitStack, data_dir: Path) -> None:
    """Refuse at once when another `wikistream run` works on ``data_dir`` (any mode).

    Without it a second run would start its servers, wait for each stage lock and restart its
    workers forever, and two ``--once`` runs would race each other's commits.
    """
    try:
        stack.enter_context(stage_lock(data_dir, RUN_LOCK, wait_s=0))
    except LockHeldError:
        path = status_dir(data_dir) / f"{RUN_LOCK}.lock"
        holder = path.read_text(encoding="ascii", errors="replace").strip() or "?"
        raise LockHeldError(
            f"another `wikistream run` (pid {holder}) is running on {data_dir}; stop it first "
            f"(Ctrl-C in its terminal or kill -TERM {holder}) or use another --data-dir"
        ) from None


def _run(
    settings: Settings,
    config_file: Path | None,
    overrides: dict[str, Any],
    replay: Path | None,
    speed: str | None,
    since: str | None,
    once: bool,
    stages: str,
    output: OutputFormat,
) -> None:
    options = RunOptions(
        replay=replay,
        # a --once replay is a batch job: as fast as possible unless a pace is asked for
        speed=speed or ("max" if once else "1"),
        since=since,
        once=once,
        stages=tuple(s.strip() for s in stages.split(",") if s.strip()),
    )
    if once:
        from wikistream.orchestrate.pipeline import run_once
        from wikistream.orchestrate.worker import install_stop_signals as stop_signals

        stop = threading.Event()
        stop_signals(stop)
        summary = run_once(settings, options, stop=stop)
        if output is OutputFormat.json:
            typer.echo(to_json(summary.to_dict()))
        else:
            _print_once(summary)
        if summary.blocked:  # a scheduler (cron, Airflow, CI) must see the blocked gate
            raise typer.Exit(EXIT_BLOCKED)
        return
    _hand_down(overrides, config_file)  # the modes below start child processes
    if settings.orchestrate.mode == "cycle":
        from wikistream.orchestrate.cycle import run_cycles

        run_cycles(settings, options)
        return
    from wikistream.orchestrate.continuous import ContinuousRun

    runner = ContinuousRun(settings, options, config_file=config_file)
    runner.install_signals()
    raise typer.Exit(runner.run())


def _hand_down(overrides: dict[str, Any], config_file: Path | None) -> None:
    """Make this command's flags reach the worker and step processes it starts.

    Children load their settings themselves (file < env), so each flag becomes its environment
    variable, which outranks the file just as the flag does; without this `run --log kafka`
    would start its stages on the SQLite log.
    """
    for name, value in _flatten(overrides):
        os.environ[f"{ENV_PREFIX}{name}"] = str(value)
    if config_file is not None:
        os.environ[f"{ENV_PREFIX}CONFIG"] = str(config_file.resolve())


def _flatten(tree: dict[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    """``{"log": {"backend": "kafka"}}`` → ``[("LOG__BACKEND", "kafka")]``."""
    pairs: list[tuple[str, Any]] = []
    for key, value in tree.items():
        name = f"{prefix}{key.upper()}"
        if isinstance(value, dict):
            pairs.extend(_flatten(value, f"{name}__"))
        else:
            pairs.append((name, value))
    return pairs


def _seconds(text: str) -> float:
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    value = text.strip().lower()
    try:
        if value and value[-1] in units:
            return float(value[:-1]) * units[value[-1]]
        return float(value)
    except ValueError:
        raise ConfigError(
            f"invalid --interval {text!r}: use seconds or 30s, 10m, 1h", key="interval"
        ) from None


def _print_once(summary: Any) -> None:
    ingest = summary.ingest
    if ingest:
        run = ingest.get("run", {})
        typer.echo(
            f"ingest: received {run.get('received', 0):,}, appended {run.get('appended', 0):,}, "
            f"DLQ {run.get('dead_lettered', 0):,}, filtered {run.get('filtered', 0):,}, "
            f"duplicates {run.get('duplicates', 0):,}"
        )
    bronze = summary.bronze
    if bronze:
        typer.echo(
            f"bronze: {bronze.get('rows_written', 0):,} rows in {bronze.get('commits', 0)} commits"
            f" (DLQ {bronze.get('dead_lettered', 0):,})"
        )
    silver_rows = sum(s.get("rows_out", 0) for s in summary.silver)
    gold_dates = sorted({d for g in summary.gold for d in g.get("dates", [])})
    typer.echo(f"silver: {silver_rows:,} rows; gold: {len(gold_dates)} date(s) refreshed")
    for gate in summary.gates:
        typer.echo(f"gate: {gate['summary']}")
    for alert in summary.alerts:
        where = ", ".join(alert["delivered"]) or "nowhere"
        failed = "; ".join(f"{k}: {v}" for k, v in alert["failed"].items())
        typer.echo(
            f"ALERT {alert['title']} sent to {where}" + (f" (FAILED: {failed})" if failed else ""),
            err=True,
        )
    for layer, run_id in summary.blocked.items():
        typer.echo(
            f"BLOCKED: {layer} waits on failed gate {run_id}; see `wikistream dq results "
            f"--run-id {run_id} --failed`",
            err=True,
        )


def status(ctx: typer.Context, output: OutputFormat = OUTPUT_OPTION) -> None:
    """One screen: each stage's state, lag, freshness, last gate results and active alarms."""
    from wikistream.orchestrate.report import pipeline_status

    body = pipeline_status(state(ctx).settings())
    failed = bool(body["errors"]) and not body["tables"]  # nothing to show: exit 1 for scripts
    if output is OutputFormat.json:
        typer.echo(to_json(body))
        for error in body["errors"]:
            typer.echo(f"error: {error}", err=True)
        raise typer.Exit(1 if failed else 0)
    if body["stages"]:
        render_rows(body["stages"], output, title="stages")
    else:
        typer.echo("stages: none reported (no continuous `wikistream run` on this data dir yet)")
    if body["tables"]:
        render_rows(body["tables"], output, title="tables")
    if body["gates"]:
        render_rows(body["gates"], output, title="latest data-quality gates")
    elif body["tables"]:
        typer.echo("data-quality gates: none has run yet")
    if body["alarms"]:
        render_rows(body["alarms"], output, title="ACTIVE ALARMS")
    else:
        typer.echo("no active alarms")
    for error in body["errors"]:
        typer.echo(f"error: {error}", err=True)
    if failed:
        raise typer.Exit(1)


def worker(
    ctx: typer.Context,
    stage: Annotated[
        str,
        typer.Argument(
            help="Stage to run (ingest, bronze, refine, maintain); several joined by + run as "
            "threads of this one process."
        ),
    ],
    options: Annotated[str, typer.Option("--options", help="JSON options for the stage.")] = "{}",
    parent_pid: Annotated[
        int | None, typer.Option("--parent-pid", help="Exit when this process dies.")
    ] = None,
) -> None:
    """Run pipeline stages in this process (started by `wikistream run`)."""
    die_with_parent(parent_pid)
    settings = state(ctx).settings()
    stop = threading.Event()
    install_stop_signals(stop)
    members = [(stage_label(name), resolve_stage(name)) for name in stage.split("+")]
    run_stages(settings, members, options=json.loads(options), stop=stop)


def step(
    ctx: typer.Context,
    spec: Annotated[str, typer.Argument(help="module:function of the step.")],
    input_json: Annotated[
        str, typer.Option("--input", help="JSON from the previous steps.")
    ] = "{}",
) -> None:
    """Run one cycle step in this process and print its JSON result (used by cycle mode)."""
    import importlib

    module_name, _, attr = spec.partition(":")
    try:
        function = getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError) as exc:
        raise ConfigError(f"unknown cycle step {spec!r}: {exc}", key="step") from exc
    result = function(state(ctx).settings(), json.loads(input_json))
    typer.echo(json.dumps(result, default=str))


def register(app: typer.Typer) -> None:
    """Add the commands of this module."""
    app.command("run")(run)
    app.command("status")(status)
    app.command("worker", hidden=True)(worker)
    app.command("step", hidden=True)(step)
