"""The `wikistream` command: thin commands that parse, load settings, call one function, render."""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Annotated

import typer

from wikistream import __version__
from wikistream.cli.common import CliState
from wikistream.errors import WikiStreamError

app = typer.Typer(
    name="wikistream",
    help="Live Wikipedia edits into a trustworthy Apache Iceberg lakehouse.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"wikistream {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    data_dir: Annotated[
        Path | None,
        typer.Option(
            "--data-dir",
            envvar="WIKISTREAM_DATA_DIR",
            help="Root of everything WikiStream stores [default: ./wikistream-data].",
        ),
    ] = None,
    config: Annotated[
        Path | None,
        typer.Option("--config", help="TOML settings file.", envvar="WIKISTREAM_CONFIG"),
    ] = None,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Debug logs, tracebacks.")
    ] = False,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version.")
    ] = False,
) -> None:
    """WikiStream: live Wikipedia edits → bronze/silver/gold Iceberg tables, DQ gates, alerts."""
    ctx.obj = CliState(config_file=config, data_dir=data_dir, verbose=verbose)
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )


def _register() -> None:
    """Attach each stage's commands (imported here so `--help` stays fast and complete)."""
    from wikistream.cli import commands

    commands.register(app)


def main() -> None:
    """Console entry point: map WikiStreamError to one line and exit code 1."""
    _register()
    verbose = "-v" in sys.argv or "--verbose" in sys.argv
    try:
        code = app(standalone_mode=False)
    except WikiStreamError as exc:
        if verbose:
            logging.getLogger("wikistream").exception("command failed")
        typer.echo(f"error: {exc}", err=True)
        sys.exit(1)
    except KeyboardInterrupt:
        sys.exit(130)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        sys.exit(1)
    except Exception as exc:  # click usage errors arrive here with standalone_mode=False
        # Typer ≥ 0.20 raises its vendored click's exceptions (not click.ClickException), so
        # recognise a usage error by its interface rather than its class.
        show, exit_code = getattr(exc, "show", None), getattr(exc, "exit_code", None)
        if callable(show) and isinstance(exit_code, int):
            show()
            sys.exit(exit_code)
        raise
    # click returns (not raises) the code of typer.Exit when standalone_mode is off
    sys.exit(code if isinstance(code, int) else 0)
